/**
 * Chromium through playwright-core (the machine's `/usr/bin/chromium`, never a downloaded browser): a
 * context per shopper that records the widget's events and CSP violations from the first script on, the
 * devices the walks use, and screenshots. Page code is passed as functions or strings: this package
 * type-checks for Node, without the DOM library.
 */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
} from 'playwright-core';

export type { Browser, BrowserContext, BrowserContextOptions, Page };

const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url));

/** Generous, bounded waits: a shared 2-core machine can be slow, but nothing may hang. */
export const STEP_TIMEOUT_MS = 20_000;

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
    timeout: 30_000,
  });
}

/** A phone as the walks use it: 390 × 844, touch, mobile viewport meta honoured, an Android user agent. */
export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  userAgent:
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36',
};

/** Every widget event the page sees, recorded from the first script on (also after a redirect). */
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

/** A fresh browser context (own cookies and storage) that records the widget's events and CSP violations. */
export async function newShopperContext(
  browser: Browser,
  options: BrowserContextOptions = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  await context.addInitScript({ content: RECORD_EVENTS });
  return context;
}

/** The shape of the page globals that functions run in a page read (no DOM library here). */
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

/** Saves a PNG to `test/artifacts/<name>.png` (git-ignored). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}
