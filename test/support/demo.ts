/**
 * Steps of the demo's own pages beyond the checkout: the payment options, the back office, the demo bank,
 * a phone. Page code is passed as functions that read `globalThis as unknown as PageGlobals` (this package
 * has no DOM library; a function runs in the page, so it cannot call helpers of this module).
 */

import type { BrowserContextOptions, Frame, Page } from 'playwright-core';
import { STEP_TIMEOUT_MS } from './browser.js';

/** A phone as the walk used: 390 × 844, touch, mobile viewport meta honoured. */
export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
};

/** The shape of the page globals the functions below read. */
export interface PageGlobals {
  document: {
    activeElement: { getAttribute(name: string): string | null } | null;
    documentElement: { scrollWidth: number; clientWidth: number };
    querySelector(selector: string): {
      getBoundingClientRect(): {
        top: number;
        bottom: number;
        left: number;
        right: number;
        height: number;
      };
    } | null;
  };
  innerHeight: number;
}

/** The sandbox's hosted page inside the widget's dialog, as a `Frame` (for waits on its own document). */
export async function gatewayFrame(page: Page, sandboxUrl: string): Promise<Frame> {
  const origin = new URL(sandboxUrl).origin;
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const frame = page.frames().find(f => f.url().startsWith(origin));
    if (frame) return frame;
    if (Date.now() > deadline) throw new Error('no gateway frame');
    await page.waitForEvent('framenavigated', { timeout: STEP_TIMEOUT_MS }).catch(() => undefined);
  }
}

/** Ticks a checkout option (`#opt-saved`, `#opt-manual`, `#method-qrpay`…) and waits for the button to be ready. */
export async function chooseOption(page: Page, id: string): Promise<void> {
  await page.locator(`#${id}`).check();
  await page.locator('galaxy-pay-button:not([disabled])').waitFor();
}

/** Opens the back office (optionally on one order) and waits until its lists are loaded. */
export async function openBackoffice(page: Page, shopUrl: string, orderRef = ''): Promise<void> {
  await page.goto(`${shopUrl}/backoffice${orderRef ? `#${orderRef}` : ''}`);
  await page.locator('body[data-ready="true"]').waitFor();
}

/** The status badge of the payment shown in the back office's detail. */
export function backofficePaymentStatus(page: Page, status: string) {
  return page.locator(`#detail .payment-status [data-status="${status}"]`).first();
}

/** Pays (or declines) a waiting QR payment in the demo bank, in its own page of the same context. */
export async function scanInDemoBank(
  page: Page,
  shopUrl: string,
  orderRef: string,
  decision: 'approve' | 'decline' = 'approve',
): Promise<void> {
  const bank = await page.context().newPage();
  try {
    await bank.goto(`${shopUrl}/bank`);
    // The bank lists waiting payments itself (it refreshes every 1.5 s): wait for this order's.
    const row = bank.locator(`[data-order="${orderRef}"]`);
    await row.waitFor();
    await row.locator(`[data-${decision}]`).click();
    await bank.locator('#bank-status').waitFor();
  } finally {
    await bank.close();
  }
}
