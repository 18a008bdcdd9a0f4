/**
 * JSX typings for React: `import type {} from '@galaxy-pay/widget/react';` once in the app makes
 * `<galaxy-pay-button>` a known element with its attributes and `on…` event props (React 19 passes
 * `ongalaxy-pay-result` style props through as listeners; with React 18 use a ref and addEventListener).
 */

import type {
  GalaxyPayButton,
  GalaxyPayCancelEvent,
  GalaxyPayCloseEvent,
  GalaxyPayErrorEvent,
  GalaxyPayMode,
  GalaxyPayOpenEvent,
  GalaxyPayResultEvent,
} from './dist/index.js';

interface GalaxyPayButtonJsxProps {
  signer: string;
  'order-ref': string;
  mode?: GalaxyPayMode;
  lang?: 'vi' | 'en';
  'payment-method'?: 'DOMESTIC' | 'INTERNATIONAL' | 'WALLET' | 'QRPAY';
  'source-type'?: string;
  'return-url'?: string;
  /** A signed, expiring customer handle minted by your back end (saved cards). */
  'customer-handle'?: string;
  disabled?: boolean;
  children?: unknown;
  class?: string;
  className?: string;
  id?: string;
  key?: string | number;
  'ongalaxy-pay-open'?: (event: GalaxyPayOpenEvent) => void;
  'ongalaxy-pay-result'?: (event: GalaxyPayResultEvent) => void;
  'ongalaxy-pay-cancel'?: (event: GalaxyPayCancelEvent) => void;
  'ongalaxy-pay-error'?: (event: GalaxyPayErrorEvent) => void;
  'ongalaxy-pay-close'?: (event: GalaxyPayCloseEvent) => void;
}

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'galaxy-pay-button': GalaxyPayButtonJsxProps & { ref?: { current: GalaxyPayButton | null } };
    }
  }
}

export type { GalaxyPayButtonJsxProps };
