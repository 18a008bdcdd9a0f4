/**
 * Two builds of `src/index.ts` (types come from `tsc`):
 * - default: `dist/galaxy-pay-button.js`, the script-tag file: lit inlined, minified, sourcemap; prints its
 *   gzipped size and the SRI hash to paste into the page. `src/extras.ts` (saved cards, QR, COOP check) is
 *   imported lazily, so it becomes `dist/galaxy-pay-extras.js`, loaded from next to the main file.
 * - `--mode esm`: `dist/index.js` (+ its lazy `dist/extras.js`) for bundlers, lit external so an app shares
 *   one copy of lit.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const SCRIPT_FILES = ['dist/galaxy-pay-button.js', 'dist/galaxy-pay-extras.js'];

const report: Plugin = {
  name: 'galaxy-pay-report',
  closeBundle() {
    for (const file of SCRIPT_FILES) {
      const bytes = readFileSync(file);
      const sri = `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
      console.log(`${file}: ${bytes.length} B, ${gzipSync(bytes, { level: 9 }).length} B gzipped`);
      console.log(`  integrity="${sri}"`);
    }
  },
};

/**
 * Vite wraps each dynamic `import()` in a preload helper (modulepreload links, CSS, `vite:preloadError`):
 * ~700 B gzipped for one script chunk with no dependencies of its own. Replace it with a plain call.
 */
const PRELOAD_HELPER = '\0vite/preload-helper.js';
const noPreload: Plugin = {
  name: 'galaxy-pay-no-preload',
  enforce: 'pre',
  resolveId: id => (id === PRELOAD_HELPER ? id : undefined),
  load: id => (id === PRELOAD_HELPER ? 'export const __vitePreload = load => load();' : undefined),
};

export default defineConfig(({ mode }) => {
  const esm = mode === 'esm';
  return {
    logLevel: 'warn',
    plugins: esm ? [noPreload] : [noPreload, report],
    build: {
      target: 'es2022',
      outDir: 'dist',
      emptyOutDir: false,
      sourcemap: true,
      minify: !esm,
      modulePreload: false,
      // Not `lib` mode: it keeps whitespace in ES output, and the script-tag file is served as is.
      rolldownOptions: {
        input: 'src/index.ts',
        // `allow-extension`: the entry may also export what the lazy extras chunk shares with it (lit, the
        // signer client), so the main file stays one file and the extras chunk imports from it.
        preserveEntrySignatures: 'allow-extension',
        external: esm ? [/^lit($|\/)/, /^@lit\//] : [],
        output: {
          format: 'es',
          entryFileNames: esm ? 'index.js' : 'galaxy-pay-button.js',
          // The one lazy chunk (src/extras.ts); lit and the shared code stay in the entry file.
          chunkFileNames: esm ? 'extras.js' : 'galaxy-pay-extras.js',
        },
      },
    },
  };
});
