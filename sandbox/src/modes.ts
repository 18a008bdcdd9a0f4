/**
 * The choices of the sandbox options that play one reading of the gateway or another (`SandboxOptions`,
 * the `--…` flags of `main.ts`). Kept apart from the modules that act on them so that `context.ts` can name
 * them without importing those modules.
 */

// How replies are signed and what checkout, refund, void and capture accept (played by fidelity.ts).

/**
 * How API replies are signed:
 * - `signature` (default): header `signature` = lowercase hex sha256(raw body + salt), our reading of the
 *   guides' "Response signature" header (G3.6.1 §2.4.2, §2.5.2; docs refund page), on every reply;
 * - `Signature`: the same value under the header name spelled `Signature` on the wire;
 * - `uppercase`: the same value in upper-case hex;
 * - `none`: no signature header at all;
 * - `success-only`: signed only when `responseCode` is 200 (refusals and errors unsigned);
 * - `legacy-flatten`: header `signature` computed with the v1/v2 scheme (values of the flattened body, sorted
 *   by key, concatenated, + salt), as the 2022 sample `gpay_upc_be_demo` checked replies.
 */
export const ResponseSignatureModes = [
  'signature',
  'Signature',
  'uppercase',
  'none',
  'success-only',
  'legacy-flatten',
] as const;
export type ResponseSignatureMode = (typeof ResponseSignatureModes)[number];

/**
 * What `transaction/checkout` does with `successURL`, `failureURL`, `cancelURL` and `ipnURL` in its request:
 * `honour` them (default), or `ignore` them as the real gateway may (its table lists none): then only the
 * merchant's configured URLs (`merchantUrls`) are used, or none at all.
 */
export const CheckoutCallbackUrlModes = ['honour', 'ignore'] as const;
export type CheckoutCallbackUrlMode = (typeof CheckoutCallbackUrlModes)[number];

/**
 * Which `orderID` refund, void and capture accept:
 * - `either` (default): the original payment's orderID, or a reference of the merchant's own (a refund
 *   reference may not repeat: 409);
 * - `original`: only the original payment's orderID (anything else: 400);
 * - `unique`: only a new reference per call (the payment's orderID, or any orderID already used: 409).
 */
export const ManagementOrderIdModes = ['either', 'original', 'unique'] as const;
export type ManagementOrderIdMode = (typeof ManagementOrderIdModes)[number];

// How a request is read before its endpoint (played by request-checks.ts).

/**
 * Card fields (`cardNumber`…) in a pay request without `sourceOfFund`:
 * - `by-path` (default): on `/api/v1/transaction/pay` a 400 naming `sourceOfFund` (G3.6.1 §2.4.1: the card
 *   fields are "only required when sourceOfFund = CARD"); on the legacy paths a hosted card (G3.5 §2.3.1
 *   has no sourceOfFund: the card fields alone are "Use for Hosted Merchant only"; the .NET sample sends
 *   them so);
 * - `refuse`: a 400 naming `sourceOfFund` on every path;
 * - `card`: a hosted card on every path.
 */
export const CardWithoutSourceOfFundModes = ['by-path', 'refuse', 'card'] as const;
export type CardWithoutSourceOfFundMode = (typeof CardWithoutSourceOfFundModes)[number];

/**
 * An optional or conditional `requestData` field sent as a string of spaces: `absent` (default) reads it as
 * not sent, as the API playground's defaults need (`" "` for the card fields, token, sourceOfFund and URLs)
 * [INFERRED]; `as-sent` validates and uses it as it is. Mandatory fields are always taken as sent.
 */
export const BlankFieldModes = ['absent', 'as-sent'] as const;
export type BlankFieldMode = (typeof BlankFieldModes)[number];

/**
 * A payment (checkout, pay, payWithOption, payWithQR) whose orderID an earlier one used:
 * - `by-path` (default): 409 on the `/api/v1` paths (G3.6.1 §1.5 "409 Duplicate Transaction"); accepted on
 *   the legacy paths, where G3.5 §1.5 has "409 Duplicate Request" and Galaxy Pay's Node sample and Node demo
 *   send one constant orderID with every payment (`app.js`: `orderID: "9144c96d…"`);
 * - `refuse`: 409 on every path; `allow`: accepted on every path (only the requestID must be new).
 */
export const DuplicateOrderIdModes = ['by-path', 'refuse', 'allow'] as const;
export type DuplicateOrderIdMode = (typeof DuplicateOrderIdModes)[number];

// The payment-link IPN (links.ts).

/**
 * The payment-link IPN's two documented shapes (docs `/upc/payment-link/ipn-callback`, ledger L1–L3):
 * `example`, what Galaxy Pay's own example decodes to (seed `001_…`: `requestID`, `transactionID`, `orderID`
 * holding the link's orderNo, `orderNumber`, `orderCurrency`…), and `table`, what the table above it lists
 * (`requestId`, `orderNo`, `orderReference`). Where they disagree the example, real traffic, wins by default.
 */
export const LinkIpnShapes = ['example', 'table'] as const;
export type LinkIpnShape = (typeof LinkIpnShapes)[number];

// Apple Pay merchant validation (apple-pay.ts).

/** Where the merchant session goes in `responseData`: as it is (`bare`, default) or under `merchantSession`. */
export const ApplePaySessionShapes = ['bare', 'wrapped'] as const;
export type ApplePaySessionShape = (typeof ApplePaySessionShapes)[number];

// The archived QR API (legacy-qr.ts).

/** How `X-Signature` is checked: sha256(raw body + salt), like the current API [INFERRED], or not at all. */
export const LegacyQrSignatureModes = ['body+salt', 'unchecked'] as const;
export type LegacyQrSignatureMode = (typeof LegacyQrSignatureModes)[number];
