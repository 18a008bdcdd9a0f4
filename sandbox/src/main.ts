#!/usr/bin/env node
/** `galaxy-pay-sandbox`: run the offline gateway from the command line. */

import { parseArgs } from 'node:util';
import { createSandbox } from './app.js';
import {
  ApplePaySessionShapes,
  BlankFieldModes,
  CardWithoutSourceOfFundModes,
  CheckoutCallbackUrlModes,
  DuplicateOrderIdModes,
  LegacyQrSignatureModes,
  LinkIpnShapes,
  ManagementOrderIdModes,
  ResponseSignatureModes,
} from './modes.js';

const USAGE = `Usage: galaxy-pay-sandbox --api-key <key> --salt <salt> [options]

  --port <n>              port to listen on (default 8100; 0 picks a free one)
  --host <addr>           address to bind (default 127.0.0.1)
  --api-key <key>         the merchant API key to expect (or GALAXY_PAY_API_KEY)
  --salt <salt>           the signature salt (or GALAXY_PAY_SALT)
  --public-url <url>      origin to put in endpoint URLs (default http://<host>:<port>)
  --callback-method <m>   GET (default) or POST for result/cancel redirects
  --ipn-url <url>         IPN URL for requests that carry none (modal checkout)
  --faults <list>         fault tokens for every order, e.g. "dup:2,late:3"
  --response-signature <m>  how replies are signed: signature (default), Signature,
                          uppercase, none, success-only, legacy-flatten
  --checkout-callback-urls <m>  honour (default) or ignore the URLs a checkout sends
  --management-order-id <m>  orderID refund/void/capture accept: either (default),
                          original, unique
  --no-legacy-paths       404 on /pay, /payWithOption and /api/v1.0/Merchant/Pay
  --order-number-max <n>  longest orderNumber accepted (default 50; 20 as documented)
  --require-checkout-amounts  refuse a checkout without orderNetAmount,
                          orderFeeAmount and orderDiscountAmount
  --request-time-tolerance <s>  seconds requestDateTime may be off either way
                          before 408 (default 900; "off" accepts any)
  --allow-duplicate-request-id  accept a requestID already used (default 409)
  --duplicate-order-id <m>  a payment reusing an orderID: by-path (default: 409
                          on /api/v1, accepted on legacy paths), refuse, allow
  --accept-any-content-type  accept any Content-Type (default 415 unless JSON)
  --card-without-source-of-fund <m>  card fields without sourceOfFund: by-path
                          (default: 400 on /api/v1, hosted card on /pay), refuse, card
  --blank-fields <m>      requestData strings of spaces: absent (default), as-sent
  --link-ipn-shape <s>    payment-link IPN: example (default; requestID, orderID =
                          the link's orderNo) or table (requestId, orderNo)
  --apple-pay-session <s> Apple Pay validation reply: bare (default) or wrapped
  --legacy-qr-signature <m>  archived QR API X-Signature: body+salt (default) or
                          unchecked
  --legacy-qr-caller <id> archived QR API: the X-Caller to expect (default: any)
  -h, --help              show this help`;

