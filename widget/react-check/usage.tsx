// Compiled by `pnpm test` after the build: proves react.d.ts types the element for React 19 JSX.
import type {} from '../react.js';
import type { GalaxyPayButton, GalaxyPayResultEvent } from '../dist/index.js';

const button = { current: null as GalaxyPayButton | null };

export function Checkout({ orderRef }: { orderRef: string }) {
  const paid = (event: GalaxyPayResultEvent) =>
    console.log(event.detail.status, event.detail.amount);
  return (
    <galaxy-pay-button
      signer="/galaxy-pay"
      order-ref={orderRef}
      mode="auto"
      lang="vi"
      ref={button}
      ongalaxy-pay-result={paid}
    >
      Thanh toán
    </galaxy-pay-button>
  );
}

export function Misuse() {
  return (
    <>
      {/* @ts-expect-error: the order reference is required */}
      <galaxy-pay-button signer="/galaxy-pay" />
      {/* @ts-expect-error: no such mode */}
      <galaxy-pay-button signer="/galaxy-pay" order-ref="A-1" mode="fullscreen" />
    </>
  );
}
