/**
 * Galaxy Pay's code tables (docs/protocol.md §8–§9). `as const` objects with derived unions, no enums.
 */

/** Documented endpoint paths, relative to the API base URL. */
export const Endpoint = {
  Pay: 'api/v1/transaction/pay',
  PayWithOption: 'api/v1/transaction/payWithOption',
  PayWithQr: 'api/v1/transaction/payWithQR',
  Checkout: 'api/v1/transaction/checkout',
  CreatePaymentLink: 'api/v1/transaction/createPaymentLink',
  Query: 'api/v1/transaction/query',
  Refund: 'api/v1/transaction/refund',
  Void: 'api/v1/transaction/void',
  Capture: 'api/v1/transaction/capture',
  CreateToken: 'api/v1/tokenization/createToken',
  DeleteToken: 'api/v1/tokenization/deleteToken',
  QueryTokens: 'api/v1/tokenization/queryTokens',
  /**
   * Remove Token (G3.6.1 §2.8 gives the fields, no URL): the path the official API playground calls
   * (`sample-upc-dotnet`, branch `feature/luanlm/Docker_Nodejs_Demo`, `UPC-Api/Controllers/TokenController.cs`).
   */
  RemoveToken: 'api/v1/token/remove',
  /**
   * Apple Pay merchant validation [INFERRED]: the docs list an "Apple Pay Validation" page (Appendix › Payment
   * Hubs) whose content is not available; this path is our guess, and the signer's is configurable.
   */
  ApplePayValidation: 'api/v1/applepay/validateMerchant',
} as const;

/** Gateway hosts (§2). The sandbox plays them locally. */
export const GatewayBaseUrl = {
  Uat: 'https://uat-secure.galaxypay.vn',
  Production: 'https://secure.galaxypay.vn',
} as const;

/** Response codes (§10), with the current documentation's meaning. */
export const ResponseCode = {
  Success: '200',
  BadRequest: '400',
  Unauthorized: '401',
  Expired: '408',
  Duplicate: '409',
  CancelledByCustomer: '499',
  BadGateway: '502',
  ServiceUnavailable: '503',
  Timeout: '504',
  AuthenticationFailure: '505',
} as const;
export type ResponseCode = (typeof ResponseCode)[keyof typeof ResponseCode];

/** English meaning of each documented response code. */
export const responseCodeMeaning: Readonly<Record<ResponseCode, string>> = {
  '200': 'Success',
  '400': 'Bad Request (missing required fields)',
  '401': 'Unauthorized (Invalid API Key or Invalid Signature)',
  '408': 'Transaction Expired',
  '409': 'Transaction Duplicate',
  '499': 'Transaction is cancelled by Customer',
  '502': 'Bad Gateway (cannot connect to Service Provider)',
  '503': 'Service Unavailable (cannot send request to Service Provider)',
  '504': 'Request Timeout',
  '505': 'Authentication Failure (3DS flow or not supported)',
};

/**
 * `transactionStatus` values that Galaxy Pay does not document but a payment can be in [INFERRED][CONFIRM]:
 * the sandbox uses them, and the signer must never treat them as paid.
 */
export const NonFinalStatus = {
  /** Created, the shopper has not finished. */
  Processing: '102',
  /** Authorized with `isAutoCapture:"false"`: capture or void must follow. */
  Authorized: '202',
  /** An authorization released by void; no money moved. */
  Voided: '210',
} as const;

/** What a `responseCode` / `transactionStatus` means for an order (§9). */
export type TransactionOutcome =
  'paid' | 'cancelled' | 'expired' | 'failed' | 'pending' | 'authorized' | 'voided' | 'unknown';

/** The outcome of each code that is not a failure. */
const OUTCOMES: Readonly<Record<string, TransactionOutcome>> = {
  [ResponseCode.Success]: 'paid',
  [ResponseCode.CancelledByCustomer]: 'cancelled',
  [ResponseCode.Expired]: 'expired',
  [ResponseCode.BadGateway]: 'unknown',
  [ResponseCode.ServiceUnavailable]: 'unknown',
  [ResponseCode.Timeout]: 'unknown',
  [NonFinalStatus.Processing]: 'pending',
  [NonFinalStatus.Authorized]: 'authorized',
  [NonFinalStatus.Voided]: 'voided',
};

/**
 * Maps a gateway result code to an outcome. Only `200` is paid (`"00"` from old examples is tolerated as a
 * call status, never as a payment result). 502–504 are provider problems: query again later.
 */
export function classifyTransactionStatus(code: unknown): TransactionOutcome {
  const text = typeof code === 'number' ? String(code) : code;
  if (typeof text !== 'string' || !/^\d{1,3}$/.test(text)) return 'unknown';
  return Object.hasOwn(OUTCOMES, text) ? OUTCOMES[text]! : 'failed';
}

/** Whether an API call's `responseCode` means the call succeeded (`"00"` appears in old Pay examples). */
export function isSuccessResponseCode(code: unknown): boolean {
  return code === '200' || code === '00' || code === 200;
}

