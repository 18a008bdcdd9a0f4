/** How the back office shows things in the chosen language: its words, times, status badges and tables. */

import { h } from './dom.js';
import type { Lang } from './i18n.js';
import { WORDS, type Words } from './backoffice-words.js';

export interface Look {
  lang: Lang;
  words: Words;
  time(iso: string | null): string;
  statusWord(status: string): string;
  badge(status: string): HTMLElement;
}

export function lookFor(lang: Lang): Look {
  const words = WORDS[lang];
  const statusWord = (status: string) => words.statuses[status] ?? status;
  return {
    lang,
    words,
    time: iso => (iso ? new Date(iso).toLocaleString(lang === 'vi' ? 'vi-VN' : 'en-GB') : '—'),
    statusWord,
    badge: status =>
      h('span', { class: `badge status-${status}`, 'data-status': status }, statusWord(status)),
  };
}

export function table(headers: string[], rows: HTMLElement[]): HTMLElement {
  return h(
    'table',
    { class: 'bo-table' },
    h('thead', {}, h('tr', {}, ...headers.map(text => h('th', {}, text)))),
    h('tbody', {}, ...rows),
  );
}
