/**
 * Where the hosted payment page is shown. The modal `<dialog>` is rendered by the element itself; this module
 * holds what a click needs of the window: choosing a presentation, opening the popup, the redirect's return
 * address. Watching the popup and claiming a return are in `checkout.ts`, loaded lazily.
 * Nothing here runs at import time (SSR-safe).
 */

import type { GalaxyPayMode, GalaxyPayPresentation } from './types.js';

/** Query parameter the signer's return page adds to `returnUrl` in redirect mode. */
export const RETURN_PARAM = 'galaxy_pay_session';

/** In-app browsers (Facebook, Instagram, Zalo, Line, Android WebView) lose popups and often frames. */
const WEBVIEW = /\bFBA[NV]\/|Instagram|Zalo|\bLine\/|; wv\)/i;

export const isWebview = (): boolean => WEBVIEW.test(navigator.userAgent);

const isSmallScreen = (): boolean => matchMedia('(max-width: 640px)').matches;

/** `auto`: the modal on wide screens, a popup on small ones, a redirect in in-app webviews. */
export function choosePresentation(mode: GalaxyPayMode): GalaxyPayPresentation {
  if (mode === 'modal' || mode === 'popup' || mode === 'redirect') return mode;
  if (isWebview()) return 'redirect';
  return isSmallScreen() ? 'popup' : 'modal';
}

/** Where to go when the popup is blocked: the modal where it fits, else a full redirect. */
export const popupFallback = (): GalaxyPayPresentation =>
  isWebview() || isSmallScreen() ? 'redirect' : 'modal';

/**
 * Opens a blank popup. Call it synchronously inside the click: after an `await` the user activation is gone
 * and browsers block it. No `noopener`: we need the handle to navigate it, watch `closed` and match
 * `event.source`. `null` means blocked.
 */
export function openPopup(): Window | null {
  const width = 480;
  const height = 720;
  const left = Math.max(0, screenX + (outerWidth - width) / 2);
  const top = Math.max(0, screenY + (outerHeight - height) / 2);
  return open(
    'about:blank',
    '_blank',
    `popup,width=${width},height=${height},left=${left},top=${top}`,
  );
}

/** The current page without our return parameter: where redirect mode comes back to by default. */
export function currentPageUrl(): string {
  const url = new URL(location.href);
  url.searchParams.delete(RETURN_PARAM);
  url.hash = '';
  return url.href;
}

/** The session id of a redirect that just came back, if any. */
export const returnedSessionId = (): string | null =>
  new URL(location.href).searchParams.get(RETURN_PARAM);
