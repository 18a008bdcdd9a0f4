/**
 * The element's attributes and `on<event>` attributes as typings for frameworks that write the tag itself:
 * the React entry's JSX props (`react.ts`, React 19) and the Svelte typings (`types/svelte.d.ts`, Svelte 5)
 * extend these. Types only: no JavaScript comes of this module.
 */

import type {
  GalaxyPayCancelEvent,
  GalaxyPayCloseEvent,
  GalaxyPayErrorEvent,
  GalaxyPayOpenEvent,
  GalaxyPayResultEvent,
} from './events.js';
import type { GalaxyPayLang, GalaxyPayMode, GalaxyPayPaymentMethod } from './types.js';

/** The attributes of `<galaxy-pay-button>`, as written in markup. */
export interface GalaxyPayButtonAttributes {
  signer: string;
  'order-ref': string;
  mode?: GalaxyPayMode;
  lang?: GalaxyPayLang;
  'payment-method'?: GalaxyPayPaymentMethod;
  'source-type'?: string;
  'return-url'?: string;
  /** A signed, expiring customer handle minted by your back end (saved cards). */
  'customer-handle'?: string;
  disabled?: boolean;
}

/** Its events as `on<event>` attributes: `ongalaxy-pay-result={event => …}`. */
export interface GalaxyPayButtonEventAttributes {
  'ongalaxy-pay-open'?: (event: GalaxyPayOpenEvent) => void;
  'ongalaxy-pay-result'?: (event: GalaxyPayResultEvent) => void;
  'ongalaxy-pay-cancel'?: (event: GalaxyPayCancelEvent) => void;
  'ongalaxy-pay-error'?: (event: GalaxyPayErrorEvent) => void;
  'ongalaxy-pay-close'?: (event: GalaxyPayCloseEvent) => void;
}
