import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { currencies } from './codes.js';
import { encodeCallback, sha256Hex, signText } from './sign.js';
import type { PaymentLinkCallback, TransactionCallback } from './types.js';
import {
  CallbackError,
  CallbackErrorCode,
  DEFAULT_MAX_DATA_LENGTH,
  type VerifyCallbackOptions,
  verifyCallback,
  verifyResponseSignature,
} from './verify.js';

const SALT = 'merchant-test-salt';
const RUNS = { numRuns: 200 };

const TRANSACTION: TransactionCallback = {
  requestID: '14653fa12f694f4f9d4b240e1bebbdf3',
  responseDateTime: '20220426083530',
  responseCode: '200',
  responseMessage: 'Giao dịch thành công.',
  responseData: {
    transactionID: '2212055304051619700136225',
    transactionDateTime: '20220426083528',
    orderID: '2a43e4b9-c5df-49e6-8b18-42af9bcd150e',
    orderNumber: '205249008064',
    orderAmount: '100000',
    orderCurrency: 'VND',
    orderDateTime: '20220426083322',
    orderDescription: 'Thanh toán đơn hàng',
    language: 'vi',
  },
};

const PAYMENT_LINK: PaymentLinkCallback = {
  requestId: '7543669308d942569694bc2eb9e1117b',
  responseDateTime: '20250410095012',
  responseCode: '200',
  responseMessage: 'Success',
  responseData: {
    orderNo: 'PL2504100001',
    orderReference: 'ORDER-1',
    orderAmount: '150000',
    extraData: { fullName: 'Nguyễn Văn Ă', phone: '0900000000', email: 'a@example.com' },
  },
};

/** Signs an exact text as callback `data`: for content that `encodeCallback` cannot produce. */
function signedText(text: string): { data: string; signature: string } {
  return signedData(Buffer.from(text, 'utf8').toString('base64'));
}

/** Signs an exact `data` string, even one that is not base64. */
function signedData(data: string): { data: string; signature: string } {
  return { data, signature: signText(data, SALT) };
}

/** The error `verifyCallback` throws for `input`; fails the test if it throws anything else or accepts. */
function rejectionOf(input: unknown, options?: VerifyCallbackOptions): CallbackError {
  try {
    verifyCallback(input as { data: unknown; signature: unknown }, SALT, options);
  } catch (error) {
    if (error instanceof CallbackError) return error;
    throw error;
  }
  assert.fail('verifyCallback accepted the callback');
}

/** A copy of `value` without `key`, to build payloads that lack a mandatory field. */
function without<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
  const { [key]: _omitted, ...rest } = value;
  return rest;
}

function summary(error: CallbackError): { code: string; signed: boolean } {
  return { code: error.code, signed: error.signed };
}

/** One test per case: `verifyCallback` rejects its input with `code`, after the signature matched or not. */
function itRejects(
  cases: Array<[string, unknown]>,
  code: CallbackErrorCode,
  signed: boolean,
): void {
  for (const [condition, input] of cases) {
    it(`rejects ${condition} as ${code}, ${signed ? 'signed' : 'not signed'}`, () => {
      assert.deepEqual(summary(rejectionOf(input)), { code, signed });
    });
  }
}

/** A transaction callback whose `data` is exactly `length` characters long (a multiple of 4). */
function callbackOfLength(length: number): { data: string; signature: string } {
  const base = Buffer.byteLength(JSON.stringify({ ...TRANSACTION, responseMessage: '' }));
  const filler = 'x'.repeat((length / 4) * 3 - base);
  return encodeCallback({ ...TRANSACTION, responseMessage: filler }, SALT);
}

