/**
 * The consumer apps, written from scratch as a new user would set them up (no `create-*` starter): each one
 * installs the packed widget tarball from `npm`, with exact versions of everything else, builds for
 * production and shows the verified result of a payment in `#status` ("paid 150000 VND"), through its own
 * framework's event binding. The page reads the signer and the order from its query string. Angular is
 * type-checked only (`ngc` with strict templates). The widget README's recipes are the code below.
 */

/**
 * Exact versions: current releases that run on Node 20 (Nuxt 4, Astro 6+ and SvelteKit 3 need Node 22: their
 * previous major here; the recipes are the same).
 */
export const VERSIONS = {
  '@angular/common': '21.2.26',
  '@angular/compiler': '21.2.26',
  '@angular/compiler-cli': '21.2.26',
  '@angular/core': '21.2.26',
  '@angular/platform-browser': '21.2.26',
  '@sveltejs/kit': '2.70.4',
  astro: '5.18.2',
  next: '16.5.0',
  nuxt: '3.21.9',
  rxjs: '7.8.2',
  tslib: '2.8.1',
  react: '19.3.1',
  'react-dom': '19.3.1',
  '@types/react': '19.3.3',
  '@types/react-dom': '19.3.0',
  '@types/node': '20.19.43',
  '@vitejs/plugin-react': '6.3.1',
  '@vitejs/plugin-vue': '6.1.1',
  '@sveltejs/vite-plugin-svelte': '7.3.3',
  svelte: '5.60.1',
  'svelte-check': '4.7.9',
  typescript: '5.9.3',
  vite: '8.4.1',
  vue: '3.5.47',
  'vue-tsc': '3.3.14',
} as const;

type Package = keyof typeof VERSIONS;

export interface App {
  name: string;
  /** Registry packages (exact versions from VERSIONS); the widget tarball is added to `dependencies`. */
  dependencies: Package[];
  devDependencies: Package[];
  /** Commands run in the app folder, in order, with `node_modules/.bin` on the PATH. */
  build: string[][];
  /**
   * How the built app is served: a folder as is (`dist` after a Vite build), or a server command on 127.0.0.1
   * (`{port}` is replaced). None: the app is only built (type-checked).
   */
  serve?: { static: string } | { command: string[] };
  /** Server-rendered: what the page's HTML holds before any script runs. */
  ssr?: RegExp;
  files: Record<string, string>;
}

const pick = (names: Package[]) => Object.fromEntries(names.map(name => [name, VERSIONS[name]]));

export function packageJson(app: App, tarball: string): string {
  return JSON.stringify(
    {
      name: `galaxy-pay-consumer-${app.name}`,
      private: true,
      type: 'module',
      dependencies: { '@galaxy-pay/widget': `file:${tarball}`, ...pick(app.dependencies) },
      devDependencies: pick(app.devDependencies),
    },
    null,
    2,
  );
}

const STRICT_TS = {
  target: 'ES2022',
  module: 'ESNext',
  moduleResolution: 'bundler',
  lib: ['ES2022', 'DOM', 'DOM.Iterable'],
  strict: true,
  noEmit: true,
  skipLibCheck: false,
  isolatedModules: true,
  verbatimModuleSyntax: true,
};

const tsconfig = (extra: Record<string, unknown>, include: string[]) =>
  JSON.stringify({ compilerOptions: { ...STRICT_TS, ...extra }, include }, null, 2);

/** A shop page's `<html>` and `<head>` (with `head`, lines of its own), up to its `<body>`. */
const PAGE_START = (head = '') => `<html lang="vi">
  <head>
    <meta charset="utf-8" />
    <title>Shop</title>
${head}  </head>
  <body>`;

const indexHtml = (script: string) => `<!doctype html>
${PAGE_START()}
    <div id="app"></div>
    <script type="module" src="${script}"></script>
  </body>
</html>
`;

const QUERY = `const params = new URLSearchParams(location.search);
const signer = params.get('signer') ?? '';
const orderRef = params.get('order') ?? '';`;

/** What every app shows in `#status` for the element's result and error events (`event`). */
const PAID = (event = 'event') =>
  `\`\${${event}.detail.status} \${${event}.detail.amount} \${${event}.detail.currency}\``;
const ERROR = (event = 'event') => `\`error \${${event}.detail.code}\``;

