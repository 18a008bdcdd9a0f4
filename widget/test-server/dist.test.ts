/**
 * Checks on the built package, in Node: the script-tag budget, the ESM entry importing without a DOM
 * (SSR-safe), and the Custom Elements Manifest. `pnpm test` builds first.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url);
const BUDGET = 12 * 1024;

describe('dist/galaxy-pay-button.js (script tag)', () => {
  it(`stays within ${BUDGET} bytes gzipped`, () => {
    const gzipped = gzipSync(readFileSync(new URL('galaxy-pay-button.js', dist)), { level: 9 });
    console.log(`galaxy-pay-button.js: ${gzipped.length} B gzipped (budget ${BUDGET} B)`);
    assert.ok(
      gzipped.length <= BUDGET,
      `${gzipped.length} B gzipped is over the ${BUDGET} B budget`,
    );
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
