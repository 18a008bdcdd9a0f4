/**
 * The SPA page's code: the widget as an npm dependency. `import '@galaxy-pay/widget'` resolves to its ESM
 * build (`widget/dist/index.js`, lit external) and esbuild bundles lit once with the app, as a Vite or
 * webpack app would.
 */

import '@galaxy-pay/widget';
import { startShop } from './ui.js';

void startShop();