/** The pages without a framework: `button` and `status` elements, and the two listeners. */
const LISTENERS = (indent: string) =>
  `button.addEventListener('galaxy-pay-result', event => {
  status.textContent = ${PAID()};
});
button.addEventListener('galaxy-pay-error', event => {
  status.textContent = ${ERROR()};
});
`.replace(/^(?=.)/gm, indent);

/** React: the end of the `Checkout` component, from the event props on (the wrapper's `onGalaxyPay…`). */
const REACT_CHECKOUT_END = `        onGalaxyPayResult={event =>
          setStatus(${PAID()})
        }
        onGalaxyPayError={event => setStatus(${ERROR()})}
      >
        Thanh toán
      </GalaxyPayButton>
      <output id="status">{status}</output>
    </>
  );
}
`;

/** Vue 3: the status and its result listener (`<script setup>`), and the element in a template. */
const VUE_SETUP = `const status = ref('');
const onResult = (event: GalaxyPayResultEvent) => {
  status.value = ${PAID()};
};`;
const VUE_TEMPLATE = `  <galaxy-pay-button
    :signer="signer"
    :order-ref="orderRef"
    @galaxy-pay-result="onResult"
    @galaxy-pay-error="status = ${ERROR('$event')}"
  >
    Thanh toán
  </galaxy-pay-button>
  <output id="status">{{ status }}</output>
`;

/** Svelte 5: the element with its `ongalaxy-pay-*` event attributes, setting `status` (a `$state`). */
const SVELTE_MARKUP = `<galaxy-pay-button
  {signer}
  order-ref={orderRef}
  ongalaxy-pay-result={event =>
    (status = ${PAID()})}
  ongalaxy-pay-error={event => (status = ${ERROR()})}
>
  Thanh toán
</galaxy-pay-button>
<output id="status">{status}</output>
`;

export const viteReact: App = {
  name: 'vite-react',
  dependencies: ['react', 'react-dom'],
  devDependencies: [
    '@types/react',
    '@types/react-dom',
    '@vitejs/plugin-react',
    'typescript',
    'vite',
  ],
  build: [
    ['tsc', '--noEmit'],
    ['vite', 'build'],
  ],
  serve: { static: 'dist' },
  files: {
    'index.html': indexHtml('/src/main.tsx'),
    'tsconfig.json': tsconfig({ jsx: 'react-jsx', types: [], skipLibCheck: true }, ['src']),
    'vite.config.ts': `import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({ plugins: [react()] });
`,
    'src/main.tsx': `import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Checkout } from './Checkout';

${QUERY}

createRoot(document.getElementById('app')!).render(
  <StrictMode>
    <Checkout signer={signer} orderRef={orderRef} />
  </StrictMode>,
);
`,
    'src/Checkout.tsx': `import { useRef, useState } from 'react';
import { GalaxyPayButton } from '@galaxy-pay/widget/react';
import type { GalaxyPayButton as GalaxyPayButtonElement } from '@galaxy-pay/widget';

export function Checkout({ signer, orderRef }: { signer: string; orderRef: string }) {
  const [status, setStatus] = useState('');
  const button = useRef<GalaxyPayButtonElement>(null);
  return (
    <>
      <GalaxyPayButton
        ref={button}
        signer={signer}
        orderRef={orderRef}
        className="pay"
        style={{ marginTop: 8 }}
${REACT_CHECKOUT_END}`,
  },
};

export const viteVue: App = {
  name: 'vite-vue',
  dependencies: ['vue'],
  devDependencies: ['@vitejs/plugin-vue', 'typescript', 'vite', 'vue-tsc'],
  build: [
    ['vue-tsc', '--noEmit'],
    ['vite', 'build'],
  ],
  serve: { static: 'dist' },
  files: {
    'index.html': indexHtml('/src/main.ts'),
    'tsconfig.json': tsconfig({ types: [], skipLibCheck: true }, ['src/**/*.ts', 'src/**/*.vue']),
    'vite.config.ts': `import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [
    vue({ template: { compilerOptions: { isCustomElement: tag => tag.startsWith('galaxy-pay-') } } }),
  ],
});
`,
    'src/env.d.ts': `declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent;
  export default component;
}
`,
    'src/main.ts': `import { createApp } from 'vue';
import '@galaxy-pay/widget';
import type {} from '@galaxy-pay/widget/vue';
import App from './App.vue';

createApp(App).mount('#app');
`,
    'src/App.vue': `<script setup lang="ts">
import { ref } from 'vue';
import type { GalaxyPayResultEvent } from '@galaxy-pay/widget';

${QUERY}
${VUE_SETUP}
</script>

<template>
${VUE_TEMPLATE}  <template v-if="false">
    <!-- @vue-expect-error the typings are active: there is no such mode -->
    <galaxy-pay-button signer="/galaxy-pay" order-ref="A-1" mode="fullscreen" />
  </template>
</template>
`,
  },
};

