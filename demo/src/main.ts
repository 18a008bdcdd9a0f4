/**
 * `pnpm demo`, until the shop exists: starts the offline Galaxy Pay sandbox on a fixed port, opens one
 * sample checkout, and prints every verified callback it receives, so a newcomer can pay with a test card
 * and watch the redirect and the IPN arrive.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  CallbackError,
  formatGatewayDateTime,
  newRequestId,
  serializeAndSign,
  testCards,
  verifyCallback,
  verifyResponseSignature,
} from '@galaxy-pay/protocol';
import { createSandbox } from '@galaxy-pay/sandbox';

const SANDBOX_PORT = 8100;
const RECEIVER_PORT = 8101;
/** Demo credentials of the local sandbox only; the salt is the one in Galaxy Pay's documentation. */
const API_KEY = 'demo-api-key';
const SALT = 'GO@2021';

const receiverUrl = `http://127.0.0.1:${RECEIVER_PORT}`;

/** Stands in for the signer until it exists: verifies and prints what the gateway sends. */
function receive(req: IncomingMessage, res: ServerResponse): void {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', chunk => (body += chunk));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', receiverUrl);
    const fields = url.pathname === '/ipn' ? parseJson(body) : Object.fromEntries(url.searchParams);
    try {
      const payload = verifyCallback({ data: fields.data, signature: fields.signature }, SALT);
      console.log(`\n✔ verified ${url.pathname} callback:`, JSON.stringify(payload, null, 2));
    } catch (error) {
      const reason = error instanceof CallbackError ? error.code : 'error';
      console.log(`\n✘ rejected ${url.pathname} callback (${reason})`);
    }
    if (url.pathname === '/ipn') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ipnStatus: '200', ipnDescription: 'received by the demo' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><meta charset="utf-8"><p>Callback received: see the terminal.</p>');
  });
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

async function openSampleCheckout(sandboxUrl: string): Promise<string> {
  const now = formatGatewayDateTime(new Date());
  const { body, signature } = serializeAndSign(
    {
      requestID: newRequestId(),
      requestDateTime: now,
      requestData: {
        apiVersion: 2,
        orderID: `DEMO-${Date.now()}`,
        orderAmount: 250000,
        orderNetAmount: 250000,
        orderFeeAmount: 0,
        orderDiscountAmount: 0,
        orderCurrency: 'VND',
        orderDateTime: now,
        orderDescription: 'Cà phê sữa đá ×10',
        paymentMethod: 'DOMESTIC',
        language: 'vi',
        successURL: `${receiverUrl}/return/result`,
        failureURL: `${receiverUrl}/return/result`,
        cancelURL: `${receiverUrl}/return/cancel`,
        ipnURL: `${receiverUrl}/ipn`,
      },
    },
    SALT,
  );
  const res = await fetch(`${sandboxUrl}/api/v1/transaction/checkout`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', apikey: API_KEY, signature },
    body,
  });
  const text = await res.text();
  if (!verifyResponseSignature(text, res.headers.get('signature'), SALT)) {
    throw new Error('the sandbox reply is not signed as expected');
  }
  const reply = JSON.parse(text) as { responseData?: { endpoint?: string } };
  if (!reply.responseData?.endpoint) throw new Error(`checkout failed: ${text}`);
  return reply.responseData.endpoint;
}

async function main(): Promise<void> {
  const sandbox = createSandbox({ apiKey: API_KEY, salt: SALT });
  const receiver = createServer(receive);
  try {
    await new Promise<void>((resolve, reject) => {
      receiver.once('error', reject);
      receiver.listen(RECEIVER_PORT, '127.0.0.1', resolve);
    });
    const sandboxUrl = await sandbox.listen(SANDBOX_PORT, '127.0.0.1');
    const endpoint = await openSampleCheckout(sandboxUrl);
    const cards = testCards
      .filter(card => card.source !== 'UPC 3.1')
      .map(
        card =>
          `    ${card.number}  ${card.date}${card.cvv ? `  CVV ${card.cvv}` : ''}${card.otp ? '  (OTP: otp)' : ''}${card.outcome === 'decline' ? '  → declined' : ''}`,
      )
      .join('\n');
    console.log(`galaxy-pay demo (sandbox only: the shop, signer and widget come in later issues)

  Offline Galaxy Pay sandbox:  ${sandboxUrl}   (API key "${API_KEY}", salt "${SALT}")
  Callback receiver:           ${receiverUrl}   (verifies and prints every result, cancel and IPN)

  Open this sample checkout in a browser and pay with a test card:
    ${endpoint}

  Test cards:
${cards}

  Inspect everything the sandbox saw: ${sandboxUrl}/__sandbox/requests and ${sandboxUrl}/__sandbox/ipn
  Press Ctrl-C to stop.`);
  } catch (error) {
    console.error(`demo: could not start: ${(error as Error).message}`);
    await sandbox.close();
    receiver.close();
    process.exit(1);
  }
  const stop = () => {
    receiver.closeAllConnections();
    receiver.close();
    void sandbox.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
