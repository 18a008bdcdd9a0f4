import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Endpoint } from './codes.js';
import { type FieldIssue, validateEnvelope, validateRequestData } from './fields.js';
import { S1_REQUEST as S1, V1_REQUEST as V1 } from './test-support.js';
import type { EndpointPath } from './types.js';

type Body = Record<string, unknown>;

const CHECKOUT: Body = S1.requestData;

/** V1, the documented Pay request, sends orderNumber and the dates as JSON numbers. */
const PAY: Body = V1.requestData;

/** Merchant Hosted Checkout with an international card (§7.1, sourceOfFund CARD). */
const PAY_BY_CARD: Body = {
  ...PAY,
  paymentMethod: 'INTERNATIONAL',
  sourceType: 'MASTER',
  sourceOfFund: 'CARD',
  cardNumber: '5506920809243667',
  cardHolderName: 'NGUYEN VAN A',
  cardExpireDate: '01/39',
  cardVerificationValue: '100',
};

const PAY_WITH_QR: Body = {
  apiOperation: 'PAY',
  orderID: 'dc9845fdb2fc4ebfa2563caffe26284a',
  orderAmount: '50000',
  orderCurrency: 'VND',
  orderDateTime: '20231222172332',
  orderDescription: 'Thanh toán đơn hàng',
  paymentMethod: 'QRPAY',
  sourceType: 'QRPAY',
};

const PAYMENT_LINK: Body = {
  orderID: 'link-0001',
  orderName: 'Payment for API Playground',
  orderAmount: 150000,
  orderCurrency: 'VND',
  orderDescription: 'Áo dài lụa',
  expiryDuration: 3,
  expiryUnit: 'DAY',
  paymentMethods: ['GALAXYPAY', 'MPGS', 'QRPAY', 'MOMO', 'ZALOPAY', 'NAPAS'],
  paymentFields: ['email', 'fullname', 'phone', 'shippingAddress'],
};

/** The §7.10 refund example. */
const REFUND: Body = {
  transactionID: '2311165672361384300115770',
  orderID: '17d17e5431a6473bb5ab91cf5a9080a4',
  orderAmount: 10000,
  orderCurrency: 'VND',
  orderDateTime: '20231116151903',
  orderDescription: 'DEMO REFUND TRANSACTION',
};

function without(body: Body, field: string): Body {
  const copy = { ...body };
  delete copy[field];
  return copy;
}

function fieldsOf(issues: FieldIssue[]): string[] {
  return issues.map(issue => issue.field);
}

const required = (field: string): FieldIssue[] => [
  { field: `requestData.${field}`, message: 'is required' },
];

/** The mandatory fields every payment request shares. */
const ORDER_MANDATORY = [
  'orderID',
  'orderAmount',
  'orderCurrency',
  'orderDateTime',
  'orderDescription',
  'paymentMethod',
];

/** One test per field: `body` without it is reported as `requestData.<field>` is required. */
function itRequires(endpoint: EndpointPath, body: Body, fields: string[]): void {
  for (const field of fields) {
    it(`reports a missing ${field} as requestData.${field} is required`, () => {
      assert.deepEqual(validateRequestData(endpoint, without(body, field)), required(field));
    });
  }
}

