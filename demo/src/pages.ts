/**
 * The shop's HTML pages, rendered once at start from `pages/`. A page shares what the others also show
 * through partials (`pages/partials/`): a line `<!-- include NAME key="value" … -->` stands for the partial
 * NAME, indented as the line, with its `%key%` placeholders filled (partials may include partials). Then the
 * page's own `%NAME%` placeholders (the signer URLs, the widget's SRI hash) are filled, escaped, and the
 * navigation link to the page itself is marked `aria-current="page"`.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoDir } from './assets.js';

const PAGES_DIR = join(demoDir, 'pages');
const INCLUDE = /^([ \t]*)<!-- include ([\w.-]+)((?:\s+[\w-]+="[^"]*")*)\s*-->$/gm;
const PARAM = /([\w-]+)="([^"]*)"/g;

function expandIncludes(html: string, depth = 0): string {
  if (depth > 4) throw new Error('pages: partials nested too deep');
  return html.replace(INCLUDE, (_line, indent: string, name: string, params: string) => {
    let partial = readFileSync(join(PAGES_DIR, 'partials', name), 'utf8').trimEnd();
    for (const [, key, value] of params.matchAll(PARAM)) {
      partial = partial.replaceAll(`%${key}%`, value!);
    }
    return expandIncludes(partial, depth + 1)
      .split('\n')
      .map(line => (line ? indent + line : line))
      .join('\n');
  });
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** Renders `pages/<file>`, served at `route`, with `values` for its `%NAME%` placeholders. */
export function renderPage(file: string, route: string, values: Record<string, string>): string {
  let html = expandIncludes(readFileSync(join(PAGES_DIR, file), 'utf8'));
  for (const [name, value] of Object.entries(values)) {
    html = html.replaceAll(`%${name}%`, escapeAttribute(value));
  }
  return html.replace(
    `<a href="${route}" data-i18n`,
    `<a href="${route}" aria-current="page" data-i18n`,
  );
}
