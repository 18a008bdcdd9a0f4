// Compiled by `pnpm test` after the build: proves the React entry's typings (dist/react.d.ts) for React 19 JSX.
import { useRef } from 'react';
import type {
  GalaxyPayButton as GalaxyPayButtonElement,
  GalaxyPayResultEvent,
} from '../dist/index.js';
import { GalaxyPayButton } from '../dist/react.js';

export function Checkout({ orderRef }: { orderRef: string }) {
  const ref = useRef<GalaxyPayButtonElement>(null);
  const paid = (event: GalaxyPayResultEvent) =>
    console.log(event.detail.status, event.detail.amount, ref.current?.orderRef);
  return (
    <GalaxyPayButton
      ref={ref}
      signer="/galaxy-pay"
      orderRef={orderRef}
      mode="auto"
      lang="vi"
      paymentMethod="DOMESTIC"
      className="pay"
      style={{ marginTop: 8 }}
      hidden={false}
      slot="actions"
      id="pay"
      onGalaxyPayResult={paid}
      onGalaxyPayCancel={event => console.log(event.detail.reason)}
      onGalaxyPayError={event => console.log(event.detail.code, event.detail.retryable)}
      onGalaxyPayOpen={event => console.log(event.detail.mode)}
      onGalaxyPayClose={event => console.log(event.detail.sessionId)}
    >
      Thanh toán
    </GalaxyPayButton>
  );
}

/** The bare tag, client-only (React 19 passes `on…` props as listeners): typed by the same import. */
export function BareTag({ orderRef }: { orderRef: string }) {
  return (
    <galaxy-pay-button
      signer="/galaxy-pay"
      order-ref={orderRef}
      ongalaxy-pay-result={event => console.log(event.detail.transactionId)}
    >
      Pay
    </galaxy-pay-button>
  );
}

export function Misuse() {
  return (
    <>
      {/* @ts-expect-error: no such mode */}
      <GalaxyPayButton signer="/galaxy-pay" orderRef="A-1" mode="fullscreen" />
      {/* @ts-expect-error: a result event has no `reason` */}
      <GalaxyPayButton onGalaxyPayResult={event => event.detail.reason} />
      {/* @ts-expect-error: the bare tag needs its order reference */}
      <galaxy-pay-button signer="/galaxy-pay" />
    </>
  );
}
