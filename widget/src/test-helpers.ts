/** Browser-side helpers for the widget tests: the real stack through WTR server commands. */

import { executeServerCommand } from '@web/test-runner-commands';
import { fixture, html, oneEvent } from '@open-wc/testing';
import type { SinonSpy } from 'sinon';
import 'axe-core/axe.min.js';
import type { CheckoutController } from './checkout-controller.js';
import type { GalaxyPayButton } from './galaxy-pay-button.js';
import './index.js';

export interface StackInfo {
  signerUrl: string;
  sandboxUrl: string;
  /** A signer whose sessions expire after a few seconds. */
  shortSignerUrl: string;
}

let info: Promise<StackInfo> | undefined;

/** URLs of the real signer and sandbox started by `test-server/stack.ts`. */
export const stack = (): Promise<StackInfo> =>
  (info ??= executeServerCommand<StackInfo, undefined>('galaxy-pay:stack'));

/** Finishes the session's payment in the sandbox; answers the gateway's browser callback URL. */
export const completePayment = (sessionId: string, outcome: 'success' | 'failure' | 'cancel') =>
  executeServerCommand<{ callback: string | null }, { sessionId: string; outcome: string }>(
    'galaxy-pay:complete',
    { sessionId, outcome },
  );

/** A customer handle for `customerRef`, minted by the signer's admin API (or an already expired one). */
export const customerHandle = (customerRef: string, expired = false) =>
  executeServerCommand<string, { customerRef: string; expired: boolean }>(
    'galaxy-pay:customer-handle',
    { customerRef, expired },
  );

/** Gives `customerRef` a saved card (a paid `saveCard` session); answers the customer's cards. */
export const saveCard = (customerRef: string) =>
  executeServerCommand<
    { cards: Array<{ tokenId: string; maskedNumber: string }> },
    { customerRef: string }
  >('galaxy-pay:save-card', { customerRef });

/** A fresh order reference (one open session per order at the signer); `faults` become sandbox faults. */
export const newOrder = (...faults: string[]): string =>
  [`W-${Math.random().toString(36).slice(2, 10)}`, ...faults].join('--');

/** A button wired to the real signer (or `signer`), for a fresh order unless `orderRef` is given. */
export async function button(
  attributes: {
    mode?: string;
    orderRef?: string;
    lang?: string;
    signer?: string;
    customerHandle?: string;
    paymentMethod?: string;
  } = {},
): Promise<GalaxyPayButton> {
  const { signerUrl } = await stack();
  return fixture<GalaxyPayButton>(
    html`<galaxy-pay-button
      signer=${attributes.signer ?? signerUrl}
      order-ref=${attributes.orderRef ?? newOrder()}
      mode=${attributes.mode ?? 'modal'}
      lang=${attributes.lang ?? 'vi'}
      customer-handle=${attributes.customerHandle ?? ''}
      payment-method=${attributes.paymentMethod ?? ''}
    ></galaxy-pay-button>`,
  );
}

/** `el` and every event it dispatches from now on (`record`). */
export async function recorded(el: GalaxyPayButton | Promise<GalaxyPayButton>) {
  const element = await el;
  return { el: element, events: record(element) };
}

/** A button (`button`) and its events from now on. */
export const recordedButton = (attributes?: Parameters<typeof button>[0]) =>
  recorded(button(attributes));

/** Closes `el`'s checkout and waits for the signer's confirmation of the cancel. */
export async function closeAndCancel(el: GalaxyPayButton) {
  el.close();
  return (await oneEvent(el, 'galaxy-pay-cancel')).detail;
}

export const shadow = (el: GalaxyPayButton) => el.shadowRoot!;
export const payButton = (el: GalaxyPayButton) =>
  shadow(el).querySelector<HTMLButtonElement>('[part=button]')!;
export const dialogOf = (el: GalaxyPayButton) => shadow(el).querySelector('dialog')!;
export const frameOf = (el: GalaxyPayButton) => shadow(el).querySelector('iframe');
/** The element's (private) controller: the payment under way, for tests that forge what only it knows. */
export const checkoutOf = (el: GalaxyPayButton) =>
  (el as unknown as { checkout: CheckoutController }).checkout;

/** Clicks the button and waits for `galaxy-pay-open`. */
export async function clickAndOpen(el: GalaxyPayButton) {
  const opened = oneEvent(el, 'galaxy-pay-open');
  payButton(el).click();
  return (await opened).detail;
}

/** Every event of the five the element dispatches, in order. */
export function record(el: HTMLElement): Array<{ type: string; detail: unknown }> {
  const seen: Array<{ type: string; detail: unknown }> = [];
  for (const type of ['open', 'result', 'cancel', 'error', 'close']) {
    el.addEventListener(`galaxy-pay-${type}`, event =>
      seen.push({ type, detail: (event as Event & { detail: unknown }).detail }),
    );
  }
  return seen;
}

/** Polls `check` until it returns something truthy (each poll in a task of its own). */
export async function until<T>(check: () => T, timeoutMs = 8000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise(resolve => setTimeout(resolve, 25));
  }
}

/**
 * The next `message` this window receives that `match` accepts. A listener added now runs after the element's
 * own (added when its payment opened): once this resolves, the element has handled that message.
 */
export function nextMessage(match: (event: MessageEvent) => boolean): Promise<MessageEvent> {
  return new Promise(resolve => {
    const listener = (event: MessageEvent) => {
      if (!match(event)) return;
      removeEventListener('message', listener);
      resolve(event);
    };
    addEventListener('message', listener);
  });
}

/** The body of every `POST {signer}/sessions` this page made, through a spy on fetch. */
export const sessionPosts = (spy: SinonSpy) =>
  spy
    .getCalls()
    .filter(call => String(call.args[0]).endsWith('/sessions'))
    .map(call => JSON.parse(String((call.args[1] as RequestInit).body)) as Record<string, unknown>);

/** axe-core's accessibility violations in `context`, one `id: help` line each. */
export async function axeViolations(context: Element): Promise<string[]> {
  type Result = { violations: Array<{ id: string; help: string }> };
  const axe = (window as unknown as { axe: { run(context: Element): Promise<Result> } }).axe;
  const { violations } = await axe.run(context);
  return violations.map(v => `${v.id}: ${v.help}`);
}