/** `paymentMethod` (§11.1). */
export const PaymentMethod = {
  Domestic: 'DOMESTIC',
  International: 'INTERNATIONAL',
  Wallet: 'WALLET',
  Hub: 'HUB',
  QrPay: 'QRPAY',
  Bnpl: 'BNPL',
} as const;
export type PaymentMethod = (typeof PaymentMethod)[keyof typeof PaymentMethod];
export const paymentMethods: readonly PaymentMethod[] = Object.values(PaymentMethod);

/** `apiOperation` on `pay`. */
export const ApiOperation = {
  Pay: 'PAY',
  PayWithCreateToken: 'PAY_WITH_CREATE_TOKEN',
  FastPay: 'FAST_PAY',
} as const;
export type ApiOperation = (typeof ApiOperation)[keyof typeof ApiOperation];

/** `sourceOfFund` on `pay`. */
export const SourceOfFund = { Card: 'CARD', Token: 'TOKEN' } as const;
export type SourceOfFund = (typeof SourceOfFund)[keyof typeof SourceOfFund];

/** Hosted-page languages. */
export const languages = ['vi', 'en'] as const;
export type Language = (typeof languages)[number];

/** Currencies (§11.2). VND has no minor unit. */
export const currencies = [
  'VND',
  'USD',
  'THB',
  'JPY',
  'INR',
  'TWD',
  'MYR',
  'SGD',
  'KRW',
  'KHR',
  'MMK',
  'IDR',
  'HKD',
  'CNY',
  'AUD',
] as const;
export type CurrencyCode = (typeof currencies)[number];

/** `sourceType` codes per payment method (§11.3); DOMESTIC takes bank codes (or a NAPAS BIN, as in V1). */
export const sourceTypes = {
  INTERNATIONAL: ['VISA', 'MASTER', 'JCB', 'AMEX'],
  WALLET: ['MOMO', 'ZALOPAY', 'GPAY', 'GALAXYPAY', 'VIETEL', 'VIETTEL'],
  HUB: ['2C2P', 'POLI', 'PAYTM'],
  QRPAY: ['QRPAY', 'VNPAY'],
  BNPL: ['KREDIVO'],
} as const;

/** Domestic bank codes for `sourceType` with DOMESTIC [GUIDE 3.6.1]. */
export const domesticBanks = [
  'SAIGONBANK',
  'SACOMBANK',
  'AGRIBANK',
  'DONGABANK',
  'TECHCOMBANK',
  'GPBANK',
  'BACABANK',
  'PVCOMBANK',
  'OCEANBANK',
  'VIETINBANK',
  'ACB',
  'BIDV',
  'NCB',
  'VRB',
  'MB',
  'TPBANK',
  'SHINHANBANK',
  'ABBANK',
  'MSB',
  'VIETABANK',
  'NAMABANK',
  'SCB',
  'PGBANK',
  'EXIMBANK',
  'VPBANK',
  'VIETBANK',
  'IVB',
  'VIETCOMBANK',
  'HDBANK',
  'BAOVIETBANK',
  'PUBLICBANK',
  'SEABANK',
  'VIB',
  'HONGLEONGBANK',
  'SHB',
  'OCB',
  'LIENVIETPOSTBANK',
  'KIENLONGBANK',
  'VIETCAPITALBANK',
  'KEBHANA',
  'WOORIBANK',
  'UOB',
  'VIETCREDIT',
  'MAFC',
] as const;

/** NAPAS BINs seen in 2022 docs and vector V1 (`sourceType:"970400"`). */
export const napasBins: Readonly<Record<string, string>> = {
  '970400': 'SAIGONBANK',
  '970403': 'SACOMBANK',
  '970405': 'AGRIBANK',
  '970415': 'VIETINBANK',
  '970418': 'BIDV',
  '970422': 'MB',
  '970436': 'VIETCOMBANK',
  '970437': 'HDBANK',
};

/** Whether `sourceType` is one the gateway documents for that method (blank allowed where optional). */
export function isKnownSourceType(method: string, sourceType: string): boolean {
  if (method === PaymentMethod.Domestic) {
    return (
      (domesticBanks as readonly string[]).includes(sourceType) ||
      Object.hasOwn(napasBins, sourceType)
    );
  }
  // Own keys only: `method in` would find `constructor` or `__proto__` on the prototype.
  if (!Object.hasOwn(sourceTypes, method)) return false;
  return (sourceTypes as Record<string, readonly string[]>)[method]!.includes(sourceType);
}

/** Payment-link `paymentMethods` values (§11.3). */
export const paymentLinkMethods = [
  'GALAXYPAY',
  'GPAY',
  'MPGS',
  'QRPAY',
  'MOMO',
  'ZALOPAY',
  'NAPAS',
] as const;
export type PaymentLinkMethod = (typeof paymentLinkMethods)[number];

