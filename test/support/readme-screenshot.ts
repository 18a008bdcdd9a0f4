/**
 * `pnpm --filter @galaxy-pay/test run screenshot`: regenerates `docs/demo.png` for the root README: the demo
 * shop with the Galaxy Pay dialog open on the sandbox's hosted card form.
 */

import { fileURLToPath } from 'node:url';
import { startDemo } from '@galaxy-pay/demo';
import { launchBrowser, newShopperContext } from '../e2e/support/browser.js';
import { CARDS } from '../e2e/support/hosted-page.js';
import { Shopper } from '../e2e/support/shopper.js';

const target = fileURLToPath(new URL('../../docs/demo.png', import.meta.url));
const stack = await startDemo();
const browser = await launchBrowser();
try {
  const context = await newShopperContext(browser, { viewport: { width: 1200, height: 760 } });
  const shopper = new Shopper(await context.newPage(), context, stack);
  await shopper.checkout(['robusta', 'phin', 'lotus-tea'], { mode: 'modal' });
  await shopper.pressPay();
  const { hostedPage } = shopper;
  await hostedPage.chooseMethod('DOMESTIC');
  await hostedPage.locator('input[name="cardNumber"]').fill(CARDS.domesticOtp.number);
  await hostedPage.locator('input[name="cardHolderName"]').fill('NGUYEN VAN A');
  await shopper.page.screenshot({ path: target });
  console.log(`wrote ${target}`);
} finally {
  await browser.close();
  await stack.close();
}
