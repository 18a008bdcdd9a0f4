/**
 * `useWalk()`: the one set-up of every end-to-end file. Called in a `describe`, it starts what the walks
 * need before the first test (the demo stack with test timings, or the file's own, and Chromium) and
 * closes it after the last; sandbox faults a test sets last for that test only. Its handles read as the
 * story: `walk.shopper(…)` is a visitor in a fresh browser context, `walk.storedSession(…)` is what the
 * signer stored, `walk.shopHears(…)` is the shop's back end learning of a payment through the webhook.
 */

import { after, afterEach, before } from 'node:test';
import type { DemoStack } from '@galaxy-pay/demo';
import {
  launchBrowser,
  newShopperContext,
  type Browser,
  type BrowserContextOptions,
} from './browser.js';
import { Shopper } from './shopper.js';
import {
  adminOrder,
  payWithoutBrowser,
  sandboxIpns,
  setSandboxFaults,
  shopHears,
  startTestStack,
  storedSession,
} from './stack.js';

/** What a walk needs of a stack (the demo's, or one a file assembles itself). */
export type WalkStack = Pick<
  DemoStack,
  'shopUrl' | 'sandboxUrl' | 'signerUrl' | 'store' | 'orders' | 'close'
>;

export interface WalkOptions<S extends WalkStack> {
  /** Starts the stack (default: the demo stack with test timings). */
  stack?: () => Promise<S>;
  /** Whether the walks use a browser (default: yes). */
  browser?: boolean;
}

export interface Walk<S extends WalkStack> {
  readonly stack: S;
  readonly browser: Browser;
  /** Runs `journey` as a new visitor: a fresh context (own cookies and storage) on `device`, closed after. */
  shopper<T>(journey: (shopper: Shopper) => Promise<T>, device?: BrowserContextOptions): Promise<T>;
  /** The signer's stored session and its evidence trail. */
  storedSession(sessionId: string): ReturnType<typeof storedSession>;
  /** Waits until the shop's own record of the order (kept by the signer's webhook) has `status`. */
  shopHears(orderRef: string, status: string): Promise<void>;
  /** Sets the sandbox's faults (e.g. `no-ipn`) until the end of the current test. */
  sandboxFaults(faults: string): Promise<void>;
  /** The IPN attempts the sandbox made for a transaction. */
  sandboxIpns(transactionId: string): ReturnType<typeof sandboxIpns>;
}

/** The demo stack's extras: what the back office sees, and a payment made without a browser. */
export interface DemoWalk extends Walk<DemoStack> {
  adminOrder(orderRef: string): ReturnType<typeof adminOrder>;
  /** An order paid with the domestic card through the APIs only; the shop has heard of it. */
  paidOrder(items: Array<{ id: string; quantity: number }>): Promise<string>;
}

export function useWalk(options?: { browser?: boolean }): DemoWalk;
export function useWalk<S extends WalkStack>(
  options: WalkOptions<S> & { stack: () => Promise<S> },
): Walk<S>;
export function useWalk(options: WalkOptions<WalkStack> = {}): Walk<WalkStack> {
  const start = options.stack ?? (() => startTestStack());
  let stack: WalkStack | undefined;
  let browser: Browser | undefined;
  let faultsSet = false;

  before(async () => {
    [stack, browser] = await Promise.all([
      start(),
      options.browser === false ? undefined : launchBrowser(),
    ]);
  });
  afterEach(async () => {
    if (!faultsSet) return;
    faultsSet = false;
    await setSandboxFaults(started(), '');
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  const started = () => {
    if (!stack) throw new Error('the walk has not started (useWalk() belongs in a describe)');
    return stack;
  };
  const demo = () => started() as DemoStack;

  const walk: DemoWalk = {
    get stack() {
      return demo();
    },
    get browser() {
      if (!browser) throw new Error('this walk has no browser');
      return browser;
    },
    async shopper(journey, device = {}) {
      const context = await newShopperContext(walk.browser, device);
      try {
        return await journey(new Shopper(await context.newPage(), context, started()));
      } finally {
        await context.close();
      }
    },
    storedSession: sessionId => storedSession(started(), sessionId),
    shopHears: (orderRef, status) => shopHears(started(), orderRef, status),
    async sandboxFaults(faults) {
      faultsSet = true;
      await setSandboxFaults(started(), faults);
    },
    sandboxIpns: transactionId => sandboxIpns(started(), transactionId),
    adminOrder: orderRef => adminOrder(demo(), orderRef),
    paidOrder: items => payWithoutBrowser(demo(), items),
  };
  return walk;
}