export const viteSvelte: App = {
  name: 'vite-svelte',
  dependencies: [],
  devDependencies: ['@sveltejs/vite-plugin-svelte', 'svelte', 'svelte-check', 'typescript', 'vite'],
  build: [
    ['svelte-check', '--fail-on-warnings'],
    ['vite', 'build'],
  ],
  serve: { static: 'dist' },
  files: {
    'index.html': indexHtml('/src/main.ts'),
    'tsconfig.json': tsconfig({ types: [], skipLibCheck: true }, ['src']),
    'vite.config.ts': `import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

export default defineConfig({ plugins: [svelte()] });
`,
    'svelte.config.js': `export default {};
`,
    'src/main.ts': `import { mount } from 'svelte';
import type { SvelteHTMLElements } from 'svelte/elements';
import App from './App.svelte';

mount(App, { target: document.getElementById('app')! });

// The typings are active: there is no such mode.
// @ts-expect-error
export const wrong: SvelteHTMLElements['galaxy-pay-button'] = { signer: '/', 'order-ref': 'A', mode: 'x' };
`,
    'src/App.svelte': `<script lang="ts">
  import '@galaxy-pay/widget';
  import type {} from '@galaxy-pay/widget/svelte';

  ${QUERY.replace(/\n/g, '\n  ')}
  let status = $state('');
</script>

${SVELTE_MARKUP}`,
  },
};

export const viteVanilla: App = {
  name: 'vite-vanilla',
  dependencies: [],
  devDependencies: ['typescript', 'vite'],
  build: [
    ['tsc', '--noEmit'],
    ['vite', 'build'],
  ],
  serve: { static: 'dist' },
  files: {
    'index.html': indexHtml('/src/main.ts'),
    'tsconfig.json': tsconfig({ types: [] }, ['src']),
    'src/main.ts': `import '@galaxy-pay/widget';

${QUERY}
const button = document.createElement('galaxy-pay-button');
const status = document.createElement('output');
status.id = 'status';
button.signer = signer;
button.orderRef = orderRef;
button.textContent = 'Thanh toán';
${LISTENERS('')}document.getElementById('app')!.append(button, status);
`,
  },
};

export const nextApp: App = {
  name: 'next',
  dependencies: ['next', 'react', 'react-dom'],
  devDependencies: ['@types/node', '@types/react', '@types/react-dom', 'typescript'],
  build: [['next', 'build']],
  serve: { command: ['next', 'start', '--hostname', '127.0.0.1', '--port', '{port}'] },
  ssr: /<galaxy-pay-button[^>]*>(<!-- -->)?Thanh toán<\/galaxy-pay-button>[\s\S]*<galaxy-pay-button[^>]* id="from-server-component"/,
  files: {
    'tsconfig.json': JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          strict: true,
          noEmit: true,
          module: 'ESNext',
          moduleResolution: 'bundler',
          jsx: 'react-jsx',
          isolatedModules: true,
          esModuleInterop: true,
          resolveJsonModule: true,
          skipLibCheck: true,
          incremental: false,
          plugins: [{ name: 'next' }],
        },
        include: ['next-env.d.ts', 'app', '.next/types/**/*.ts'],
        exclude: ['node_modules'],
      },
      null,
      2,
    ),
    'next.config.mjs': `export default {};
`,
    'app/layout.tsx': `import type { ReactNode } from 'react';

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="vi">
      <body>{children}</body>
    </html>
  );
}
`,
    // A server component: rendered on the server for every request (it reads the query string).
    'app/page.tsx': `import { GalaxyPayButton } from '@galaxy-pay/widget/react';
import { Checkout } from './checkout';

export default async function Page({
  searchParams,
}: {
  searchParams: Promise<{ signer?: string; order?: string }>;
}) {
  const { signer = '', order = '' } = await searchParams;
  return (
    <main>
      <h1>Shop</h1>
      <Checkout signer={signer} orderRef={order} />
      {/* The wrapper is a client module: a server component may render it too (no event props here). */}
      <GalaxyPayButton id="from-server-component" hidden signer={signer} orderRef={\`\${order}-x\`} />
    </main>
  );
}
`,
    'app/checkout.tsx': `'use client';

import { useState } from 'react';
import { GalaxyPayButton } from '@galaxy-pay/widget/react';

export function Checkout({ signer, orderRef }: { signer: string; orderRef: string }) {
  const [status, setStatus] = useState('');
  return (
    <>
      <GalaxyPayButton
        signer={signer}
        orderRef={orderRef}
${REACT_CHECKOUT_END}`,
  },
};

