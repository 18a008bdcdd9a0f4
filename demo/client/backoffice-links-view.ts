/** The back office's payment links: the form that creates one, and the table of links. */

import { h } from './dom.js';
import { formatVnd } from './i18n.js';
import { table, type Look } from './backoffice-look.js';
import type { Link } from './backoffice-types.js';

export function renderLinkForm(look: Look): HTMLElement {
  const words = look.words;
  return h(
    'form',
    { class: 'bo-form', id: 'link-form' },
    h(
      'label',
      {},
      words.linkName,
      h('input', { name: 'name', id: 'link-name', value: words.linkNameDefault, required: true }),
    ),
    h(
      'label',
      {},
      words.amount,
      h('input', {
        name: 'amount',
        id: 'link-amount',
        inputmode: 'numeric',
        value: '150000',
        required: true,
      }),
    ),
    h(
      'label',
      {},
      words.linkHours,
      h('input', {
        name: 'hours',
        id: 'link-hours',
        inputmode: 'numeric',
        value: '24',
        required: true,
      }),
    ),
    h('button', { type: 'submit', id: 'create-link', class: 'primary' }, words.createLink),
  );
}

export function renderLinks(links: Link[], look: Look): HTMLElement {
  const { lang, time, badge } = look;
  const words = look.words;
  return links.length
    ? table(
        [words.linkName, words.amount, words.status, words.created, words.paidAt, ''],
        links.map(link =>
          h(
            'tr',
            { 'data-link': link.orderNo },
            h('td', {}, link.name),
            h('td', { class: 'num' }, formatVnd(link.amount, lang)),
            h('td', { class: 'link-status' }, badge(link.status)),
            h('td', {}, time(link.createdAt)),
            h('td', {}, time(link.paidAt)),
            h(
              'td',
              {},
              link.shortLink
                ? h(
                    'a',
                    {
                      href: link.shortLink,
                      target: '_blank',
                      rel: 'noopener',
                      class: 'open-link',
                    },
                    `${words.open} ↗`,
                  )
                : '—',
            ),
          ),
        ),
      )
    : h('p', { class: 'muted' }, words.noLinks);
}