const vietnamese = fc.constantFrom(
  'Thanh toán đơn hàng',
  'Nguyễn Văn Ă',
  'Giao dịch thành công.',
  'Đặng Thị Hương, 12 Lê Lợi, Quận 1',
  'Hoàn tiền 🧾💳🇻🇳',
);
const anyText = fc.oneof(
  vietnamese,
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.string(),
);
const someText = fc.oneof(
  vietnamese,
  fc.string({ unit: 'grapheme', minLength: 1 }),
  fc.string({ unit: 'binary', minLength: 1 }),
);
const amount = fc.oneof(
  fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  fc.bigInt({ min: 1n, max: 10n ** 16n - 1n }).map(String),
);
/** Callbacks are parsed JSON, so their objects always have Object.prototype. */
const plain = { noNullPrototype: true };
/** Keys an extra field must not take: refused on purpose, or checked by the verifier. */
const RESERVED_KEYS = ['__proto__', 'constructor', 'prototype', 'tokenization'];
const extraFields = fc.dictionary(
  fc.string().filter(key => !RESERVED_KEYS.includes(key)),
  anyText,
  { ...plain, maxKeys: 3 },
);

const transactionCallback = fc
  .record(
    {
      requestID: anyText,
      responseDateTime: fc.integer({ min: 20000101000000, max: 20991231235959 }).map(String),
      responseCode: fc.constantFrom('200', '499', '408', '505', '102', 200, 499),
      responseMessage: anyText,
      responseData: fc.record(
        {
          transactionID: someText,
          orderID: someText,
          orderAmount: amount,
          orderCurrency: fc.constantFrom(...currencies),
          orderDescription: anyText,
          transactionStatus: fc.constantFrom('200', '499', '202'),
          extra: extraFields,
        },
        plain,
      ),
    },
    plain,
  )
  .map(({ responseData: { extra, ...fields }, ...envelope }) => ({
    ...envelope,
    responseData: { ...extra, ...fields },
  }));

const paymentLinkCallback = fc.record(
  {
    requestId: anyText,
    responseDateTime: fc.integer({ min: 20000101000000, max: 20991231235959 }),
    responseCode: fc.constantFrom('200', '505'),
    responseMessage: anyText,
    responseData: fc.record(
      {
        orderNo: someText,
        orderAmount: amount,
        extraData: fc.record(
          { fullName: anyText, phone: anyText, shippingAddress: anyText },
          plain,
        ),
      },
      plain,
    ),
  },
  plain,
);

const callbackPayload = fc.oneof(transactionCallback, paymentLinkCallback);

