/**
 * Vue 3 typings for `<galaxy-pay-button>` (`vue-tsc`, Volar): once in the app,
 * `import type {} from '@galaxy-pay/widget/vue';` types its attributes and its `@galaxy-pay-*` events in
 * templates. Vue must still be told the tag is a custom element (`compilerOptions.isCustomElement`).
 */

import type { DefineComponent } from 'vue';
import type {
  GalaxyPayButton,
  GalaxyPayCancelEvent,
  GalaxyPayCloseEvent,
  GalaxyPayErrorEvent,
  GalaxyPayMode,
  GalaxyPayOpenEvent,
  GalaxyPayPaymentMethod,
  GalaxyPayResultEvent,
} from '../dist/index.js';

/** The element's attributes (written kebab-case or camelCase in templates) and its events. */
export interface GalaxyPayButtonVueProps {
  signer: string;
  orderRef: string;
  mode?: GalaxyPayMode;
  lang?: 'vi' | 'en';
  paymentMethod?: GalaxyPayPaymentMethod;
  sourceType?: string;
  returnUrl?: string;
  /** A signed, expiring customer handle minted by your back end (saved cards). */
  customerHandle?: string;
  disabled?: boolean;
  /** `.strings` (a property binding): overrides of the built-in words. */
  strings?: GalaxyPayButton['strings'];
  onGalaxyPayOpen?: (event: GalaxyPayOpenEvent) => void;
  onGalaxyPayResult?: (event: GalaxyPayResultEvent) => void;
  onGalaxyPayCancel?: (event: GalaxyPayCancelEvent) => void;
  onGalaxyPayError?: (event: GalaxyPayErrorEvent) => void;
  onGalaxyPayClose?: (event: GalaxyPayCloseEvent) => void;
}

declare module 'vue' {
  interface GlobalComponents {
    'galaxy-pay-button': DefineComponent<GalaxyPayButtonVueProps>;
  }
}
