/**
 * `@galaxy-pay/widget/react`: `<GalaxyPayButton>`, the element wrapped with `@lit/react`. Its event props
 * (`onGalaxyPayResult`, …) are listeners added to the element itself, so they work on a server-rendered page after
 * hydration too (React does not attach `on…` props of a server-rendered custom element). The other props are set
 * as the element's properties; the standard HTML props (`className`, `style`, `hidden`, `slot`, `id`, `ref`, …)
 * pass through. Importing this module defines the element.
 *
 * It also types the bare `<galaxy-pay-button>` tag in JSX, for client-only code (React 19).
 */

import { createComponent, type EventName } from '@lit/react';
import * as React from 'react';
import type { GalaxyPayButtonAttributes, GalaxyPayButtonEventAttributes } from './attributes.js';
import {
  GalaxyPayButton as GalaxyPayButtonElement,
  type GalaxyPayCancelEvent,
  type GalaxyPayCloseEvent,
  type GalaxyPayErrorEvent,
  type GalaxyPayOpenEvent,
  type GalaxyPayResultEvent,
} from './index.js';

/**
 * `<galaxy-pay-button>` as a React component:
 * `<GalaxyPayButton signer="/galaxy-pay" orderRef={ref} onGalaxyPayResult={e => …}>Pay</GalaxyPayButton>`.
 */
export const GalaxyPayButton = createComponent({
  react: React,
  tagName: 'galaxy-pay-button',
  elementClass: GalaxyPayButtonElement,
  events: {
    onGalaxyPayOpen: 'galaxy-pay-open' as EventName<GalaxyPayOpenEvent>,
    onGalaxyPayResult: 'galaxy-pay-result' as EventName<GalaxyPayResultEvent>,
    onGalaxyPayCancel: 'galaxy-pay-cancel' as EventName<GalaxyPayCancelEvent>,
    onGalaxyPayError: 'galaxy-pay-error' as EventName<GalaxyPayErrorEvent>,
    onGalaxyPayClose: 'galaxy-pay-close' as EventName<GalaxyPayCloseEvent>,
  },
  displayName: 'GalaxyPayButton',
});

/** Props of the bare `<galaxy-pay-button>` tag in JSX: its attributes and `on…` event props (React 19). */
export interface GalaxyPayButtonJsxProps
  extends GalaxyPayButtonAttributes, GalaxyPayButtonEventAttributes {
  children?: React.ReactNode;
  class?: string;
  className?: string;
  id?: string;
  hidden?: boolean;
  slot?: string;
  style?: React.CSSProperties;
  key?: React.Key;
  ref?: React.Ref<GalaxyPayButtonElement>;
}

declare module 'react' {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- React's JSX typings are a namespace.
  namespace JSX {
    interface IntrinsicElements {
      'galaxy-pay-button': GalaxyPayButtonJsxProps;
    }
  }
}