/** The script-tag file in a plain HTML page; the build copies it (and the extras file) from the package. */
export const scriptTag: App = {
  name: 'script-tag',
  dependencies: [],
  devDependencies: [],
  build: [['node', 'copy-widget.mjs']],
  serve: { static: 'public' },
  files: {
    'copy-widget.mjs': `import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const dist = 'node_modules/@galaxy-pay/widget/dist/';
mkdirSync('public', { recursive: true });
for (const file of ['galaxy-pay-button.js', 'galaxy-pay-extras.js']) copyFileSync(dist + file, 'public/' + file);
const integrity = 'sha384-' + createHash('sha384').update(readFileSync(dist + 'galaxy-pay-button.js')).digest('base64');
writeFileSync('public/index.html', readFileSync('index.html', 'utf8').replace('INTEGRITY', integrity));
`,
    'index.html': `<!doctype html>
${PAGE_START('    <script type="module" src="/galaxy-pay-button.js" integrity="INTEGRITY" crossorigin="anonymous"></script>\n')}
    <galaxy-pay-button>Thanh toán</galaxy-pay-button>
    <output id="status"></output>
    <script type="module">
      const params = new URLSearchParams(location.search);
      const button = document.querySelector('galaxy-pay-button');
      const status = document.querySelector('#status');
      button.setAttribute('signer', params.get('signer'));
      button.setAttribute('order-ref', params.get('order'));
${LISTENERS('      ')}    </script>
  </body>
</html>
`,
  },
};

export const svelteKit: App = {
  name: 'sveltekit',
  dependencies: [],
  devDependencies: [
    '@sveltejs/kit',
    '@sveltejs/vite-plugin-svelte',
    'svelte',
    'svelte-check',
    'typescript',
    'vite',
  ],
  build: [
    ['svelte-kit', 'sync'],
    ['svelte-check', '--fail-on-warnings'],
    ['vite', 'build'],
  ],
  serve: {
    command: ['vite', 'preview', '--host', '127.0.0.1', '--port', '{port}', '--strictPort'],
  },
  ssr: /<galaxy-pay-button signer="[^"]*" order-ref="[^"]*"[^>]*>\s*Thanh toán\s*<\/galaxy-pay-button>/,
  files: {
    'svelte.config.js': `// No adapter: \`vite preview\` serves the build (a deployment adds one).
export default { kit: {} };
`,
    'vite.config.ts': `import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({ plugins: [sveltekit()] });
`,
    'tsconfig.json': JSON.stringify(
      {
        extends: './.svelte-kit/tsconfig.json',
        compilerOptions: { strict: true, skipLibCheck: true },
      },
      null,
      2,
    ),
    'src/app.html': `<!doctype html>
<html lang="vi">
  <head>
    <meta charset="utf-8" />
    %sveltekit.head%
  </head>
  <body>
    <div>%sveltekit.body%</div>
  </body>
</html>
`,
    'src/app.d.ts': `import type {} from '@galaxy-pay/widget/svelte';
`,
    // Server-rendered, then hydrated: importing the widget on the server defines nothing and touches no DOM.
    'src/routes/+page.svelte': `<script lang="ts">
  import '@galaxy-pay/widget';
  import { page } from '$app/state';

  const signer = page.url.searchParams.get('signer') ?? '';
  const orderRef = page.url.searchParams.get('order') ?? '';
  let status = $state('');
</script>

${SVELTE_MARKUP}`,
  },
};

