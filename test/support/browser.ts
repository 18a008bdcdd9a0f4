/**
 * Chromium through playwright-core (the machine's `/usr/bin/chromium`, never a downloaded browser), and the
 * shopper's steps: shop pages, the widget's events, the sandbox's hosted page, screenshots.
 * Page code is passed as strings: this package type-checks for Node, without the DOM library.
 */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type FrameLocator,
  type Page,
} from 'playwright-core';

export type { Browser, BrowserContext, Page };

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

/** Generous, bounded waits: a shared 2-core machine can be slow, but nothing may hang. */
export const STEP_TIMEOUT_MS = 20_000;

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
    timeout: 30_000,
  });
}

/** Every `galaxy-pay-*` event the page sees, recorded from the first script on (also after a redirect). */
const RECORD_EVENTS = `(() => {
  window.__galaxyPayEvents = [];
  for (const type of ['galaxy-pay-open', 'galaxy-pay-result', 'galaxy-pay-cancel', 'galaxy-pay-error', 'galaxy-pay-close']) {
    document.addEventListener(type, event => window.__galaxyPayEvents.push({ type, detail: event.detail }), true);
  }
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', event => {
    window.__cspViolations.push({ directive: event.violatedDirective, blocked: event.blockedURI });
  });
})();`;

/** A fresh browser context (own storage) that records the widget's events and CSP violations. */
export async function newShopperContext(
  browser: Browser,
  options: BrowserContextOptions = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  await context.addInitScript({ content: RECORD_EVENTS });
  return context;
}

export interface RecordedEvent {
  type: string;
  detail: Record<string, unknown> | null;
}

export async function recordedEvents(page: Page): Promise<RecordedEvent[]> {
  return (await page.evaluate('window.__galaxyPayEvents')) as RecordedEvent[];
}

/** Waits for the first event of `type` and returns it. */
export async function waitForWidgetEvent(page: Page, type: string): Promise<RecordedEvent> {
  // A function, not a string: a string predicate is eval'd in the page, which its CSP forbids.
  await page.waitForFunction(
    wanted =>
      (globalThis as unknown as { __galaxyPayEvents: RecordedEvent[] }).__galaxyPayEvents.some(
        event => event.type === wanted,
      ),
    type,
    { timeout: STEP_TIMEOUT_MS, polling: 100 },
  );
  return (await recordedEvents(page)).find(event => event.type === type)!;
}

/** Opens a shop page and waits until its products are on screen. */
export async function openShop(page: Page, shopUrl: string, path = '/'): Promise<void> {
  await page.goto(`${shopUrl}${path}`);
  await page.locator('body[data-ready="true"]').waitFor();
}

/** Adds products to the cart and places the order; returns the order reference the shop shows. */
export async function placeOrder(page: Page, productIds: string[]): Promise<string> {
  for (const id of productIds) await page.locator(`[data-add="${id}"]`).click();
  await page.locator('#place-order').click();
  return (await page.locator('#order-ref').textContent())!.trim();
}

export async function chooseMode(page: Page, mode: 'auto' | 'modal' | 'popup' | 'redirect') {
  await page.locator('#mode').selectOption(mode);
}

/** The pay button inside the widget's shadow root (Playwright's CSS pierces open shadow roots). */
export function payButton(page: Page) {
  return page.locator('galaxy-pay-button [part="button"]');
}

/** The hosted page inside the widget's modal. */
export function checkoutFrame(page: Page): FrameLocator {
  return page.frameLocator('galaxy-pay-button iframe');
}

export interface TestCardInput {
  method: 'DOMESTIC' | 'INTERNATIONAL';
  number: string;
  date: string;
  cvv?: string;
  holder?: string;
  /** The OTP to type when the card asks for one (the sandbox's is `otp`). */
  otp?: string;
}

export const CARDS = {
  domesticOtp: { method: 'DOMESTIC', number: '9704000000000018', date: '03/07', otp: 'otp' },
  domesticDeclined: { method: 'DOMESTIC', number: '9704000000000026', date: '03/07', otp: 'otp' },
  international3ds: {
    method: 'INTERNATIONAL',
    number: '5506920809243667',
    date: '01/39',
    cvv: '100',
    otp: 'otp',
  },
  internationalNon3ds: {
    method: 'INTERNATIONAL',
    number: '4456530000000064',
    date: '12/30',
    cvv: '111',
  },
  internationalDeclined: {
    method: 'INTERNATIONAL',
    number: '4000000000000002',
    date: '01/39',
    cvv: '100',
  },
} as const satisfies Record<string, TestCardInput>;

/** Pays on the sandbox's hosted page (a popup, the page itself, or the modal's frame). */
export async function payOnHostedPage(
  surface: Page | FrameLocator,
  card: TestCardInput,
  options: { screenshotOf?: Page; name?: string } = {},
): Promise<void> {
  await surface.locator(`a[href*="method=${card.method}"]`).click();
  if (card.method === 'DOMESTIC') {
    await surface.locator('select[name="sourceType"]').selectOption({ index: 1 });
    await surface.locator('input[name="cardIssueDate"]').fill(card.date);
  } else {
    await surface.locator('input[name="cardExpireDate"]').fill(card.date);
    await surface.locator('input[name="cardVerificationValue"]').fill(card.cvv ?? '');
  }
  await surface.locator('input[name="cardNumber"]').fill(card.number);
  await surface.locator('input[name="cardHolderName"]').fill(card.holder ?? 'NGUYEN VAN A');
  if (options.screenshotOf && options.name) await screenshot(options.screenshotOf, options.name);
  await surface.locator('form[action*="/card"] button[type="submit"]').click();
  if (card.otp !== undefined) {
    await surface.locator('input[name="otp"]').fill(card.otp);
    if (options.screenshotOf && options.name) {
      await screenshot(options.screenshotOf, `${options.name}-otp`);
    }
    await surface.locator('form[action*="/otp"] button[type="submit"]').click();
  }
}

/** Presses "cancel" on the hosted page. */
export async function cancelOnHostedPage(surface: Page | FrameLocator): Promise<void> {
  await surface.locator('form[action*="/cancel"] button[type="submit"]').first().click();
}

/** Saves a PNG to `test/artifacts/<name>.png` (git-ignored). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** Runs `journey` in a fresh context and page, and always closes them. */
export async function withShopper<T>(
  browser: Browser,
  journey: (page: Page, context: BrowserContext) => Promise<T>,
  options: BrowserContextOptions = {},
): Promise<T> {
  const context = await newShopperContext(browser, options);
  try {
    return await journey(await context.newPage(), context);
  } finally {
    await context.close();
  }
}
