/**
 * A merchant page for tests that need a whole page of their own (`test-pages/merchant.html`: redirect mode
 * navigates it; a `csp` parameter gives it that Content-Security-Policy). Configured by its query string:
 * `signer`, `order`, `mode` (default `redirect`), `return`; records the five events in `window.events` and
 * the directives its policy refused in `window.violations`.
 */

import './index.js';

declare global {
  interface Window {
    events: Array<{ type: string; detail: unknown }>;
    violations: string[];
  }
}

const params = new URLSearchParams(location.search);
window.events = [];
window.violations = [];
addEventListener('securitypolicyviolation', event => {
  window.violations.push(event.effectiveDirective);
});
const el = document.createElement('galaxy-pay-button');
el.setAttribute('signer', params.get('signer') ?? '');
el.setAttribute('order-ref', params.get('order') ?? '');
el.setAttribute('mode', params.get('mode') ?? 'redirect');
const returnUrl = params.get('return');
if (returnUrl) el.setAttribute('return-url', returnUrl);
for (const type of ['open', 'result', 'cancel', 'error', 'close']) {
  el.addEventListener(`galaxy-pay-${type}`, event => {
    window.events.push({ type, detail: (event as Event & { detail: unknown }).detail });
  });
}
document.body.append(el);
