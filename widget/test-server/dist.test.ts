/**
 * Checks on the built package, in Node: the script-tag budget, the ESM build as bundlers get it (lit
 * external, plain dynamic imports, SSR-safe), the React entry, the typings and the Custom Elements Manifest.
 * `pnpm test` builds first.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { SESSION_STATUSES } from '@galaxy-pay/protocol/session-status';
import { apiReference } from '../scripts/api-reference.js';

const dist = new URL('../dist/', import.meta.url);
const root = new URL('../', import.meta.url);
// Issue 13: 10 KiB; the build fails above it too (`SCRIPT_BUDGET` in vite.config.ts).
const BUDGET = 10 * 1024;

const text = (file: string, base = dist) => readFileSync(new URL(file, base), 'utf8');
const gzipped = (file: string) => gzipSync(readFileSync(new URL(file, dist)), { level: 9 }).length;

interface Manifest {
  modules: Array<{
    path: string;
    declarations?: Array<Record<string, unknown> & { name: string; kind: string }>;
    exports?: Array<{ kind: string; name: string; declaration: { name: string; module: string } }>;
  }>;
}
const manifest = () => JSON.parse(text('custom-elements.json')) as Manifest;
type Item = { name: string; type?: { text: string }; fieldName?: string };

describe('dist/galaxy-pay-button.js (script tag)', () => {
  it(`stays within ${BUDGET} bytes gzipped, the budget the build enforces`, () => {
    const size = gzipped('galaxy-pay-button.js');
    console.log(`galaxy-pay-button.js: ${size} B gzipped (budget ${BUDGET} B)`);
    // Loaded while the signer answers the first click; reported, not budgeted.
    console.log(`galaxy-pay-extras.js: ${gzipped('galaxy-pay-extras.js')} B gzipped (lazy)`);
    assert.ok(size <= BUDGET, `${size} B gzipped is over the ${BUDGET} B budget`);
    assert.match(
      text('vite.config.ts', root),
      new RegExp(`SCRIPT_BUDGET = ${BUDGET / 1024} \\* 1024;`),
    );
  });

  it('loads its extras lazily from the file next to it, which imports only the main file', () => {
    const main = text('galaxy-pay-button.js');
    const extras = text('galaxy-pay-extras.js');
    assert.match(main, /import\(`\.\/galaxy-pay-extras\.js`\)/);
    assert.doesNotMatch(main, /preloadError|modulepreload/);
    const imports = [...extras.matchAll(/from\s*["'`]([^"'`]+)["'`]/g)].map(match => match[1]);
    assert.deepEqual([...new Set(imports)], ['./galaxy-pay-button.js']);
  });

  it('keeps in the main file only what a click needs at once', () => {
    const main = text('galaxy-pay-button.js');
    // Following the session, cancelling, error mapping, popup and redirect follow-up: all in the extras file.
    for (const lazy of [
      'EventSource',
      '/cancel',
      'order_already_paid',
      'replaceState',
      'same-origin',
    ]) {
      assert.ok(!main.includes(lazy), `${lazy} is in the main file`);
      assert.ok(text('galaxy-pay-extras.js').includes(lazy), `${lazy} is not in the extras file`);
    }
  });

  it('inlines lit and has a sourcemap', () => {
    const code = text('galaxy-pay-button.js');
    assert.doesNotMatch(code, /from\s*["']lit/);
    assert.match(code, /sourceMappingURL=galaxy-pay-button\.js\.map/);
  });
});

describe('dist/index.js (ESM)', () => {
  it('keeps lit external', () => {
    assert.match(text('index.js'), /from "lit"/);
    assert.match(text('extras.js'), /from "lit"/);
  });

  it("leaves dynamic imports plain, with no bundler helper for the app's bundler to collide with", () => {
    for (const file of ['index.js', 'extras.js', 'react.js']) {
      assert.doesNotMatch(text(file), /__vitePreload|__vite|preload-helper|modulepreload/, file);
    }
    assert.match(text('index.js'), /import\("\.\/extras\.js"\)/);
  });

  it('imports in Node without a DOM (SSR-safe) and exports the element and its events', async () => {
    const widget = (await import(new URL('index.js', dist).href)) as Record<string, unknown>;

    assert.equal(typeof widget.GalaxyPayButton, 'function');
    for (const name of ['Open', 'Result', 'Cancel', 'Error', 'Close']) {
      assert.equal(typeof widget[`GalaxyPay${name}Event`], 'function');
    }
  });

  it("has the element's properties on its prototype in Node, so @lit/react sets them as properties after SSR", async () => {
    const { GalaxyPayButton } = (await import(new URL('index.js', dist).href)) as {
      GalaxyPayButton: { prototype: object };
    };

    for (const name of ['signer', 'orderRef', 'mode', 'lang', 'paymentMethod', 'customerHandle']) {
      assert.ok(name in GalaxyPayButton.prototype, name);
    }
  });
});

describe('dist/*.d.ts (typings)', () => {
  it('name no package a consumer would not have: the session statuses (from protocol) are written out', () => {
    for (const file of readdirSync(dist).filter(name => name.endsWith('.d.ts'))) {
      const code = text(file);
      const specifiers = [
        ...code.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm),
        ...code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
      ].map(match => match[1]!);
      for (const specifier of specifiers) {
        assert.match(specifier, /^(\.\/|lit$|lit\/|@lit\/|react$)/, `${file} imports ${specifier}`);
      }
    }
    const written = `readonly [${SESSION_STATUSES.map(status => `"${status}"`).join(', ')}]`;
    assert.ok(text('session-status.d.ts').includes(written), "SessionStatus is protocol's list");
  });
});

describe('dist/react.js (@galaxy-pay/widget/react)', () => {
  it('is a client module that wraps the element of dist/index.js with @lit/react, React external', () => {
    const code = text('react.js');
    assert.match(code, /^["']use client["'];/);
    assert.match(code, /from "\.\/index\.js"/);
    assert.match(code, /from "@lit\/react"/);
    assert.match(code, /from "react"/);
    for (const event of ['open', 'result', 'cancel', 'error', 'close']) {
      assert.match(code, new RegExp(`"galaxy-pay-${event}"`));
    }
  });
});

describe('dist/custom-elements.json', () => {
  const element = () => {
    const found = manifest()
      .modules.flatMap(module => module.declarations ?? [])
      .find(declaration => declaration.tagName === 'galaxy-pay-button');
    assert.ok(found, 'galaxy-pay-button is declared');
    return found as Record<string, Item[]> & { name: string };
  };
  const names = (key: string) => (element()[key] ?? []).map(item => item.name);

  it('names the shipped module, which exports the element the manifest declares', async () => {
    const { modules } = manifest();

    assert.deepEqual(
      modules.map(module => module.path),
      ['dist/index.js'],
    );
    const shipped = (await import(new URL(modules[0]!.path, root).href)) as Record<string, unknown>;
    for (const item of modules[0]!.exports ?? []) {
      assert.equal(item.declaration.module, 'dist/index.js');
      assert.equal(typeof shipped[item.declaration.name], 'function', item.declaration.name);
    }
    assert.deepEqual(
      modules[0]!.exports!.map(item => `${item.kind} ${item.name}`),
      ['js GalaxyPayButton', 'custom-element-definition galaxy-pay-button'],
    );
  });

  it('declares only what the module exports: no stray variables', () => {
    const declarations = manifest().modules.flatMap(module => module.declarations ?? []);

    assert.deepEqual(
      declarations.map(item => `${item.kind} ${item.name}`),
      ['class GalaxyPayButton'],
    );
  });

  it('names and types the five events, each type an exported class dispatching that event', async () => {
    const widget = (await import(new URL('index.js', dist).href)) as Record<
      string,
      new (detail: unknown) => Event
    >;
    const events = element().events ?? [];

    assert.deepEqual(
      events.map(event => `${event.name}: ${event.type?.text}`),
      [
        'galaxy-pay-open: GalaxyPayOpenEvent',
        'galaxy-pay-result: GalaxyPayResultEvent',
        'galaxy-pay-cancel: GalaxyPayCancelEvent',
        'galaxy-pay-error: GalaxyPayErrorEvent',
        'galaxy-pay-close: GalaxyPayCloseEvent',
      ],
    );
    for (const event of events) {
      const EventClass = widget[event.type!.text]!;
      assert.equal(new EventClass({}).type, event.name);
    }
  });

  it('describes the attributes (public fields only), parts and custom properties', () => {
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
    assert.deepEqual(names('cssParts').sort(), ['button', 'dialog']);
    assert.ok(names('cssProperties').includes('--galaxy-pay-accent'));
  });

  it('agrees with the framework typings: every attribute and event is typed for React, Vue and Svelte', () => {
    const react = text('react.d.ts');
    const vue = text('types/vue.d.ts', root);
    const svelte = text('types/svelte.d.ts', root);
    // React 19's JSX and Svelte 5 take the tag's own attributes, from one module (`src/attributes.ts`).
    const markup = text('attributes.d.ts');
    const camel = (name: string) => name.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase());
    const pascal = (name: string) => camel(name).replace(/^\w/, c => c.toUpperCase());

    assert.match(
      react,
      /GalaxyPayButtonJsxProps extends GalaxyPayButtonAttributes, GalaxyPayButtonEventAttributes\b/,
    );
    assert.match(svelte, /&\s*GalaxyPayButtonAttributes &\s*GalaxyPayButtonEventAttributes;/);
    for (const attribute of element().attributes ?? []) {
      assert.match(
        markup,
        new RegExp(`['\\s]${attribute.name}'?\\??:`),
        `markup: ${attribute.name}`,
      );
      assert.match(vue, new RegExp(`\\b${camel(attribute.name)}\\??:`), `vue: ${attribute.name}`);
    }
    for (const event of element().events ?? []) {
      const type = `(event: ${event.type!.text}) => void`;
      assert.ok(
        react.includes(`on${pascal(event.name)}: EventName<${event.type!.text}>`),
        event.name,
      );
      assert.ok(markup.includes(`'on${event.name}'?: ${type}`), event.name);
      assert.ok(vue.includes(`on${pascal(event.name)}?: ${type}`), event.name);
    }
  });
});

describe('API.md (the element reference)', () => {
  it('is what the manifest generates: attributes, events, parts and CSS properties all listed', () => {
    const generated = apiReference(text('custom-elements.json'));

    assert.equal(
      text('API.md', root),
      generated,
      'API.md is stale: run pnpm --filter @galaxy-pay/widget run api',
    );
    for (const name of [
      'galaxy-pay-result',
      'galaxy-pay-cancel',
      'order-ref',
      '--galaxy-pay-accent',
    ]) {
      assert.ok(generated.includes(name), `${name} is in the reference`);
    }
  });
});
