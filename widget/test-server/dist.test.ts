/**
 * Checks on the built package, in Node: the script-tag budget, the ESM entry importing without a DOM
 * (SSR-safe), and the Custom Elements Manifest. `pnpm test` builds first.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url);
// 12 KiB + 128 B: issue 11 added the per-tab client key and the cancel that waits out a silent gateway
// (+34 B over 12 KiB). Issue 13 brings the file under 10 KiB by loading more of it lazily.
const BUDGET = 12 * 1024 + 128;

const gzipped = (file: string) => gzipSync(readFileSync(new URL(file, dist)), { level: 9 }).length;

describe('dist/galaxy-pay-button.js (script tag)', () => {
  it(`stays within ${BUDGET} bytes gzipped`, () => {
    const size = gzipped('galaxy-pay-button.js');
    console.log(`galaxy-pay-button.js: ${size} B gzipped (budget ${BUDGET} B)`);
    // Loaded only for `customer-handle` or QRPAY; reported, not budgeted.
    console.log(`galaxy-pay-extras.js: ${gzipped('galaxy-pay-extras.js')} B gzipped (lazy)`);
    assert.ok(size <= BUDGET, `${size} B gzipped is over the ${BUDGET} B budget`);
  });

  it('loads its extras lazily from the file next to it, which imports only the main file', () => {
    const main = readFileSync(new URL('galaxy-pay-button.js', dist), 'utf8');
    const extras = readFileSync(new URL('galaxy-pay-extras.js', dist), 'utf8');
    assert.match(main, /import\(`\.\/galaxy-pay-extras\.js`\)/);
    assert.doesNotMatch(main, /preloadError|modulepreload/);
    const imports = [...extras.matchAll(/from\s*["'`]([^"'`]+)["'`]/g)].map(match => match[1]);
    assert.deepEqual([...new Set(imports)], ['./galaxy-pay-button.js']);
  });

  it('inlines lit and has a sourcemap', () => {
    const code = readFileSync(new URL('galaxy-pay-button.js', dist), 'utf8');
    assert.doesNotMatch(code, /from\s*["']lit/);
    assert.match(code, /sourceMappingURL=galaxy-pay-button\.js\.map/);
  });
});

describe('dist/index.js (ESM)', () => {
  it('keeps lit external', () => {
    assert.match(readFileSync(new URL('index.js', dist), 'utf8'), /from "lit"/);
  });

  it('imports in Node without a DOM (SSR-safe) and exports the element and its events', async () => {
    const widget = (await import(new URL('index.js', dist).href)) as Record<string, unknown>;

    assert.equal(typeof widget.GalaxyPayButton, 'function');
    for (const name of ['Open', 'Result', 'Cancel', 'Error', 'Close']) {
      assert.equal(typeof widget[`GalaxyPay${name}Event`], 'function');
    }
  });
});

describe('dist/custom-elements.json', () => {
  it('describes the tag, its attributes, events, parts and custom properties', () => {
    const manifest = JSON.parse(readFileSync(new URL('custom-elements.json', dist), 'utf8')) as {
      modules: Array<{ declarations?: Array<Record<string, unknown>> }>;
    };
    const element = manifest.modules
      .flatMap(module => module.declarations ?? [])
      .find(declaration => declaration.tagName === 'galaxy-pay-button') as Record<
      string,
      unknown[]
    >;

    assert.ok(element, 'galaxy-pay-button is declared');
    const names = (key: string) =>
      (element[key] ?? []).map(item => (item as { name: string }).name);
    assert.deepEqual(names('attributes').sort(), [
      'customer-handle',
      'disabled',
      'lang',
      'mode',
      'order-ref',
      'payment-method',
      'return-url',
      'signer',
      'source-type',
    ]);
    assert.deepEqual(names('events').filter(Boolean).sort(), [
      'galaxy-pay-cancel',
      'galaxy-pay-close',
      'galaxy-pay-error',
      'galaxy-pay-open',
      'galaxy-pay-result',
    ]);
    assert.deepEqual(names('cssParts').sort(), ['button', 'dialog']);
    assert.ok(names('cssProperties').includes('--galaxy-pay-accent'));
  });
});
