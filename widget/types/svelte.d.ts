/**
 * Svelte 5 typings for `<galaxy-pay-button>` (`svelte-check`): once in the app,
 * `import type {} from '@galaxy-pay/widget/svelte';` types its attributes and its `ongalaxy-pay-*` event
 * attributes (`<galaxy-pay-button ongalaxy-pay-result={e => …}>`).
 */

import type { HTMLAttributes } from 'svelte/elements';
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

/** The element's attributes and event attributes. */
export interface GalaxyPayButtonSvelteProps extends Omit<HTMLAttributes<GalaxyPayButton>, 'lang'> {
  signer: string;
  'order-ref': string;
  mode?: GalaxyPayMode;
  lang?: 'vi' | 'en';
  'payment-method'?: GalaxyPayPaymentMethod;
  'source-type'?: string;
  'return-url'?: string;
  /** A signed, expiring customer handle minted by your back end (saved cards). */
  'customer-handle'?: string;
  disabled?: boolean;
  'ongalaxy-pay-open'?: (event: GalaxyPayOpenEvent) => void;
  'ongalaxy-pay-result'?: (event: GalaxyPayResultEvent) => void;
  'ongalaxy-pay-cancel'?: (event: GalaxyPayCancelEvent) => void;
  'ongalaxy-pay-error'?: (event: GalaxyPayErrorEvent) => void;
  'ongalaxy-pay-close'?: (event: GalaxyPayCloseEvent) => void;
}

declare module 'svelte/elements' {
  export interface SvelteHTMLElements {
    'galaxy-pay-button': GalaxyPayButtonSvelteProps;
  }
}
