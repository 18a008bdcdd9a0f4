/** The five events of `<galaxy-pay-button>`: plain `Event` subclasses, bubbling and composed. */

import type {
  GalaxyPayCancelDetail,
  GalaxyPayCloseDetail,
  GalaxyPayErrorDetail,
  GalaxyPayOpenDetail,
  GalaxyPayResultDetail,
} from './types.js';

const init = { bubbles: true, composed: true };

/** The modal, popup or redirect has started. */
export class GalaxyPayOpenEvent extends Event {
  readonly detail: GalaxyPayOpenDetail;
  constructor(detail: GalaxyPayOpenDetail) {
    super('galaxy-pay-open', init);
    this.detail = detail;
  }
}

/** The signer reported a verified final status (once per payment). */
export class GalaxyPayResultEvent extends Event {
  readonly detail: GalaxyPayResultDetail;
  constructor(detail: GalaxyPayResultDetail) {
    super('galaxy-pay-result', init);
    this.detail = detail;
  }
}

/** The signer confirmed the payment was cancelled or expired (once per payment). */
export class GalaxyPayCancelEvent extends Event {
  readonly detail: GalaxyPayCancelDetail;
  constructor(detail: GalaxyPayCancelDetail) {
    super('galaxy-pay-cancel', init);
    this.detail = detail;
  }
}

/** Something went wrong; `detail.code` says what. */
export class GalaxyPayErrorEvent extends Event {
  readonly detail: GalaxyPayErrorDetail;
  constructor(detail: GalaxyPayErrorDetail) {
    super('galaxy-pay-error', init);
    this.detail = detail;
  }
}

/** The modal or popup has closed, for any reason. */
export class GalaxyPayCloseEvent extends Event {
  readonly detail: GalaxyPayCloseDetail;
  constructor(detail: GalaxyPayCloseDetail) {
    super('galaxy-pay-close', init);
    this.detail = detail;
  }
}

declare global {
  interface HTMLElementEventMap {
    'galaxy-pay-open': GalaxyPayOpenEvent;
    'galaxy-pay-result': GalaxyPayResultEvent;
    'galaxy-pay-cancel': GalaxyPayCancelEvent;
    'galaxy-pay-error': GalaxyPayErrorEvent;
    'galaxy-pay-close': GalaxyPayCloseEvent;
  }
}