describe('validateEnvelope', () => {
  it('finds no issue in the S1 checkout envelope, whose requestDateTime is a string', () => {
    assert.deepEqual(validateEnvelope(S1), []);
  });

  it('finds no issue in the V1 pay envelope, whose requestDateTime is a number', () => {
    assert.deepEqual(validateEnvelope(V1), []);
  });

  it('accepts a requestID of exactly 50 characters', () => {
    assert.deepEqual(validateEnvelope({ ...S1, requestID: 'a'.repeat(50) }), []);
  });

  const rejected: Array<[string, unknown, string]> = [
    ['a body that is null', null, 'body'],
    ['a body that is an array', [S1], 'body'],
    ['a body that is JSON text', JSON.stringify(S1), 'body'],
    ['a missing requestID', without(S1, 'requestID'), 'requestID'],
    ['an empty requestID', { ...S1, requestID: '' }, 'requestID'],
    ['a requestID of 51 characters', { ...S1, requestID: 'a'.repeat(51) }, 'requestID'],
    ['a requestID that is a number', { ...S1, requestID: 42 }, 'requestID'],
    ['a missing requestDateTime', without(S1, 'requestDateTime'), 'requestDateTime'],
    [
      'a requestDateTime on 31 February',
      { ...S1, requestDateTime: '20230231175152' },
      'requestDateTime',
    ],
    [
      'an ISO requestDateTime',
      { ...S1, requestDateTime: '2023-07-26T17:51:52' },
      'requestDateTime',
    ],
    ['a missing requestData', without(S1, 'requestData'), 'requestData'],
    ['a requestData that is an array', { ...S1, requestData: [] }, 'requestData'],
    ['a requestData that is JSON text', { ...S1, requestData: '{}' }, 'requestData'],
  ];
  for (const [condition, body, field] of rejected) {
    it(`reports ${condition} on ${field}`, () => {
      assert.deepEqual(fieldsOf(validateEnvelope(body)), [field]);
    });
  }

  it('reports every problem of an empty object at once', () => {
    assert.deepEqual(fieldsOf(validateEnvelope({})), [
      'requestID',
      'requestDateTime',
      'requestData',
    ]);
  });
});

