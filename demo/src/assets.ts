/**
 * What the shop serves besides its pages: every file of `widget/dist` (the script-tag file, with its SRI
 * hash, and the files it loads lazily from next to itself, such as `galaxy-pay-extras.js`) and the shop's
 * own browser code, bundled from `client/` by esbuild when the shop starts.
 */

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The demo package's folder. */
export const demoDir = fileURLToPath(new URL('..', import.meta.url));

/** The widget's `dist/` folder (through the demo's own dependency link, whatever the package exports). */
export const widgetDistDir = join(
  realpathSync(join(demoDir, 'node_modules/@galaxy-pay/widget')),
  'dist',
);

/** The script-tag file, the one the page names with `integrity`. */
export const WIDGET_SCRIPT = 'galaxy-pay-button.js';

export interface ShopAssets {
  /**
   * Every file of `widget/dist`, by path relative to it (`galaxy-pay-button.js`, `galaxy-pay-extras.js`,
   * source maps…), read once at start: the files the script-tag file imports lazily are served from the
   * same snapshot, so they always match it.
   */
  widgetFiles: ReadonlyMap<string, Buffer>;
  /** `sha384-…` of the script-tag file, for the script tag's `integrity`. */
  widgetIntegrity: string;
  /** The script-tag page's code (no widget inside: the page loads it by script tag). */
  shopScript: string;
  /** The SPA page's code: imports the widget's ESM build, lit bundled with it. */
  spaScript: string;
  /** The back office page's code. */
  backofficeScript: string;
  /** The demo bank's page (the stand-in for a banking app that scans QR codes). */
  bankScript: string;
}

/** Every file under `dir`, by `/`-separated path relative to it. */
function readTree(dir: string, root = dir, into = new Map<string, Buffer>()): Map<string, Buffer> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) readTree(path, root, into);
    else if (entry.isFile())
      into.set(relative(root, path).split(sep).join('/'), readFileSync(path));
  }
  return into;
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(
    0,
    ...readdirSync(path)
      .filter(name => !name.endsWith('.test.ts'))
      .map(name => newestMtime(join(path, name))),
  );
}

/** Whether `widget/dist` is missing or older than the widget's sources. */
export function widgetBuildIsStale(): boolean {
  const outputs = [WIDGET_SCRIPT, 'index.js'].map(name => join(widgetDistDir, name));
  if (!outputs.every(existsSync)) return true;
  const widgetDir = dirname(widgetDistDir);
  const inputs = ['src', 'package.json', 'vite.config.ts', 'tsconfig.build.json']
    .map(name => join(widgetDir, name))
    .filter(existsSync);
  const built = Math.min(...outputs.map(path => statSync(path).mtimeMs));
  return Math.max(...inputs.map(newestMtime)) > built;
}

/** Builds the widget (`pnpm --filter @galaxy-pay/widget build`) when its dist is missing or stale. */
export function ensureWidgetBuilt(log: (line: string) => void = console.log): void {
  if (!widgetBuildIsStale()) return;
  log('Building the widget (widget/dist)…');
  const result = spawnSync('pnpm', ['run', 'build'], {
    cwd: dirname(widgetDistDir),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (result.status !== 0) {
    throw new Error(`the widget build failed (exit ${result.status ?? result.signal})`);
  }
}

/** Reads the widget build and bundles the shop's browser code. */
export async function loadShopAssets(): Promise<ShopAssets> {
  const widgetFiles = readTree(widgetDistDir);
  const widgetScript = widgetFiles.get(WIDGET_SCRIPT);
  if (!widgetScript)
    throw new Error(`${join(widgetDistDir, WIDGET_SCRIPT)} is missing: build the widget`);
  const bundle = await build({
    entryPoints: {
      shop: join(demoDir, 'client/shop.ts'),
      spa: join(demoDir, 'client/spa.ts'),
      backoffice: join(demoDir, 'client/backoffice.ts'),
      bank: join(demoDir, 'client/bank.ts'),
    },
    tsconfig: join(demoDir, 'client/tsconfig.json'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    write: false,
    outdir: 'assets',
    logLevel: 'warning',
  });
  const output = (name: string) => {
    const file = bundle.outputFiles.find(item => item.path.endsWith(`/assets/${name}`));
    if (!file) throw new Error(`esbuild produced no ${name}`);
    return file.text;
  };
  return {
    widgetFiles,
    widgetIntegrity: `sha384-${createHash('sha384').update(widgetScript).digest('base64')}`,
    shopScript: output('shop.js'),
    spaScript: output('spa.js'),
    backofficeScript: output('backoffice.js'),
    bankScript: output('bank.js'),
  };
}
