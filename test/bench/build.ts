/**
 * Compiles the target processes ahead of the run with esbuild (the compiler tsx uses), so they run on plain
 * `node` as in production: under `--import tsx` every process would carry the loader's own thread and
 * isolate (tens of MB), and the RSS figures would measure the loader rather than the server.
 */

import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

/** The target entries; each becomes `<outdir>/<name>.mjs`. */
export const TARGET_ENTRIES = ['baseline', 'sandbox', 'signer'] as const;

/**
 * Workspace packages are bundled from their TypeScript sources (the `source` condition); every other
 * package stays external, imported by the absolute path it resolves to from the importing package, so
 * pnpm's strict layout and native add-ons (libsql) work unchanged.
 */
const externalDependencies: Plugin = {
  name: 'external-dependencies',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^[^./]/ }, async args => {
      if (args.path.startsWith('@galaxy-pay/') || args.pluginData === 'nested') return undefined;
      const resolved = await pluginBuild.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        pluginData: 'nested',
      });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: resolved.path, external: true };
    });
  },
};

/** Bundles the three target entries into `outdir`. */
export async function bundleTargets(outdir: string): Promise<void> {
  await build({
    entryPoints: TARGET_ENTRIES.map(name =>
      fileURLToPath(new URL(`./targets/${name}.ts`, import.meta.url)),
    ),
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    conditions: ['source'],
    plugins: [externalDependencies],
    logLevel: 'warning',
  });
}
