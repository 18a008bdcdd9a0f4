/** The five events of `<galaxy-pay-button>`: plain `Event` subclasses, bubbling and composed. */

import type {
  GalaxyPayCancelDetail,
  GalaxyPayCloseDetail,
  GalaxyPayErrorDetail,
  GalaxyPayOpenDetail,
  GalaxyPayResultDetail,
} from './types.js';

/** An event of `<galaxy-pay-button>`: what happened is in `detail`. */
export interface GalaxyPayEvent<Detail> extends Event {
  readonly detail: Detail;
}

/** The class of the element's events named `type`: bubbling and composed, out of the shadow root. */
function eventClass<Detail>(type: string): new (detail: Detail) => GalaxyPayEvent<Detail> {
  return class extends Event {
    readonly detail: Detail;
    constructor(detail: Detail) {
      super(type, { bubbles: true, composed: true });
      this.detail = detail;
    }
  };
}

/** The modal, popup or redirect has started. */
export class GalaxyPayOpenEvent extends eventClass<GalaxyPayOpenDetail>('galaxy-pay-open') {}

/** The signer reported a verified final status (once per payment). */
export class GalaxyPayResultEvent extends eventClass<GalaxyPayResultDetail>('galaxy-pay-result') {}

/** The signer confirmed the payment was cancelled or expired (once per payment). */
export class GalaxyPayCancelEvent extends eventClass<GalaxyPayCancelDetail>('galaxy-pay-cancel') {}

/** Something went wrong; `detail.code` says what. */
export class GalaxyPayErrorEvent extends eventClass<GalaxyPayErrorDetail>('galaxy-pay-error') {}

/** The modal or popup has closed, for any reason. */
export class GalaxyPayCloseEvent extends eventClass<GalaxyPayCloseDetail>('galaxy-pay-close') {}

declare global {
  interface HTMLElementEventMap {
    'galaxy-pay-open': GalaxyPayOpenEvent;
    'galaxy-pay-result': GalaxyPayResultEvent;
    'galaxy-pay-cancel': GalaxyPayCancelEvent;
    'galaxy-pay-error': GalaxyPayErrorEvent;
    'galaxy-pay-close': GalaxyPayCloseEvent;
  }
}