function main(): void {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '8100' },
        host: { type: 'string', default: '127.0.0.1' },
        'api-key': { type: 'string' },
        salt: { type: 'string' },
        'public-url': { type: 'string' },
        'callback-method': { type: 'string', default: 'GET' },
        'ipn-url': { type: 'string' },
        faults: { type: 'string' },
        'response-signature': { type: 'string', default: 'signature' },
        'checkout-callback-urls': { type: 'string', default: 'honour' },
        'management-order-id': { type: 'string', default: 'either' },
        'no-legacy-paths': { type: 'boolean', default: false },
        'order-number-max': { type: 'string', default: '50' },
        'require-checkout-amounts': { type: 'boolean', default: false },
        'request-time-tolerance': { type: 'string', default: '900' },
        'allow-duplicate-request-id': { type: 'boolean', default: false },
        'accept-any-content-type': { type: 'boolean', default: false },
        'duplicate-order-id': { type: 'string', default: 'by-path' },
        'card-without-source-of-fund': { type: 'string', default: 'by-path' },
        'blank-fields': { type: 'string', default: 'absent' },
        'link-ipn-shape': { type: 'string', default: 'example' },
        'apple-pay-session': { type: 'string', default: 'bare' },
        'legacy-qr-signature': { type: 'string', default: 'body+salt' },
        'legacy-qr-caller': { type: 'string', default: '' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const apiKey = values['api-key'] ?? process.env.GALAXY_PAY_API_KEY;
  const salt = values.salt ?? process.env.GALAXY_PAY_SALT;
  if (!apiKey) fail('--api-key (or GALAXY_PAY_API_KEY) is required');
  if (!salt) fail('--salt (or GALAXY_PAY_SALT) is required');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`--port must be 0-65535, not "${values.port}"`);
  const method = values['callback-method'].toUpperCase();
  if (method !== 'GET' && method !== 'POST') fail('--callback-method must be GET or POST');
  const responseSignature = choice('response-signature', values, ResponseSignatureModes);
  const checkoutCallbackUrls = choice('checkout-callback-urls', values, CheckoutCallbackUrlModes);
  const managementOrderId = choice('management-order-id', values, ManagementOrderIdModes);
  const orderNumberMaxLength = Number(values['order-number-max']);
  if (!Number.isInteger(orderNumberMaxLength) || orderNumberMaxLength < 1)
    fail(
      `--order-number-max must be a whole number of at least 1, not "${values['order-number-max']}"`,
    );
  const tolerance = values['request-time-tolerance'];
  const toleranceSeconds = Number(tolerance);
  if (tolerance !== 'off' && !(Number.isFinite(toleranceSeconds) && toleranceSeconds >= 0))
    fail(`--request-time-tolerance must be seconds or "off", not "${tolerance}"`);
  const cardWithoutSourceOfFund = choice(
    'card-without-source-of-fund',
    values,
    CardWithoutSourceOfFundModes,
  );
  const blankFields = choice('blank-fields', values, BlankFieldModes);
  const duplicateOrderId = choice('duplicate-order-id', values, DuplicateOrderIdModes);
  const linkIpnShape = choice('link-ipn-shape', values, LinkIpnShapes);
  const applePaySession = choice('apple-pay-session', values, ApplePaySessionShapes);
  const legacyQrSignature = choice('legacy-qr-signature', values, LegacyQrSignatureModes);

  const sandbox = createSandbox({
    apiKey,
    salt,
    publicUrl: values['public-url'],
    callbackMethod: method,
    merchantUrls: values['ipn-url'] ? { ipnURL: values['ipn-url'] } : undefined,
    faults: values.faults,
    responseSignature,
    checkoutCallbackUrls,
    managementOrderId,
    legacyPaths: !values['no-legacy-paths'],
    orderNumberMaxLength,
    requireCheckoutAmounts: values['require-checkout-amounts'],
    requestDateTimeToleranceMs: tolerance === 'off' ? null : toleranceSeconds * 1000,
    allowDuplicateRequestId: values['allow-duplicate-request-id'],
    acceptAnyContentType: values['accept-any-content-type'],
    duplicateOrderId,
    cardWithoutSourceOfFund,
    blankFields,
    linkIpnShape,
    applePaySession,
    legacyQrSignature,
    legacyQrCaller: values['legacy-qr-caller'],
  });
  sandbox.listen(port, values.host).then(
    url => {
      console.log(`galaxy-pay sandbox listening on ${url}`);
      console.log(`  API base URL:   ${url}  (POST ${url}/api/v1/transaction/checkout …)`);
      console.log(`  inspection API: ${url}/__sandbox/requests, ${url}/__sandbox/ipn`);
    },
    (error: Error) => fail(`cannot listen on ${values.host}:${port}: ${error.message}`),
  );
  const stop = () => {
    void sandbox.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** The value of `--<name>`, which must be one of `allowed`. */
function choice<const T extends string>(
  name: string,
  values: Record<string, unknown>,
  allowed: readonly T[],
): T {
  const value = String(values[name]);
  if (!(allowed as readonly string[]).includes(value)) {
    fail(`--${name} must be one of ${allowed.join(', ')}, not "${value}"`);
  }
  return value as T;
}

function fail(message: string): never {
  console.error(`galaxy-pay-sandbox: ${message}\n\n${USAGE}`);
  process.exit(2);
}

main();
