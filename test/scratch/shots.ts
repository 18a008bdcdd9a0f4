import { startDemo } from '@galaxy-pay/demo';
import { launchBrowser } from '../support/browser.js';
import { PHONE } from '../support/demo.js';
const stack = await startDemo();
const browser = await launchBrowser();
try {
  for (const [path, name] of [['/?lang=vi', 'vi'], ['/?lang=en', 'en'], ['/backoffice?lang=en', 'bo-en'], ['/bank?lang=vi', 'bank']]) {
    const ctx = await browser.newContext(PHONE);
    const page = await ctx.newPage();
    await page.goto(stack.shopUrl + path);
    await page.locator('body[data-ready="true"]').waitFor();
    await page.screenshot({ path: `artifacts/scratch-${name}.png`, clip: { x: 0, y: 0, width: 390, height: 300 } });
    await ctx.close();
  }
} finally { await browser.close(); await stack.close(); }
