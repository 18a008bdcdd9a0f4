/** The page's log of the widget's events, newest first (for developers watching the demo). */

import { h } from './dom.js';
import type { Lang } from './i18n.js';

export function logEvent(log: HTMLOListElement, event: Event, lang: Lang): void {
  const detail = (event as CustomEvent).detail as unknown;
  const time = new Date().toLocaleTimeString(lang === 'vi' ? 'vi-VN' : 'en-GB');
  log.prepend(
    h(
      'li',
      {},
      h('time', {}, time),
      h('code', {}, event.type),
      h('pre', {}, JSON.stringify(detail)),
    ),
  );
}
