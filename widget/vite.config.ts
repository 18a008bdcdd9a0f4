/**
 * Two builds of `src/index.ts` (types come from `tsc`):
 * - default: `dist/galaxy-pay-button.js`, the script-tag file: lit inlined, minified, sourcemap; prints its
 *   gzipped size and the SRI hash to paste into the page.
 * - `--mode esm`: `dist/index.js` for bundlers, lit external so an app shares one copy of lit.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const SCRIPT_FILE = 'dist/galaxy-pay-button.js';

const report: Plugin = {
  name: 'galaxy-pay-report',
  closeBundle() {
    const bytes = readFileSync(SCRIPT_FILE);
    const sri = `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
    console.log(
      `${SCRIPT_FILE}: ${bytes.length} B, ${gzipSync(bytes, { level: 9 }).length} B gzipped`,
    );
    console.log(`integrity="${sri}"`);
  },
};

export default defineConfig(({ mode }) => {
  const esm = mode === 'esm';
  return {
    logLevel: 'warn',
    plugins: esm ? [] : [report],
    build: {
      target: 'es2022',
      outDir: 'dist',
      emptyOutDir: false,
      sourcemap: true,
      minify: !esm,
      // Not `lib` mode: it keeps whitespace in ES output, and the script-tag file is served as is.
      rolldownOptions: {
        input: 'src/index.ts',
        preserveEntrySignatures: 'strict',
        external: esm ? [/^lit($|\/)/, /^@lit\//] : [],
        output: { format: 'es', entryFileNames: esm ? 'index.js' : 'galaxy-pay-button.js' },
      },
    },
  };
});