/** One character (one code point), from the base64 alphabet or anywhere in Unicode. */
const oneCharacter = fc.oneof(
  fc.constantFrom(
    ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=',
    ' ',
    '-',
    '_',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);

const everything = fc.anything({
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withObjectString: true,
  withNullPrototype: true,
  withBigInt: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true,
  withUnicodeString: true,
});

describe('verifyCallback', () => {
  describe('with a valid signature over a callback of a known shape', () => {
    it('returns the decoded transaction callback', () => {
      const envelope = encodeCallback(TRANSACTION, SALT);

      const payload = verifyCallback(envelope, SALT);

      assert.deepEqual(payload, TRANSACTION);
    });

    it('returns the decoded payment-link IPN, whose request id is spelled requestId', () => {
      const envelope = encodeCallback(PAYMENT_LINK, SALT);

      const payload = verifyCallback(envelope, SALT);

      assert.deepEqual(payload, PAYMENT_LINK);
    });

    it('accepts a signature written in upper-case hex (lower-cased first, a pinned choice)', () => {
      const { data, signature } = encodeCallback(TRANSACTION, SALT);

      const payload = verifyCallback({ data, signature: signature.toUpperCase() }, SALT);

      assert.deepEqual(payload, TRANSACTION);
    });

    it('accepts responseCode and amounts sent as JSON numbers', () => {
      const numeric = {
        ...TRANSACTION,
        responseCode: 200,
        responseData: { ...TRANSACTION.responseData, orderAmount: 100000 },
      };

      const payload = verifyCallback(encodeCallback(numeric, SALT), SALT);

      assert.deepEqual(payload, numeric);
    });

    it('accepts data of exactly the default maximum length', () => {
      const envelope = callbackOfLength(DEFAULT_MAX_DATA_LENGTH);

      assert.equal(envelope.data.length, DEFAULT_MAX_DATA_LENGTH);
      assert.equal(verifyCallback(envelope, SALT).responseCode, '200');
    });
  });

  describe('with a signature that does not match data', () => {
    const { data, signature } = encodeCallback(TRANSACTION, SALT);
    const cases: Array<[string, unknown]> = [
      ['a random signature', { data, signature: randomBytes(32).toString('hex') }],
      [
        'the signature of other data',
        { data, signature: encodeCallback(PAYMENT_LINK, SALT).signature },
      ],
      ['a signature made with another salt', encodeCallback(TRANSACTION, 'another-salt')],
      [
        'a signature over the decoded JSON instead of the base64 text',
        { data, signature: signText(JSON.stringify(TRANSACTION), SALT) },
      ],
      ['a signature of data without the salt', { data, signature: sha256Hex(data) }],
      ['a signature with the salt placed first', { data, signature: sha256Hex(SALT + data) }],
      [
        'data re-encoded in transit (the same JSON, re-serialized with spaces)',
        { data: Buffer.from(JSON.stringify(TRANSACTION, null, 1)).toString('base64'), signature },
      ],
    ];

    itRejects(cases, CallbackErrorCode.InvalidSignature, false);
  });

  describe('with a malformed envelope', () => {
    const { data, signature } = encodeCallback(TRANSACTION, SALT);
    const cases: Array<[string, unknown]> = [
      ['a missing data', { signature }],
      ['a missing signature', { data }],
      ['an empty data', { data: '', signature: signText('', SALT) }],
      ['a null data', { data: null, signature }],
      ['an empty signature', { data, signature: '' }],
      ['a 63-character signature', { data, signature: signature.slice(0, 63) }],
      ['a 65-character signature', { data, signature: `${signature}0` }],
      ['a 64-character signature that is not hex', { data, signature: 'g'.repeat(64) }],
      ['a signature with surrounding whitespace', { data, signature: ` ${signature}\n` }],
      [
        'a base64-encoded signature',
        { data, signature: Buffer.from(signature, 'hex').toString('base64') },
      ],
      ['data repeated as an array (parameter pollution)', { data: ['a', 'b'], signature }],
      ['data as a one-element array', { data: [data], signature }],
      ['signature repeated as an array', { data, signature: [signature, signature] }],
      ['data as an object', { data: { value: data }, signature }],
      ['data as a number', { data: 12345, signature }],
      ['signature as a number', { data, signature: 12345 }],
      ['data as a boxed string', { data: Object(data), signature }],
      ['an input that is null', null],
      ['an input that is undefined', undefined],
      ['an input that is a string', `data=${data}&signature=${signature}`],
    ];

    itRejects(cases, CallbackErrorCode.Malformed, false);
  });

  describe('with data larger than maxDataLength', () => {
    it('rejects correctly signed data above the default 32 KiB as callback_too_large', () => {
      const envelope = callbackOfLength(DEFAULT_MAX_DATA_LENGTH + 4);

      assert.equal(DEFAULT_MAX_DATA_LENGTH, 32 * 1024);
      assert.deepEqual(summary(rejectionOf(envelope)), {
        code: CallbackErrorCode.TooLarge,
        signed: false,
      });
    });

    it('honours a smaller maxDataLength and accepts data of exactly that length', () => {
      const envelope = encodeCallback(TRANSACTION, SALT);

      const accepted = verifyCallback(envelope, SALT, { maxDataLength: envelope.data.length });
      const refused = rejectionOf(envelope, { maxDataLength: envelope.data.length - 1 });

      assert.deepEqual(accepted, TRANSACTION);
      assert.equal(refused.code, CallbackErrorCode.TooLarge);
    });

    it('refuses oversized data before looking at the signature at all', () => {
      const { data } = callbackOfLength(DEFAULT_MAX_DATA_LENGTH + 4);

      const error = rejectionOf({ data, signature: 'not a signature' });

      assert.equal(error.code, CallbackErrorCode.TooLarge);
    });
  });

  describe('with a valid signature over content that is not valid base64 UTF-8 JSON', () => {
    const cases: Array<[string, { data: string; signature: string }, CallbackErrorCode]> = [
      ['data that is not base64', signedData('not base64!'), CallbackErrorCode.InvalidEncoding],
      ['base64 without its padding', signedData('e30'), CallbackErrorCode.InvalidEncoding],
      ['base64url instead of base64', signedData('-_-_'), CallbackErrorCode.InvalidEncoding],
      [
        'base64 whose "+" became a space in a query string',
        signedData('ab c'),
        CallbackErrorCode.InvalidEncoding,
      ],
      [
        'bytes that are not UTF-8',
        signedData(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64')),
        CallbackErrorCode.InvalidEncoding,
      ],
      [
        'an encoded UTF-16 surrogate (CESU-8), which is not UTF-8',
        signedData(Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]).toString('base64')),
        CallbackErrorCode.InvalidEncoding,
      ],
      ['text that is not JSON', signedText('not json'), CallbackErrorCode.InvalidJson],
      ['truncated JSON', signedText('{"requestID":'), CallbackErrorCode.InvalidJson],
    ];

    for (const [condition, envelope, code] of cases) {
      it(`rejects ${condition} as ${code}, signed`, () => {
        assert.deepEqual(summary(rejectionOf(envelope)), { code, signed: true });
      });
    }
  });

  describe('with a valid signature over JSON that is not a known callback', () => {
    const { responseData } = TRANSACTION;
    const cases: Array<[string, unknown]> = [
      ['JSON null', null],
      ['a JSON array', [TRANSACTION]],
      ['a JSON string', 'TRANSACTION'],
      ['a callback without responseData', without(TRANSACTION, 'responseData')],
      ['a callback whose responseData is an array', { ...TRANSACTION, responseData: [] }],
      ['a callback whose responseData is a string', { ...TRANSACTION, responseData: 'paid' }],
      ['a callback without requestID', without(TRANSACTION, 'requestID')],
      ['a callback whose requestID is a number', { ...TRANSACTION, requestID: 42 }],
      ['a callback without responseCode', without(TRANSACTION, 'responseCode')],
      ['a callback whose responseCode is not numeric', { ...TRANSACTION, responseCode: 'OK' }],
      ['a callback whose responseCode has four digits', { ...TRANSACTION, responseCode: '2000' }],
      ...(['transactionID', 'orderID', 'orderAmount', 'orderCurrency'] as const).flatMap(
        field =>
          [
            [
              `a callback without responseData.${field}`,
              { ...TRANSACTION, responseData: without(responseData, field) },
            ],
            [
              `a callback with an empty responseData.${field}`,
              { ...TRANSACTION, responseData: { ...responseData, [field]: '' } },
            ],
            [
              `a callback whose responseData.${field} is an object`,
              { ...TRANSACTION, responseData: { ...responseData, [field]: {} } },
            ],
          ] as Array<[string, unknown]>,
      ),
      [
        'a callback whose transactionStatus is an object',
        { ...TRANSACTION, responseData: { ...responseData, transactionStatus: { code: '200' } } },
      ],
      [
        'a callback whose tokenization is a string',
        { ...TRANSACTION, responseData: { ...responseData, tokenization: 'tok_123' } },
      ],
      ['a payment-link IPN whose requestId is a number', { ...PAYMENT_LINK, requestId: 7 }],
      [
        'a payment-link IPN without orderNo',
        { ...PAYMENT_LINK, responseData: without(PAYMENT_LINK.responseData, 'orderNo') },
      ],
      [
        'a payment-link IPN without orderAmount',
        { ...PAYMENT_LINK, responseData: without(PAYMENT_LINK.responseData, 'orderAmount') },
      ],
      [
        'a payment-link IPN whose extraData is a string',
        { ...PAYMENT_LINK, responseData: { ...PAYMENT_LINK.responseData, extraData: 'x' } },
      ],
    ];

    itRejects(
      cases.map(([condition, payload]) => [condition, signedText(JSON.stringify(payload))]),
      CallbackErrorCode.InvalidPayload,
      true,
    );
  });

  describe('with a valid signature over JSON that carries prototype-polluting keys', () => {
    const json = JSON.stringify(TRANSACTION);
    const withInResponseData = (extra: string) =>
      json.replace('"orderCurrency":"VND"', `"orderCurrency":"VND",${extra}`);
    const cases: Array<[string, string]> = [
      ['a top-level __proto__ key', `{"__proto__":{"polluted":"yes"},${json.slice(1)}`],
      ['a __proto__ key inside responseData', withInResponseData('"__proto__":{"polluted":"yes"}')],
      [
        'a top-level constructor key',
        `{"constructor":{"prototype":{"polluted":"yes"}},${json.slice(1)}`,
      ],
      [
        'a constructor key inside responseData',
        withInResponseData('"constructor":{"polluted":"yes"}'),
      ],
      [
        'a constructor key deep inside an array',
        withInResponseData('"extra":[{"a":[{"constructor":{"polluted":"yes"}}]}]'),
      ],
      ['a prototype key', withInResponseData('"prototype":{"polluted":"yes"}')],
    ];

    for (const [condition, text] of cases) {
      it(`rejects ${condition} as invalid_payload, signed, and leaves Object.prototype clean`, () => {
        const error = rejectionOf(signedText(text));

        assert.deepEqual(summary(error), { code: CallbackErrorCode.InvalidPayload, signed: true });
        assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
      });
    }

    it('accepts the same callback with a harmless key where the polluting keys were put', () => {
      const harmless = withInResponseData('"note":{"polluted":"no"}');

      const payload = verifyCallback(signedText(harmless), SALT) as TransactionCallback;

      assert.notEqual(harmless, json);
      assert.deepEqual(payload.responseData, {
        ...TRANSACTION.responseData,
        note: { polluted: 'no' },
      });
    });
  });

  describe('properties', () => {
    it('returns exactly the signed payload for arbitrary callbacks, Vietnamese text and emoji included', () => {
      fc.assert(
        fc.property(callbackPayload, payload => {
          const envelope = encodeCallback(payload, SALT);

          assert.deepEqual(verifyCallback(envelope, SALT), payload);
        }),
        RUNS,
      );
    });

    it('rejects any single-character change to data as invalid_signature', () => {
      fc.assert(
        fc.property(callbackPayload, fc.nat(), oneCharacter, (payload, position, replacement) => {
          const { data, signature } = encodeCallback(payload, SALT);
          const index = position % data.length;
          fc.pre(replacement !== data[index]);
          const tampered = data.slice(0, index) + replacement + data.slice(index + 1);

          const error = rejectionOf({ data: tampered, signature });

          assert.deepEqual(summary(error), {
            code: CallbackErrorCode.InvalidSignature,
            signed: false,
          });
        }),
        RUNS,
      );
    });

    it('rejects any single-character change to signature other than a change of letter case', () => {
      const hexCharacter = fc.constantFrom(...'0123456789abcdefABCDEF');
      fc.assert(
        fc.property(
          callbackPayload,
          fc.nat({ max: 63 }),
          fc.oneof(hexCharacter, oneCharacter),
          (payload, index, replacement) => {
            const { data, signature } = encodeCallback(payload, SALT);
            fc.pre(replacement.toLowerCase() !== signature[index]);
            const tampered = signature.slice(0, index) + replacement + signature.slice(index + 1);

            const error = rejectionOf({ data, signature: tampered });

            const expected = /^[0-9a-f]$/.test(replacement.toLowerCase())
              ? CallbackErrorCode.InvalidSignature
              : CallbackErrorCode.Malformed;
            assert.deepEqual(summary(error), { code: expected, signed: false });
          },
        ),
        RUNS,
      );
    });

    it('throws only CallbackError for arbitrary data and signature values', () => {
      fc.assert(
        fc.property(everything, everything, (data, signature) => {
          assert.throws(() => verifyCallback({ data, signature }, SALT), CallbackError);
        }),
        RUNS,
      );
    });

    it('throws only CallbackError for an arbitrary value as the whole input', () => {
      fc.assert(
        fc.property(everything, input => {
          assert.throws(
            () => verifyCallback(input as { data: unknown; signature: unknown }, SALT),
            CallbackError,
          );
        }),
        RUNS,
      );
    });

    it('either returns or throws a signed CallbackError for arbitrary signed content', () => {
      const content = fc.oneof(
        fc.json().map(text => Buffer.from(text, 'utf8').toString('base64')),
        fc.string({ unit: 'binary', minLength: 1 }).map(t => Buffer.from(t).toString('base64')),
        fc.uint8Array({ minLength: 1 }).map(bytes => Buffer.from(bytes).toString('base64')),
        fc.string({ minLength: 1 }),
      );
      fc.assert(
        fc.property(content, data => {
          try {
            verifyCallback(signedData(data), SALT);
          } catch (error) {
            assert.ok(error instanceof CallbackError);
            assert.equal(error.signed, true);
          }
        }),
        RUNS,
      );
    });
  });
});

