/** @galaxy-pay/demo: the demo shop and the stack `pnpm demo` starts (also used by the end-to-end tests). */
export {
  startDemo,
  DEMO_ADMIN_TOKEN,
  DEMO_API_KEY,
  DEMO_SALT,
  MANUAL_CAPTURE_PATH,
  type DemoOptions,
  type DemoStack,
} from './stack.js';
export { createShop, type Shop, type ShopOptions, type ShopOrder } from './shop.js';
export { ensureWidgetBuilt, loadShopAssets, type ShopAssets } from './assets.js';
export { products, type Product } from './products.js';
