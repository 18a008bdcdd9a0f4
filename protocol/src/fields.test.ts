import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Endpoint } from './codes.js';
import { type FieldIssue, validateEnvelope, validateRequestData } from './fields.js';
import type { EndpointPath } from './types.js';

type Body = Record<string, unknown>;

/** Vector S1 (§4.6): a complete checkout body. */
const S1 = {
  requestID: 'aaa04cf8d97f4c6ebede69135d1bce35',
  requestDateTime: '20230726175152',
  requestData: {
    orderID: '2a43e4b9-c5df-49e6-8b18-42af9bcd150e',
    orderNumber: '205249008064',
    orderDateTime: '20230726175152',
    orderAmount: 100000,
    orderNetAmount: 100000,
    orderFeeAmount: 0,
    orderDiscountAmount: 0,
    orderCurrency: 'VND',
    orderDescription: 'DEMO TRANSACTION',
    paymentMethod: 'DOMESTIC',
    sourceType: '',
    language: 'vi',
    extraData: {},
  },
};
const CHECKOUT: Body = S1.requestData;

/** Vector V1 (§4.6): the documented Pay request, with orderNumber and the dates as JSON numbers. */
const V1 = {
  requestID: '14653fa1-2f69-4f4f-9d4b-240e1bebbdf3',
  requestDateTime: 20220426083322,
  requestData: {
    apiOperation: 'PAY',
    orderID: '2a43e4b9-c5df-49e6-8b18-42af9bcd150e',
    orderNumber: 205249008064,
    orderAmount: 100000,
    orderCurrency: 'VND',
    orderDateTime: 20220426083322,
    orderDescription: 'DEMO TRANSACTION',
    paymentMethod: 'DOMESTIC',
    sourceType: '970400',
    language: 'vi',
  },
};
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

    it('accepts every numeric field as a string of digits', () => {
      const body = {
        ...CHECKOUT,
        orderAmount: '100000',
        orderNetAmount: '90000',
        orderFeeAmount: '15000',
        orderDiscountAmount: '5000',
        orderDateTime: '20230726175152',
        apiVersion: '2',
      };

      assert.deepEqual(validateRequestData(Endpoint.Checkout, body), []);
    });

    it('accepts orderNumber and orderDateTime as JSON numbers, as the documentation sends them', () => {
      const body = { ...CHECKOUT, orderNumber: 205249008064, orderDateTime: 20230726175152 };

      assert.deepEqual(validateRequestData(Endpoint.Checkout, body), []);
    });

    it('accepts fields it does not know, as the gateway does', () => {
      const body = {
        ...CHECKOUT,
        apiOperation: 'PAY',
        sourceOfFund: 'CARD',
        merchantNote: { anything: ['goes'] },
      };

      assert.deepEqual(validateRequestData(Endpoint.Checkout, body), []);
    });

    const mandatory = [
      'orderID',
      'orderAmount',
      'orderNetAmount',
      'orderFeeAmount',
      'orderDiscountAmount',
      'orderCurrency',
      'orderDateTime',
      'orderDescription',
      'paymentMethod',
    ];
    for (const field of mandatory) {
      it(`reports a missing ${field} as requestData.${field} is required`, () => {
        assert.deepEqual(
          validateRequestData(Endpoint.Checkout, without(CHECKOUT, field)),
          required(field),
        );
      });
    }

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

    const mandatory = [
      'apiOperation',
      'orderID',
      'orderAmount',
      'orderCurrency',
      'orderDateTime',
      'orderDescription',
      'paymentMethod',
    ];
    for (const field of mandatory) {
      it(`reports a missing ${field} as requestData.${field} is required`, () => {
        assert.deepEqual(validateRequestData(Endpoint.Pay, without(PAY, field)), required(field));
      });
    }

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

    it('requires sourceOfFund with FAST_PAY', () => {
      const body = {
        ...PAY,
        apiOperation: 'FAST_PAY',
        paymentMethod: 'INTERNATIONAL',
        sourceType: '',
      };

      assert.deepEqual(validateRequestData(Endpoint.Pay, body), required('sourceOfFund'));
    });

    it('accepts FAST_PAY with an international card token', () => {
      const body = {
        ...PAY,
        apiOperation: 'FAST_PAY',
        paymentMethod: 'INTERNATIONAL',
        sourceType: '',
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
    const cases: Array<[string, EndpointPath, Body, string, RegExp]> = [
      [
        'an orderDescription of 251 characters',
        Endpoint.Pay,
        { ...PAY, orderDescription: 'á'.repeat(251) },
        'orderDescription',
        /at most 250 characters/,
      ],
      [
        'an orderID of 51 characters',
        Endpoint.Pay,
        { ...PAY, orderID: 'x'.repeat(51) },
        'orderID',
        /at most 50 characters/,
      ],
      [
        'an orderNumber of 21 characters',
        Endpoint.Pay,
        { ...PAY, orderNumber: '1'.repeat(21) },
        'orderNumber',
        /at most 20 characters/,
      ],
      [
        'an orderAmount of 17 digits',
        Endpoint.Pay,
        { ...PAY, orderAmount: '1'.repeat(17) },
        'orderAmount',
        /at most 16 digits/,
      ],
      [
        'a successURL of 501 characters',
        Endpoint.Pay,
        { ...PAY, successURL: `https://${'a'.repeat(493)}` },
        'successURL',
        /at most 500 characters/,
      ],
      [
        'an orderAmount in words',
        Endpoint.Pay,
        { ...PAY, orderAmount: 'một trăm nghìn' },
        'orderAmount',
        /digits/,
      ],
      [
        'an orderAmount with a thousands separator',
        Endpoint.Pay,
        { ...PAY, orderAmount: '100.000' },
        'orderAmount',
        /digits/,
      ],
      [
        'an orderAmount with decimals',
        Endpoint.Pay,
        { ...PAY, orderAmount: 1000.5 },
        'orderAmount',
        /digits/,
      ],
      [
        'a negative orderAmount',
        Endpoint.Pay,
        { ...PAY, orderAmount: -100000 },
        'orderAmount',
        /digits/,
      ],
      [
        'an orderAmount in exponent notation',
        Endpoint.Pay,
        { ...PAY, orderAmount: '1e5' },
        'orderAmount',
        /digits/,
      ],
      [
        'an orderAmount of 0',
        Endpoint.Pay,
        { ...PAY, orderAmount: 0 },
        'orderAmount',
        /greater than 0/,
      ],
      [
        'an orderAmount of "000"',
        Endpoint.Pay,
        { ...PAY, orderAmount: '000' },
        'orderAmount',
        /greater than 0/,
      ],
      [
        'an orderNumber with decimals',
        Endpoint.Pay,
        { ...PAY, orderNumber: 2052.5 },
        'orderNumber',
        /whole number/,
      ],
      [
        'an orderDescription that is a number',
        Endpoint.Pay,
        { ...PAY, orderDescription: 123 },
        'orderDescription',
        /must be a string/,
      ],
      [
        'an orderID that is an object',
        Endpoint.Pay,
        { ...PAY, orderID: { id: 1 } },
        'orderID',
        /must be a string/,
      ],
      [
        'an orderID that is a number',
        Endpoint.Pay,
        { ...PAY, orderID: 42 },
        'orderID',
        /must be a string/,
      ],
      [
        'an unknown currency',
        Endpoint.Pay,
        { ...PAY, orderCurrency: 'XYZ' },
        'orderCurrency',
        /one of VND/,
      ],
      [
        'a lower-case currency',
        Endpoint.Pay,
        { ...PAY, orderCurrency: 'vnd' },
        'orderCurrency',
        /one of VND/,
      ],
      [
        'a currency with a digit',
        Endpoint.Pay,
        { ...PAY, orderCurrency: 'VN1' },
        'orderCurrency',
        /letters only/,
      ],
      ['language fr', Endpoint.Pay, { ...PAY, language: 'fr' }, 'language', /one of vi, en/],
      [
        'paymentMethod CASH',
        Endpoint.Pay,
        { ...PAY, paymentMethod: 'CASH' },
        'paymentMethod',
        /one of DOMESTIC/,
      ],
      [
        'a lower-case paymentMethod',
        Endpoint.Pay,
        { ...PAY, paymentMethod: 'domestic' },
        'paymentMethod',
        /one of DOMESTIC/,
      ],
      [
        'an unknown apiOperation',
        Endpoint.Pay,
        { ...PAY, apiOperation: 'REFUND' },
        'apiOperation',
        /one of PAY/,
      ],
      [
        'isAutoCapture yes',
        Endpoint.Pay,
        { ...PAY, isAutoCapture: 'yes' },
        'isAutoCapture',
        /one of true, false/,
      ],
      [
        'isAutoCapture as a boolean',
        Endpoint.Pay,
        { ...PAY, isAutoCapture: false },
        'isAutoCapture',
        /must be a string/,
      ],
      [
        'an orderDateTime on 31 February',
        Endpoint.Pay,
        { ...PAY, orderDateTime: '20220231083322' },
        'orderDateTime',
        /yyyyMMddHHmmss/,
      ],
      [
        'an ISO orderDateTime',
        Endpoint.Pay,
        { ...PAY, orderDateTime: '2022-04-26' },
        'orderDateTime',
        /digits/,
      ],
      [
        'an extraData that is a string',
        Endpoint.Pay,
        { ...PAY, extraData: '{}' },
        'extraData',
        /JSON object/,
      ],
      [
        'an extraData that is an array',
        Endpoint.Checkout,
        { ...CHECKOUT, extraData: [] },
        'extraData',
        /JSON object/,
      ],
      [
        'a subMerchant that is a string',
        Endpoint.Pay,
        { ...PAY, subMerchant: 'shop-1' },
        'subMerchant',
        /JSON object/,
      ],
    ];
    for (const [condition, endpoint, body, field, message] of cases) {
      it(`reports ${condition} on requestData.${field}`, () => {
        const issues = validateRequestData(endpoint, body);

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
