/**
 * A shopper in their own browser context, and what they do and see: the shop's pages, the checkout and its
 * options, the pay button and the hosted page it opens, the widget's events, the receipt and notices, and
 * the demo's back office and bank. Every wait is on something the page shows or records.
 */

import type { BrowserContext, Frame, Page } from 'playwright-core';
import { STEP_TIMEOUT_MS, screenshot } from './browser.js';
import { HostedPage } from './hosted-page.js';

/** `galaxy-pay-result`'s detail. */
export interface ResultDetail {
  status: string;
  sessionId: string;
  orderRef: string;
  amount: number;
  currency: string;
  transactionId: string | null;
  code: string;
  message: string;
}

/** What each widget event carries (the fields the walks read). */
export interface EventDetails {
  'galaxy-pay-open': { mode: string; sessionId: string };
  'galaxy-pay-result': ResultDetail;
  'galaxy-pay-cancel': { reason: string; sessionId: string; orderRef: string };
  'galaxy-pay-error': { code: string; retryable: boolean };
  'galaxy-pay-close': unknown;
}

/** The widget's five DOM events. */
export type WidgetEventType = keyof EventDetails;

export interface RecordedEvent<T extends WidgetEventType = WidgetEventType> {
  type: T;
  detail: EventDetails[T];
}

/** How the pay button shows the hosted page (the shop's "How to open the payment page" list). */
export type Presentation = 'auto' | 'modal' | 'popup' | 'redirect';

export interface CheckoutChoices {
  /** The shop page: `/` (script tag), `/spa` (ESM import), with a query such as `?lang=en`. */
  path?: string;
  mode?: Presentation;
  /** A checkout option's id: `opt-saved`, `opt-manual`, `method-qrpay`… */
  option?: string;
}

/** The URLs a shopper's journey reaches. */
export interface ShopperStack {
  shopUrl: string;
  sandboxUrl: string;
}

export class Shopper {
  constructor(
    readonly page: Page,
    readonly context: BrowserContext,
    private readonly stack: ShopperStack,
  ) {}

  // The shop.

  /** Opens a shop page and waits until its products are on screen. */
  async openShop(path = '/'): Promise<void> {
    await this.page.goto(`${this.stack.shopUrl}${path}`);
    await this.page.locator('body[data-ready="true"]').waitFor();
  }

  /** Adds products to the cart and places the order; returns the order reference the shop shows. */
  async placeOrder(products: string[]): Promise<string> {
    for (const id of products) await this.page.locator(`[data-add="${id}"]`).click();
    await this.page.locator('#place-order').click();
    return this.text('#order-ref');
  }

  async choosePresentation(mode: Presentation): Promise<void> {
    await this.page.locator('#mode').selectOption(mode);
  }

  /** Ticks a checkout option and waits until the pay button is ready again. */
  async chooseOption(id: string): Promise<void> {
    await this.page.locator(`#${id}`).check();
    await this.page.locator('galaxy-pay-button:not([disabled])').waitFor();
  }

  /** Opens the shop, orders `products`, and makes the checkout's choices; returns the order reference. */
  async checkout(products: string[], choices: CheckoutChoices = {}): Promise<string> {
    await this.openShop(choices.path);
    const orderRef = await this.placeOrder(products);
    if (choices.mode) await this.choosePresentation(choices.mode);
    if (choices.option) await this.chooseOption(choices.option);
    return orderRef;
  }

  /** The pay button inside the widget's shadow root (Playwright's CSS pierces open shadow roots). */
  payButton() {
    return this.page.locator('galaxy-pay-button [part="button"]');
  }

  async pressPay(): Promise<void> {
    await this.payButton().click();
  }

  /** Presses pay where the widget opens a popup; returns the popup and the hosted page in it. */
  async pressPayForPopup(): Promise<{ popup: Page; hostedPage: HostedPage }> {
    const [popup] = await Promise.all([this.context.waitForEvent('page'), this.pressPay()]);
    return { popup, hostedPage: new HostedPage(popup, popup) };
  }

  /** Presses pay in redirect mode; returns once the tab is on the hosted page. */
  async pressPayForRedirect(): Promise<HostedPage> {
    await Promise.all([
      this.page.waitForURL(url => url.href.startsWith(this.stack.sandboxUrl)),
      this.pressPay(),
    ]);
    return new HostedPage(this.page, this.page);
  }

  /** The hosted page inside the widget's dialog. */
  get hostedPage(): HostedPage {
    return new HostedPage(this.page.frameLocator('galaxy-pay-button iframe'), this.page);
  }

  /** The hosted page inside the dialog as a `Frame`, for waits on its own document. */
  async hostedPageFrame(): Promise<Frame> {
    const origin = new URL(this.stack.sandboxUrl).origin;
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    for (;;) {
      const frame = this.page.frames().find(f => f.url().startsWith(origin));
      if (frame) return frame;
      if (Date.now() > deadline) throw new Error('no hosted page frame');
      await this.page
        .waitForEvent('framenavigated', { timeout: STEP_TIMEOUT_MS })
        .catch(() => undefined);
    }
  }

