// Run under `node --conditions=source --import tsx` (the `test` script): the stack plugin is TypeScript and
// starts the signer and sandbox from their sources.
import process from 'node:process';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import { stackPlugin } from './test-server/stack.ts';

export default {
  files: 'src/**/*.test.ts',
  // Lit's production build: no dev-mode warning in the test output.
  nodeResolve: { exportConditions: ['production'] },
  hostname: '127.0.0.1',
  concurrency: 1,
  testFramework: {
    config: { timeout: 20000, ...(process.env.GREP ? { grep: process.env.GREP } : {}) },
  },
  testsFinishTimeout: 300000,
  middleware: [
    // A merchant page's Content-Security-Policy is its `csp` query parameter (test-pages/merchant.html).
    async (context, next) => {
      await next();
      const { csp } = context.query;
      if (context.path.startsWith('/test-pages/') && typeof csp === 'string') {
        context.set('content-security-policy', csp);
      }
    },
  ],
  plugins: [
    esbuildPlugin({ ts: true, target: 'es2022', tsconfig: 'tsconfig.json' }),
    stackPlugin(),
  ],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
        // Chromium refuses to start as root without --no-sandbox.
        args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
      },
    }),
  ],
};
