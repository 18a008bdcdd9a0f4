/**
 * `pnpm demo`: builds the widget if needed, then starts the sandbox (:8100), the signer (:8200) and the shop
 * (:8300) on 127.0.0.1 with no configuration, prints the URL to open, and stops cleanly on Ctrl-C.
 * `DEMO_PORTS=sandbox,signer,shop` overrides the ports (the test of this command uses free ones).
 */

import { testCards } from '@galaxy-pay/protocol';
import { ensureWidgetBuilt } from './assets.js';
import { DEMO_ADMIN_TOKEN, startDemo, type DemoStack } from './stack.js';

const DEFAULT_PORTS = [8100, 8200, 8300] as const;

function ports(): readonly number[] {
  const text = process.env.DEMO_PORTS;
  if (!text) return DEFAULT_PORTS;
  const values = text.split(',').map(Number);
  if (values.length !== 3 || !values.every(port => Number.isInteger(port) && port > 0)) {
    throw new Error(`DEMO_PORTS must be three ports such as 8100,8200,8300, not "${text}"`);
  }
  return values;
}

function cardLines(): string {
  return testCards
    .filter(card => card.source !== 'UPC 3.1')
    .map(card => {
      const cvv = card.cvv ? `  CVV ${card.cvv}` : '';
      const otp = card.otp ? '  OTP: otp' : '';
      const outcome = card.outcome === 'decline' ? '  → declined' : '';
      return `    ${card.method.padEnd(13)} ${card.number}  ${card.date}${cvv}${otp}${outcome}`;
    })
    .join('\n');
}

async function main(): Promise<void> {
  let stack: DemoStack;
  try {
    const [sandbox, signer, shop] = ports();
    ensureWidgetBuilt();
    stack = await startDemo({ ports: { sandbox, signer, shop } });
  } catch (error) {
    const message =
      (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? `a port is already in use (${(error as Error).message}); stop the other program or set DEMO_PORTS`
        : (error as Error).message;
    console.error(`demo: could not start: ${message}`);
    process.exit(1);
  }
  console.log(`
  Galaxy Pay demo shop: ${stack.shopUrl}/   (SPA version: ${stack.shopUrl}/spa)
  Back office:          ${stack.shopUrl}/backoffice   orders, refunds, capture/void, payment links
  Demo bank (QR codes): ${stack.shopUrl}/bank   "scans" the QR codes the shop shows

  Signer (standalone):  ${stack.signerUrl}   SQLite in a temporary folder
    manual capture:     ${stack.manualSignerUrl}   the same signer with CAPTURE_MODE=manual
    saved cards:        on; TOKEN_ENCRYPTION_KEY and CUSTOMER_HANDLE_SECRET minted for this run only
  Sandbox gateway:      ${stack.sandboxUrl}   inspect: ${stack.sandboxUrl}/__sandbox/transactions

  Test cards (domestic cards: holder NGUYEN VAN A, issue date; OTP is "otp"):
${cardLines()}

  CLI: SIGNER_URL=${stack.signerUrl} ADMIN_TOKEN=${DEMO_ADMIN_TOKEN} pnpm -C server cli -- orders list

  Press Ctrl-C to stop.
`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the shop, the signer and the sandbox…`);
    const deadline = setTimeout(() => {
      console.error('demo: did not stop within 10 s; exiting');
      process.exit(1);
    }, 10_000);
    deadline.unref();
    stack.close().then(
      () => {
        console.log('Stopped.');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`demo: error while stopping: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

void main();
