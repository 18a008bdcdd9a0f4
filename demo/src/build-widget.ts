/** `pnpm --filter @galaxy-pay/demo widget`: builds `widget/dist` if it is missing or older than its sources. */

import { ensureWidgetBuilt } from './assets.js';

ensureWidgetBuilt();