/** Payment-link `expiryUnit`. */
export const expiryUnits = ['DAY', 'HOUR', 'MINUTE'] as const;
export type ExpiryUnit = (typeof expiryUnits)[number];

/** The merchant's IPN answer (§8.3): its own processing status, not an echo of the gateway code. */
export const IpnStatus = { Accepted: '200', NotFound: '404', AlreadyProcessed: '409' } as const;
export type IpnStatus = (typeof IpnStatus)[keyof typeof IpnStatus];

/** A test card and what the gateway does with it. */
export interface TestCard {
  number: string;
  method: 'DOMESTIC' | 'INTERNATIONAL';
  network: 'MPGS' | 'CYBERSOURCE' | 'NAPAS';
  brand: 'VISA' | 'MASTER' | 'NAPAS';
  /** `MM/YY` expiry (international) or issue date (domestic). */
  date: string;
  cvv?: string;
  holder?: string;
  /** Asks for the OTP step (3-D Secure, or NAPAS OTP). */
  otp: boolean;
  /** What the issuer answers. `decline` cards are the sandbox's own, not Galaxy Pay's. */
  outcome: 'approve' | 'decline';
  /** `DOCS createToken`: the card of the docs' Create Token example (§7.13), not in a test-card table. */
  source: 'GUIDE 3.6.1' | 'UPC 3.1' | 'DOCS createToken' | 'sandbox';
}

/** The OTP the test cards accept (the guide gives `otp` for NAPAS; the sandbox uses it for 3-D Secure too). */
export const TEST_OTP = 'otp';

/** What the test cards of one network share: method, network, brand, date, and CVV or holder. */
type CardProfile = Pick<TestCard, 'method' | 'network' | 'brand' | 'date' | 'cvv' | 'holder'>;

const MPGS_MASTER: CardProfile = {
  method: 'INTERNATIONAL',
  network: 'MPGS',
  brand: 'MASTER',
  date: '01/39',
  cvv: '100',
};
const MPGS_VISA: CardProfile = { ...MPGS_MASTER, brand: 'VISA' };
const CYBERSOURCE_VISA: CardProfile = {
  ...MPGS_VISA,
  network: 'CYBERSOURCE',
  date: '12/30',
  cvv: '111',
};
const NAPAS: CardProfile = {
  method: 'DOMESTIC',
  network: 'NAPAS',
  brand: 'NAPAS',
  date: '03/07',
  holder: 'NGUYEN VAN A',
};

function testCard(
  number: string,
  profile: CardProfile,
  step: 'otp' | 'no-otp',
  source: TestCard['source'],
  outcome: TestCard['outcome'] = 'approve',
): TestCard {
  return { number, ...profile, otp: step === 'otp', outcome, source };
}

/** Documented test cards (§12), the docs' createToken card, and two sandbox-only decline cards. */
export const testCards: readonly TestCard[] = [
  testCard('5506920809243667', MPGS_MASTER, 'otp', 'GUIDE 3.6.1'),
  testCard('4012000033330026', MPGS_VISA, 'no-otp', 'GUIDE 3.6.1'),
  testCard('4456530000001096', CYBERSOURCE_VISA, 'otp', 'GUIDE 3.6.1'),
  testCard('4456530000000064', CYBERSOURCE_VISA, 'no-otp', 'GUIDE 3.6.1'),
  testCard('9704000000000018', NAPAS, 'otp', 'GUIDE 3.6.1'),
  testCard('5123450000000008', MPGS_MASTER, 'otp', 'UPC 3.1'),
  testCard('5111111111111118', MPGS_MASTER, 'no-otp', 'UPC 3.1'),
  testCard('9704020000000016', NAPAS, 'otp', 'UPC 3.1'),
  // The docs' createToken example (HUYNH HUU LOC, 01/39, CVV 100), which succeeds there. Its BIN is the MPGS
  // test card's above; whether it asks for 3-D Secure is not documented: like that card, it does [INFERRED].
  testCard(
    '5506922400634930',
    { ...MPGS_MASTER, holder: 'HUYNH HUU LOC' },
    'otp',
    'DOCS createToken',
  ),
  testCard('4000000000000002', MPGS_VISA, 'no-otp', 'sandbox', 'decline'),
  testCard('9704000000000026', NAPAS, 'otp', 'sandbox', 'decline'),
];

/** Finds a test card by number (spaces ignored). */
export function findTestCard(number: string): TestCard | undefined {
  const digits = number.replace(/\s+/g, '');
  return testCards.find(card => card.number === digits);
}

/** Masks a card number the way the gateway shows it: first six and last four digits. */
export function maskCardNumber(number: string): string {
  const digits = number.replace(/\D/g, '');
  // Six plus four would show all of a 10-digit number.
  if (digits.length <= 10) return '*'.repeat(digits.length);
  return `${digits.slice(0, 6)}${'*'.repeat(digits.length - 10)}${digits.slice(-4)}`;
}