export const nuxt: App = {
  name: 'nuxt',
  dependencies: ['nuxt', 'vue'],
  devDependencies: [],
  build: [['nuxt', 'build']],
  serve: { command: ['node', '.output/server/index.mjs'] },
  ssr: /<galaxy-pay-button signer="[^"]*" order-ref="[^"]*"[^>]*>\s*Thanh toán\s*<\/galaxy-pay-button>/,
  files: {
    'nuxt.config.ts': `export default defineNuxtConfig({
  vue: { compilerOptions: { isCustomElement: tag => tag.startsWith('galaxy-pay-') } },
  telemetry: false,
});
`,
    'app.vue': `<template>
  <NuxtPage />
</template>
`,
    // Server-rendered, then hydrated.
    'pages/index.vue': `<script setup lang="ts">
import '@galaxy-pay/widget';
import type {} from '@galaxy-pay/widget/vue';
import type { GalaxyPayResultEvent } from '@galaxy-pay/widget';

const route = useRoute();
const signer = String(route.query.signer ?? '');
const orderRef = String(route.query.order ?? '');
${VUE_SETUP}
</script>

<template>
${VUE_TEMPLATE}</template>
`,
  },
};

export const astro: App = {
  name: 'astro',
  dependencies: ['astro'],
  devDependencies: [],
  build: [['astro', 'build']],
  serve: { static: 'dist' },
  files: {
    'astro.config.mjs': `import { defineConfig } from 'astro/config';

export default defineConfig({});
`,
    'tsconfig.json': JSON.stringify({ extends: 'astro/tsconfigs/strict' }, null, 2),
    // Astro bundles a page's <script> with Vite: the widget is imported like any npm module.
    'src/pages/index.astro': `---
---

${PAGE_START()}
    <galaxy-pay-button>Thanh toán</galaxy-pay-button>
    <output id="status"></output>
    <script>
      import '@galaxy-pay/widget';

      const params = new URLSearchParams(location.search);
      const button = document.querySelector('galaxy-pay-button')!;
      const status = document.querySelector('#status')!;
      button.signer = params.get('signer') ?? '';
      button.orderRef = params.get('order') ?? '';
${LISTENERS('      ')}    </script>
  </body>
</html>
`,
  },
};

/** Type-checked only, with `ngc` and strict templates: `$event` is typed through `HTMLElementEventMap`. */
export const angular: App = {
  name: 'angular',
  dependencies: [
    '@angular/common',
    '@angular/compiler',
    '@angular/core',
    '@angular/platform-browser',
    'rxjs',
    'tslib',
  ],
  devDependencies: ['@angular/compiler-cli', 'typescript'],
  build: [['ngc', '-p', 'tsconfig.json']],
  files: {
    'tsconfig.json': JSON.stringify(
      {
        compilerOptions: { ...STRICT_TS, noEmit: false, outDir: 'out', skipLibCheck: true },
        angularCompilerOptions: { strictTemplates: true, strictInjectionParameters: true },
        files: ['src/main.ts'],
      },
      null,
      2,
    ),
    'src/main.ts': `import { bootstrapApplication } from '@angular/platform-browser';
import { Checkout } from './checkout.component';

void bootstrapApplication(Checkout);
`,
    'src/checkout.component.ts': `import { CUSTOM_ELEMENTS_SCHEMA, Component, input, signal } from '@angular/core';
import '@galaxy-pay/widget';
import type { GalaxyPayErrorEvent, GalaxyPayResultEvent } from '@galaxy-pay/widget';

@Component({
  selector: 'app-checkout',
  schemas: [CUSTOM_ELEMENTS_SCHEMA],
  template: \`
    <galaxy-pay-button
      signer="/galaxy-pay"
      [orderRef]="orderRef()"
      (galaxy-pay-result)="onResult($event)"
      (galaxy-pay-error)="onError($event)"
    >
      Thanh toán
    </galaxy-pay-button>
    <output id="status">{{ status() }}</output>
  \`,
})
export class Checkout {
  readonly orderRef = input.required<string>();
  readonly status = signal('');

  onResult(event: GalaxyPayResultEvent): void {
    this.status.set(${PAID()});
  }

  onError(event: GalaxyPayErrorEvent): void {
    this.status.set(${ERROR()});
  }
}
`,
  },
};

export const APPS: App[] = [
  viteReact,
  viteVue,
  viteSvelte,
  viteVanilla,
  nextApp,
  scriptTag,
  svelteKit,
  nuxt,
  astro,
  angular,
];