  /** The widget's dialog (open or not). */
  dialog(state: '' | '[open]' = '') {
    return this.page.locator(`galaxy-pay-button dialog${state}`);
  }

  /** Closes the widget's dialog with its ✕. */
  async closeDialog(): Promise<void> {
    await this.dialog().locator('.x').click();
  }

  // The widget's events.

  /** Waits for the first event of any of `types` and returns it. */
  async firstEvent<T extends WidgetEventType>(...types: T[]): Promise<RecordedEvent<T>> {
    // A function, not a string: a string predicate is eval'd in the page, which its CSP forbids.
    await this.page.waitForFunction(
      wanted =>
        (globalThis as unknown as { __galaxyPayEvents: RecordedEvent[] }).__galaxyPayEvents.some(
          event => wanted.includes(event.type),
        ),
      types as string[],
      { timeout: STEP_TIMEOUT_MS, polling: 100 },
    );
    const events = await this.events();
    return events.find((event): event is RecordedEvent<T> => types.includes(event.type as T))!;
  }

  /** Waits for the first event of `type` and returns its detail. */
  async event<T extends WidgetEventType>(type: T): Promise<EventDetails[T]> {
    return (await this.firstEvent(type)).detail;
  }

  /** Waits for the first `galaxy-pay-result` and returns its detail. */
  result(): Promise<ResultDetail> {
    return this.event('galaxy-pay-result');
  }

  /** Every widget event so far, in order. */
  async events(): Promise<RecordedEvent[]> {
    return (await this.page.evaluate('window.__galaxyPayEvents')) as RecordedEvent[];
  }

  async eventTypes(): Promise<string[]> {
    return (await this.events()).map(event => event.type);
  }

  /** Every `galaxy-pay-result` so far. */
  async results(): Promise<ResultDetail[]> {
    return (await this.events())
      .filter(
        (event): event is RecordedEvent<'galaxy-pay-result'> => event.type === 'galaxy-pay-result',
      )
      .map(event => event.detail);
  }

  /** The page's `securitypolicyviolation` events so far. */
  async cspViolations(): Promise<unknown[]> {
    return (await this.page.evaluate('window.__cspViolations')) as unknown[];
  }

  // What the shop shows.

  /** Waits for the receipt (optionally with its `data-status`). */
  async receipt(status?: string): Promise<void> {
    await this.page.locator(status ? `#receipt[data-status="${status}"]` : '#receipt').waitFor();
  }

  /** Waits for the shop's notice of `tone` and returns its text. */
  async notice(tone: 'info' | 'warn' | 'error'): Promise<string> {
    const notice = this.page.locator(`.notice.${tone}`);
    await notice.waitFor();
    return String(await notice.textContent());
  }

  /** The trimmed text of the first element that matches. */
  async text(selector: string): Promise<string> {
    return String(await this.page.locator(selector).first().textContent()).trim();
  }

  screenshot(name: string): Promise<void> {
    return screenshot(this.page, name);
  }

  // The demo's other pages.

  /** Opens the back office (optionally in English, optionally on one order) and waits for its lists. */
  async openBackoffice(orderRef = '', query = ''): Promise<void> {
    await this.page.goto(
      `${this.stack.shopUrl}/backoffice${query}${orderRef ? `#${orderRef}` : ''}`,
    );
    await this.backofficeReady();
  }

  async backofficeReady(): Promise<void> {
    await this.page.locator('body[data-ready="true"]').waitFor();
  }

  /** The status badge of the payment shown in the back office's detail. */
  backofficePayment(status: string) {
    return this.page.locator(`#detail .payment-status [data-status="${status}"]`).first();
  }

  /** An operation's row in the back office's detail, once it has `state`. */
  backofficeOperation(kind: string, state = '') {
    const withState = state ? `[data-state="${state}"]` : '';
    return this.page.locator(`#detail [data-operation="${kind}"]${withState}`);
  }

  /** Pays (or declines) a waiting QR payment in the demo bank, in its own tab of the same context. */
  async scanInDemoBank(
    orderRef: string,
    decision: 'approve' | 'decline' = 'approve',
  ): Promise<void> {
    const bank = await this.context.newPage();
    try {
      await bank.goto(`${this.stack.shopUrl}/bank`);
      // The bank lists waiting payments itself (it refreshes on its own): wait for this order's.
      const row = bank.locator(`[data-order="${orderRef}"]`);
      await row.waitFor();
      await row.locator(`[data-${decision}]`).click();
      await bank.locator('#bank-status').waitFor();
    } finally {
      await bank.close();
    }
  }
}
