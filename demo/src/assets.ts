/**
 * What the shop serves besides its pages: the widget's script-tag file (from `widget/dist`, with its SRI
 * hash) and the shop's own browser code, bundled from `client/` by esbuild when the shop starts.
 */

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The demo package's folder. */
export const demoDir = fileURLToPath(new URL('..', import.meta.url));

/** The widget's `dist/` folder, as the package exports it. */
export const widgetDistDir = dirname(
  fileURLToPath(import.meta.resolve('@galaxy-pay/widget/galaxy-pay-button.js')),
);

export interface ShopAssets {
  /** `galaxy-pay-button.js`, lit inlined: the file merchants load with a script tag. */
  widgetScript: Buffer;
  widgetSourceMap: Buffer | null;
  /** `sha384-…` of `widgetScript`, for the script tag's `integrity`. */
  widgetIntegrity: string;
  /** The script-tag page's code (no widget inside: the page loads it by script tag). */
  shopScript: string;
  /** The SPA page's code: imports the widget's ESM build, lit bundled with it. */
  spaScript: string;
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
  const outputs = ['galaxy-pay-button.js', 'index.js'].map(name => join(widgetDistDir, name));
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
  const widgetScript = readFileSync(join(widgetDistDir, 'galaxy-pay-button.js'));
  const mapPath = join(widgetDistDir, 'galaxy-pay-button.js.map');
  const bundle = await build({
    entryPoints: {
      shop: join(demoDir, 'client/shop.ts'),
      spa: join(demoDir, 'client/spa.ts'),
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
    widgetScript,
    widgetSourceMap: existsSync(mapPath) ? readFileSync(mapPath) : null,
    widgetIntegrity: `sha384-${createHash('sha384').update(widgetScript).digest('base64')}`,
    shopScript: output('shop.js'),
    spaScript: output('spa.js'),
  };
}