describe('verifyResponseSignature', () => {
  const raw =
    '{"requestID":"14653fa1-2f69-4f4f-9d4b-240e1bebbdf3","responseDateTime":"20220506092917","responseCode":"200","responseMessage":"Success","responseData":{"transactionID":"2212055304051619700136225","endpoint":"https://uat-payment.galaxypay.vn/pay/2212055304051619700136225"}}';

  it('accepts the signature of the raw response text and the salt', () => {
    assert.equal(verifyResponseSignature(raw, signText(raw, SALT), SALT), true);
  });

  it('accepts that signature in upper-case hex, as callbacks do', () => {
    assert.equal(verifyResponseSignature(raw, signText(raw, SALT).toUpperCase(), SALT), true);
  });

  const signature = signText(raw, SALT);
  const refused: Array<[string, string | null | undefined]> = [
    ['a null header', null],
    ['an undefined header', undefined],
    ['an empty header', ''],
    ['the signature of another text', signText(`${raw} `, SALT)],
    ['a 63-character signature', signature.slice(0, 63)],
    ['a 65-character signature', `${signature}a`],
    ['the signature made with another salt', signText(raw, 'another-salt')],
    ['the signature of the text without the salt', sha256Hex(raw)],
  ];
  for (const [condition, header] of refused) {
    it(`refuses ${condition}`, () => {
      assert.equal(verifyResponseSignature(raw, header, SALT), false);
    });
  }

  it('refuses the signature once any single character of the raw text has changed', () => {
    for (let index = 0; index < raw.length; index += 1) {
      const changed =
        raw.slice(0, index) + String.fromCharCode(raw.charCodeAt(index) ^ 1) + raw.slice(index + 1);

      assert.equal(verifyResponseSignature(changed, signature, SALT), false, `index ${index}`);
    }
  });

  it('refuses the signature over a re-serialized copy of the response', () => {
    const spaced = JSON.stringify(JSON.parse(raw) as unknown, null, 1);

    assert.equal(verifyResponseSignature(spaced, signature, SALT), false);
  });
});