describe('validateRequestData', () => {
  describe('checkout', () => {
    it('finds no issue in the S1 body', () => {
      assert.deepEqual(validateRequestData(Endpoint.Checkout, CHECKOUT), []);
    });

    const accepted: Array<[string, Body]> = [
      [
        'accepts every numeric field as a string of digits',
        {
          orderAmount: '100000',
          orderNetAmount: '90000',
          orderFeeAmount: '15000',
          orderDiscountAmount: '5000',
          orderDateTime: '20230726175152',
          apiVersion: '2',
        },
      ],
      [
        'accepts orderNumber and orderDateTime as JSON numbers, as the documentation sends them',
        { orderNumber: 205249008064, orderDateTime: 20230726175152 },
      ],
      [
        'accepts fields it does not know, as the gateway does',
        { apiOperation: 'PAY', sourceOfFund: 'CARD', merchantNote: { anything: ['goes'] } },
      ],
    ];
    for (const [title, changes] of accepted) {
      it(title, () => {
        assert.deepEqual(validateRequestData(Endpoint.Checkout, { ...CHECKOUT, ...changes }), []);
      });
    }

    itRequires(Endpoint.Checkout, CHECKOUT, [
      ...ORDER_MANDATORY,
      'orderNetAmount',
      'orderFeeAmount',
      'orderDiscountAmount',
    ]);

    it('treats null and the empty string as missing', () => {
      assert.deepEqual(
        validateRequestData(Endpoint.Checkout, { ...CHECKOUT, orderID: null }),
        required('orderID'),
      );
      assert.deepEqual(
        validateRequestData(Endpoint.Checkout, { ...CHECKOUT, orderID: '' }),
        required('orderID'),
      );
    });

    const amounts: Array<
      [string, number | string, number | string, number | string, number | string, boolean]
    > = [
      ['net only', 100000, 100000, 0, 0, true],
      ['net plus fee minus discount', 100000, 90000, 15000, 5000, true],
      ['the same as strings', '100000', '90000', '15000', '5000', true],
      ['a fee left out of the total', 100000, 90000, 15000, 0, false],
      ['a discount added instead of subtracted', 100000, 95000, 0, 5000, false],
      ['a total one đồng short', 99999, 100000, 0, 0, false],
    ];
    for (const [condition, amount, net, fee, discount, valid] of amounts) {
      it(`${valid ? 'accepts' : 'reports orderAmount for'} amounts with ${condition}`, () => {
        const body = {
          ...CHECKOUT,
          orderAmount: amount,
          orderNetAmount: net,
          orderFeeAmount: fee,
          orderDiscountAmount: discount,
        };

        const issues = validateRequestData(Endpoint.Checkout, body);

        assert.deepEqual(fieldsOf(issues), valid ? [] : ['requestData.orderAmount']);
      });
    }

    it('requires a sourceType with WALLET', () => {
      const body = { ...CHECKOUT, paymentMethod: 'WALLET' };

      assert.deepEqual(validateRequestData(Endpoint.Checkout, body), required('sourceType'));
    });

    it('accepts WALLET with MOMO and INTERNATIONAL with no sourceType', () => {
      const wallet = { ...CHECKOUT, paymentMethod: 'WALLET', sourceType: 'MOMO' };
      const card = { ...CHECKOUT, paymentMethod: 'INTERNATIONAL', sourceType: '' };

      assert.deepEqual(validateRequestData(Endpoint.Checkout, wallet), []);
      assert.deepEqual(validateRequestData(Endpoint.Checkout, card), []);
    });

    it('reports a sourceType that belongs to another payment method', () => {
      const body = { ...CHECKOUT, paymentMethod: 'WALLET', sourceType: 'VISA' };

      assert.deepEqual(fieldsOf(validateRequestData(Endpoint.Checkout, body)), [
        'requestData.sourceType',
      ]);
    });
  });

  describe('pay', () => {
    it('finds no issue in the V1 body', () => {
      assert.deepEqual(validateRequestData(Endpoint.Pay, PAY), []);
    });

    it('finds no issue in a Merchant Hosted Checkout body with an international card', () => {
      assert.deepEqual(validateRequestData(Endpoint.Pay, PAY_BY_CARD), []);
    });

    itRequires(Endpoint.Pay, PAY, ['apiOperation', ...ORDER_MANDATORY]);

    for (const field of [
      'cardNumber',
      'cardHolderName',
      'cardExpireDate',
      'cardVerificationValue',
    ]) {
      it(`requires ${field} when sourceOfFund is CARD with an international card`, () => {
        assert.deepEqual(
          validateRequestData(Endpoint.Pay, without(PAY_BY_CARD, field)),
          required(field),
        );
      });
    }

    it('does not require a CVV for a domestic card', () => {
      const body = {
        ...without(PAY_BY_CARD, 'cardVerificationValue'),
        paymentMethod: 'DOMESTIC',
        sourceType: '',
        cardNumber: '9704000000000018',
      };

      assert.deepEqual(validateRequestData(Endpoint.Pay, body), []);
    });

    it('requires a token when sourceOfFund is TOKEN', () => {
      const body = { ...PAY, sourceOfFund: 'TOKEN' };

      assert.deepEqual(validateRequestData(Endpoint.Pay, body), required('token'));
    });

    const FAST_PAY = {
      ...PAY,
      apiOperation: 'FAST_PAY',
      paymentMethod: 'INTERNATIONAL',
      sourceType: '',
    };

    it('requires sourceOfFund with FAST_PAY', () => {
      assert.deepEqual(validateRequestData(Endpoint.Pay, FAST_PAY), required('sourceOfFund'));
    });

    it('accepts FAST_PAY with an international card token', () => {
      const body = {
        ...FAST_PAY,
        sourceOfFund: 'TOKEN',
        token: '000192421419FE3F46EDBB04E43CB4DB79F4',
      };

      assert.deepEqual(validateRequestData(Endpoint.Pay, body), []);
    });

    const crossField: Array<[string, Body]> = [
      [
        'FAST_PAY with DOMESTIC',
        { ...PAY, apiOperation: 'FAST_PAY', sourceOfFund: 'TOKEN', token: '000192421419FE3F46ED' },
      ],
      [
        'PAY_WITH_CREATE_TOKEN with QRPAY',
        {
          ...PAY,
          apiOperation: 'PAY_WITH_CREATE_TOKEN',
          paymentMethod: 'QRPAY',
          sourceType: 'QRPAY',
        },
      ],
      [
        'a TOKEN with WALLET',
        { ...PAY, paymentMethod: 'WALLET', sourceType: 'MOMO', sourceOfFund: 'TOKEN', token: 't' },
      ],
    ];
    for (const [condition, body] of crossField) {
      it(`reports paymentMethod for ${condition}`, () => {
        assert.deepEqual(fieldsOf(validateRequestData(Endpoint.Pay, body)), [
          'requestData.paymentMethod',
        ]);
      });
    }
  });

  describe('field rules', () => {
    /** [what, the one field changed (on PAY, or on CHECKOUT for checkout), what the message says]. */
    const cases: Array<[string, Body, RegExp, EndpointPath?]> = [
      [
        'an orderDescription of 251 characters',
        { orderDescription: 'á'.repeat(251) },
        /at most 250 characters/,
      ],
      ['an orderID of 51 characters', { orderID: 'x'.repeat(51) }, /at most 50 characters/],
      ['an orderNumber of 21 characters', { orderNumber: '1'.repeat(21) }, /at most 20 characters/],
      ['an orderAmount of 17 digits', { orderAmount: '1'.repeat(17) }, /at most 16 digits/],
      [
        'a successURL of 501 characters',
        { successURL: `https://${'a'.repeat(493)}` },
        /at most 500 characters/,
      ],
      ['an orderAmount in words', { orderAmount: 'một trăm nghìn' }, /digits/],
      ['an orderAmount with a thousands separator', { orderAmount: '100.000' }, /digits/],
      ['an orderAmount with decimals', { orderAmount: 1000.5 }, /digits/],
      ['a negative orderAmount', { orderAmount: -100000 }, /digits/],
      ['an orderAmount in exponent notation', { orderAmount: '1e5' }, /digits/],
      ['an orderAmount of 0', { orderAmount: 0 }, /greater than 0/],
      ['an orderAmount of "000"', { orderAmount: '000' }, /greater than 0/],
      ['an orderNumber with decimals', { orderNumber: 2052.5 }, /whole number/],
      ['an orderDescription that is a number', { orderDescription: 123 }, /must be a string/],
      ['an orderID that is an object', { orderID: { id: 1 } }, /must be a string/],
      ['an orderID that is a number', { orderID: 42 }, /must be a string/],
      ['an unknown currency', { orderCurrency: 'XYZ' }, /one of VND/],
      ['a lower-case currency', { orderCurrency: 'vnd' }, /one of VND/],
      ['a currency with a digit', { orderCurrency: 'VN1' }, /letters only/],
      ['language fr', { language: 'fr' }, /one of vi, en/],
      ['paymentMethod CASH', { paymentMethod: 'CASH' }, /one of DOMESTIC/],
      ['a lower-case paymentMethod', { paymentMethod: 'domestic' }, /one of DOMESTIC/],
      ['an unknown apiOperation', { apiOperation: 'REFUND' }, /one of PAY/],
      ['isAutoCapture yes', { isAutoCapture: 'yes' }, /one of true, false/],
      ['isAutoCapture as a boolean', { isAutoCapture: false }, /must be a string/],
      ['an orderDateTime on 31 February', { orderDateTime: '20220231083322' }, /yyyyMMddHHmmss/],
      ['an ISO orderDateTime', { orderDateTime: '2022-04-26' }, /digits/],
      ['an extraData that is a string', { extraData: '{}' }, /JSON object/],
      ['an extraData that is an array', { extraData: [] }, /JSON object/, Endpoint.Checkout],
      ['a subMerchant that is a string', { subMerchant: 'shop-1' }, /JSON object/],
    ];
    for (const [condition, patch, message, endpoint = Endpoint.Pay] of cases) {
      const [field] = Object.keys(patch);
      it(`reports ${condition} on requestData.${field}`, () => {
        const base = endpoint === Endpoint.Checkout ? CHECKOUT : PAY;

        const issues = validateRequestData(endpoint, { ...base, ...patch });

        assert.deepEqual(fieldsOf(issues), [`requestData.${field}`]);
        assert.match(issues[0]!.message, message);
      });
    }

    it('accepts the longest documented lengths', () => {
      const body = {
        ...PAY,
        orderID: 'x'.repeat(50),
        orderNumber: '1'.repeat(20),
        orderDescription: 'á'.repeat(250),
        orderAmount: '9'.repeat(16),
      };

      assert.deepEqual(validateRequestData(Endpoint.Pay, body), []);
    });
  });

  describe('payWithQR', () => {
    it('accepts QRPAY with sourceType QRPAY and WALLET with MOMO', () => {
      assert.deepEqual(validateRequestData(Endpoint.PayWithQr, PAY_WITH_QR), []);
      assert.deepEqual(
        validateRequestData(Endpoint.PayWithQr, {
          ...PAY_WITH_QR,
          paymentMethod: 'WALLET',
          sourceType: 'MOMO',
        }),
        [],
      );
    });

    const cases: Array<[string, Body, string]> = [
      ['sourceType MOMO under QRPAY', { ...PAY_WITH_QR, sourceType: 'MOMO' }, 'sourceType'],
      ['sourceType VNPAY under QRPAY', { ...PAY_WITH_QR, sourceType: 'VNPAY' }, 'sourceType'],
      [
        'sourceType GPAY under WALLET',
        { ...PAY_WITH_QR, paymentMethod: 'WALLET', sourceType: 'GPAY' },
        'sourceType',
      ],
      ['paymentMethod DOMESTIC', { ...PAY_WITH_QR, paymentMethod: 'DOMESTIC' }, 'paymentMethod'],
      ['currency USD', { ...PAY_WITH_QR, orderCurrency: 'USD' }, 'orderCurrency'],
      ['a missing sourceType', without(PAY_WITH_QR, 'sourceType'), 'sourceType'],
    ];
    for (const [condition, body, field] of cases) {
      it(`reports ${condition} on requestData.${field} only`, () => {
        const fields = fieldsOf(validateRequestData(Endpoint.PayWithQr, body));

        assert.ok(fields.length > 0);
        assert.deepEqual(new Set(fields), new Set([`requestData.${field}`]));
      });
    }
  });

  describe('createPaymentLink', () => {
    it('finds no issue in a complete body', () => {
      assert.deepEqual(validateRequestData(Endpoint.CreatePaymentLink, PAYMENT_LINK), []);
    });

    it('accepts expiryDuration as a string of digits', () => {
      const body = { ...PAYMENT_LINK, expiryDuration: '3' };

      assert.deepEqual(validateRequestData(Endpoint.CreatePaymentLink, body), []);
    });

    const cases: Array<[string, Body, string]> = [
      ['no paymentMethods at all', { ...PAYMENT_LINK, paymentMethods: [] }, 'paymentMethods'],
      [
        'an empty paymentMethods entry',
        { ...PAYMENT_LINK, paymentMethods: ['MOMO', ''] },
        'paymentMethods',
      ],
      [
        'an unknown paymentMethods entry',
        { ...PAYMENT_LINK, paymentMethods: ['MOMO', 'CASH'] },
        'paymentMethods',
      ],
      [
        'a paymentMethods entry that is not a string',
        { ...PAYMENT_LINK, paymentMethods: [1] },
        'paymentMethods',
      ],
      [
        'paymentMethods as one string',
        { ...PAYMENT_LINK, paymentMethods: 'MOMO' },
        'paymentMethods',
      ],
      [
        'a paymentFields entry that is not a string',
        { ...PAYMENT_LINK, paymentFields: ['email', 7] },
        'paymentFields',
      ],
      ['an expiryDuration of 0', { ...PAYMENT_LINK, expiryDuration: 0 }, 'expiryDuration'],
      ['a fractional expiryDuration', { ...PAYMENT_LINK, expiryDuration: 1.5 }, 'expiryDuration'],
      ['expiryUnit WEEK', { ...PAYMENT_LINK, expiryUnit: 'WEEK' }, 'expiryUnit'],
      ['a missing orderName', without(PAYMENT_LINK, 'orderName'), 'orderName'],
      ['a missing paymentFields', without(PAYMENT_LINK, 'paymentFields'), 'paymentFields'],
    ];
    for (const [condition, body, field] of cases) {
      it(`reports ${condition} on requestData.${field}`, () => {
        assert.deepEqual(fieldsOf(validateRequestData(Endpoint.CreatePaymentLink, body)), [
          `requestData.${field}`,
        ]);
      });
    }
  });

  describe('management and token endpoints', () => {
    it('finds no issue in the documented refund example', () => {
      assert.deepEqual(validateRequestData(Endpoint.Refund, REFUND), []);
    });

    it('reports a missing transactionID on query, refund, void and capture', () => {
      for (const endpoint of [Endpoint.Query, Endpoint.Refund, Endpoint.Void, Endpoint.Capture]) {
        const body = endpoint === Endpoint.Query ? {} : without(REFUND, 'transactionID');

        assert.deepEqual(validateRequestData(endpoint, body), required('transactionID'), endpoint);
      }
    });

    it('requires a CVV to create a token for an international card but not for a domestic one', () => {
      const card = {
        paymentMethod: 'INTERNATIONAL',
        cardNumber: '5506922400634930',
        cardHolderName: 'HUYNH HUU LOC',
        cardExpireDate: '01/39',
      };

      assert.deepEqual(
        validateRequestData(Endpoint.CreateToken, card),
        required('cardVerificationValue'),
      );
      assert.deepEqual(
        validateRequestData(Endpoint.CreateToken, { ...card, paymentMethod: 'DOMESTIC' }),
        [],
      );
    });
  });

  describe('with hostile input', () => {
    it('reports requestData itself when it is not an object', () => {
      for (const data of [null, undefined, [], 'text', 42]) {
        assert.deepEqual(fieldsOf(validateRequestData(Endpoint.Pay, data)), ['requestData']);
      }
    });

    it('accepts unknown paymentMethod and sourceType fields named after Object.prototype members', () => {
      for (const method of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
        const body = {
          transactionID: '2212265363226226066183459',
          paymentMethod: method,
          sourceType: 'X',
        };

        assert.deepEqual(validateRequestData(Endpoint.Query, body), [], method);
        assert.deepEqual(
          validateRequestData(Endpoint.PayWithOption, { ...PAY, ...body }),
          [],
          method,
        );
      }
    });

    it('returns a list of issues, never throws, for arbitrary values of every endpoint', () => {
      const endpoints = Object.values(Endpoint);
      const value = fc.oneof(
        fc.constantFrom(
          'constructor',
          '__proto__',
          'toString',
          'WALLET',
          'QRPAY',
          'CARD',
          'TOKEN',
          'FAST_PAY',
          '',
        ),
        fc.anything(),
      );
      const key = fc.constantFrom(
        'apiOperation',
        'paymentMethod',
        'sourceType',
        'sourceOfFund',
        'orderAmount',
        'orderNetAmount',
        'orderDateTime',
        'paymentMethods',
        'paymentFields',
        'expiryDuration',
        'token',
      );
      fc.assert(
        fc.property(
          fc.constantFrom(...endpoints),
          fc.constantFrom(PAY, CHECKOUT, PAY_WITH_QR, PAYMENT_LINK, REFUND),
          fc.dictionary(key, value),
          (endpoint, base, patch) => {
            const issues = validateRequestData(endpoint, { ...base, ...patch });

            assert.ok(Array.isArray(issues));
            assert.ok(issues.every(issue => issue.field.startsWith('requestData')));
          },
        ),
        { numRuns: 300 },
      );
    });

    it('returns a list of issues, never throws, for an arbitrary envelope', () => {
      fc.assert(
        fc.property(fc.anything(), body => {
          assert.ok(Array.isArray(validateEnvelope(body)));
        }),
        { numRuns: 200 },
      );
    });
  });
});
