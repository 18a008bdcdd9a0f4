/**
 * `pnpm --filter @galaxy-pay/test run screenshot`: regenerates `docs/demo.png` for the root README: the demo
 * shop with the Galaxy Pay dialog open on the sandbox's hosted card form.
 */

import { fileURLToPath } from 'node:url';
import { startDemo } from '@galaxy-pay/demo';
import {
  checkoutFrame,
  chooseMode,
  launchBrowser,
  newShopperContext,
  openShop,
  payButton,
  placeOrder,
} from './browser.js';

const target = fileURLToPath(new URL('../../docs/demo.png', import.meta.url));
const stack = await startDemo();
const browser = await launchBrowser();
try {
  const context = await newShopperContext(browser, { viewport: { width: 1200, height: 760 } });
  const page = await context.newPage();
  await openShop(page, stack.shopUrl);
  await placeOrder(page, ['robusta', 'phin', 'lotus-tea']);
  await chooseMode(page, 'modal');
  await payButton(page).click();
  const frame = checkoutFrame(page);
  await frame.locator('a[href*="method=DOMESTIC"]').click();
  await frame.locator('input[name="cardNumber"]').fill('9704000000000018');
  await frame.locator('input[name="cardHolderName"]').fill('NGUYEN VAN A');
  await page.screenshot({ path: target });
  console.log(`wrote ${target}`);
} finally {
  await browser.close();
  await stack.close();
}
