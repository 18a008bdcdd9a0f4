import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { encodeCallback, newRequestId, serializeAndSign, sha256Hex, signText } from './sign.js';
import { V1_REQUEST } from './test-support.js';
import type { GatewayRequest } from './types.js';

/** The salt of every Galaxy Pay documentation example (§4.6). */
const DOC_SALT = 'GO@2021';

const V1_TEXT =
  '{"requestID":"14653fa1-2f69-4f4f-9d4b-240e1bebbdf3","requestDateTime":20220426083322,"requestData":{"apiOperation":"PAY","orderID":"2a43e4b9-c5df-49e6-8b18-42af9bcd150e","orderNumber":205249008064,"orderAmount":100000,"orderCurrency":"VND","orderDateTime":20220426083322,"orderDescription":"DEMO TRANSACTION","paymentMethod":"DOMESTIC","sourceType":"970400","language":"vi"}}';
const V1_SIGNATURE = 'b4b7cb5596680bb343f399922fc32e63fd69191c573e83c0383fd734531eab03';

const S1_TEXT =
  '{"requestID":"aaa04cf8d97f4c6ebede69135d1bce35","requestDateTime":"20230726175152","requestData":{"orderID":"2a43e4b9-c5df-49e6-8b18-42af9bcd150e","orderNumber":"205249008064","orderDateTime":"20230726175152","orderAmount":100000,"orderNetAmount":100000,"orderFeeAmount":0,"orderDiscountAmount":0,"orderCurrency":"VND","orderDescription":"DEMO TRANSACTION","paymentMethod":"DOMESTIC","sourceType":"","language":"vi","extraData":{}}}';
const S2_TEXT =
  '{"requestID":"r1","requestDateTime":20220426083322,"requestData":{"transactionID":"2212265363226226066183459"}}';
const S3_TEXT =
  '{"requestID":"r1","requestDateTime":"20220426083322","requestData":{"transactionID":"2212265363226226066183459"}}';
const S4_TEXT = '{"orderDescription":"Thanh toán"}';
const S5_TEXT = '{"orderDescription":"Thanh to\\u00e1n"}';

/** S1–S5 (§4.6): computed for this project; each is SHA-256 of (string + GO@2021). */
const PROJECT_VECTORS = [
  {
    id: 'S1',
    text: S1_TEXT,
    hex: 'bd3bec326273a562360086c2ea21b737a0d1e76d2e801b89d982b4c8c3100591',
  },
  {
    id: 'S2',
    text: S2_TEXT,
    hex: 'fff917f6aa1c8f9ab4825cde530fd3ef76054657b66f36e675ad1c3a168a9a2a',
  },
  {
    id: 'S3',
    text: S3_TEXT,
    hex: 'e5899b14c5942ff116caeec57fcf6b6a87aa7a8c116e756f10a05d339d707bd5',
  },
  {
    id: 'S4',
    text: S4_TEXT,
    hex: 'e7deb74507daf9e149a34ce54f9b9ee1baa14865e43a759ec1a16d755bed7bf6',
  },
  {
    id: 'S5',
    text: S5_TEXT,
    hex: '2cdd4702dd28a7d8ed3704b8ed8e802f747c889fb0650e811b810740f3206850',
  },
] as const;

describe('vector V1 (the documented Pay request)', () => {
  it('serializes the documented object to exactly the documented text', () => {
    assert.equal(JSON.stringify(V1_REQUEST), V1_TEXT);
  });

  it('signs the documented object to the documented signature', () => {
    const { body, signature } = serializeAndSign(V1_REQUEST, DOC_SALT);

    assert.equal(body, V1_TEXT);
    assert.equal(signature, V1_SIGNATURE);
  });

  it('does not come out with pretty-printed JSON', () => {
    const pretty = JSON.stringify(V1_REQUEST, null, 2);

    assert.notEqual(signText(pretty, DOC_SALT), V1_SIGNATURE);
  });

  it('does not come out with the salt placed before the JSON', () => {
    assert.notEqual(sha256Hex(DOC_SALT + V1_TEXT), V1_SIGNATURE);
  });

  it('does not come out with HMAC-SHA256 keyed by the salt', () => {
    const hmac = createHmac('sha256', DOC_SALT).update(V1_TEXT, 'utf8').digest('hex');

    assert.notEqual(hmac, V1_SIGNATURE);
  });

  it('does not come out with the Node sample salt GPAY', () => {
    assert.notEqual(signText(V1_TEXT, 'GPAY'), V1_SIGNATURE);
  });
});

describe('vectors S1–S5 (project regression vectors)', () => {
  for (const vector of PROJECT_VECTORS) {
    it(`${vector.id} hashes the documented string plus GO@2021 to the documented hex`, () => {
      assert.equal(signText(vector.text, DOC_SALT), vector.hex);
    });
  }

  it('S2 and S3 come out of serializeAndSign from objects with a number and a string date', () => {
    const requestData = { transactionID: '2212265363226226066183459' };

    const asNumber = serializeAndSign(
      { requestID: 'r1', requestDateTime: 20220426083322, requestData },
      DOC_SALT,
    );
    const asString = serializeAndSign(
      { requestID: 'r1', requestDateTime: '20220426083322', requestData },
      DOC_SALT,
    );

    assert.equal(asNumber.body, S2_TEXT);
    assert.equal(asNumber.signature, PROJECT_VECTORS[1].hex);
    assert.equal(asString.body, S3_TEXT);
    assert.equal(asString.signature, PROJECT_VECTORS[2].hex);
  });

  it('S1 comes out of serializeAndSign from the parsed checkout body', () => {
    const request = JSON.parse(S1_TEXT) as GatewayRequest;

    const { body, signature } = serializeAndSign(request, DOC_SALT);

    assert.equal(body, S1_TEXT);
    assert.equal(signature, PROJECT_VECTORS[0].hex);
  });

  it('serializes Vietnamese text as raw UTF-8 (S4), not as \\u escapes (S5)', () => {
    const text = JSON.stringify({ orderDescription: 'Thanh toán' });

    assert.equal(text, S4_TEXT);
    assert.notEqual(signText(S4_TEXT, DOC_SALT), signText(S5_TEXT, DOC_SALT));
  });
});

describe('sha256Hex and signText', () => {
  it('hashes the UTF-8 bytes of the text as 64 lowercase hex characters', () => {
    const text = 'Nguyễn Văn Ă: thanh toán đơn hàng 🧾';

    const digest = sha256Hex(text);

    assert.match(digest, /^[0-9a-f]{64}$/);
    assert.equal(digest, createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex'));
    assert.notEqual(digest, createHash('sha256').update(Buffer.from(text, 'latin1')).digest('hex'));
  });

  it('signs a text as the hash of the text followed by the salt, with no separator', () => {
    assert.equal(signText('abc', 'salt'), sha256Hex('abcsalt'));
    assert.notEqual(signText('abc', 'salt'), sha256Hex('abc salt'));
  });
});

describe('serializeAndSign', () => {
  it('returns JSON.stringify of the request as the body and signs exactly that body', () => {
    const request: GatewayRequest = {
      requestID: 'a9fa54aeca7943b6a32aad47857bf7d7',
      requestDateTime: '20231116151903',
      requestData: { orderDescription: 'Hoàn tiền đơn hàng', orderAmount: 10000 },
    };

    const { body, signature } = serializeAndSign(request, 'merchant-salt');

    assert.equal(body, JSON.stringify(request));
    assert.equal(signature, signText(body, 'merchant-salt'));
  });

  it('serializes the request only once, so the body and the signature describe the same text', () => {
    let serializations = 0;
    const requestData = {
      toJSON: () => {
        serializations += 1;
        return { orderDescription: `serialization ${serializations}` };
      },
    };

    const { body, signature } = serializeAndSign(
      { requestID: 'r1', requestDateTime: 20220426083322, requestData },
      DOC_SALT,
    );

    assert.equal(serializations, 1);
    assert.equal(signature, signText(body, DOC_SALT));
  });

  it('gives a different signature for a different salt', () => {
    assert.notEqual(
      serializeAndSign(V1_REQUEST, DOC_SALT).signature,
      serializeAndSign(V1_REQUEST, 'GPAY').signature,
    );
  });
});

describe('encodeCallback', () => {
  const payload = {
    requestID: '14653fa1-2f69-4f4f-9d4b-240e1bebbdf3',
    responseDateTime: '20220426083530',
    responseCode: '200',
    responseMessage: 'Giao dịch thành công.',
    responseData: {
      transactionID: '2212055304051619700136225',
      orderID: '2a43e4b9-c5df-49e6-8b18-42af9bcd150e',
      orderAmount: '100000',
      orderCurrency: 'VND',
      orderDescription: 'Thanh toán đơn hàng',
    },
  };

  it('puts base64 of the UTF-8 JSON text in data', () => {
    const { data } = encodeCallback(payload, DOC_SALT);

    assert.equal(data, Buffer.from(JSON.stringify(payload), 'utf8').toString('base64'));
    assert.deepEqual(JSON.parse(Buffer.from(data, 'base64').toString('utf8')), payload);
  });

  it('signs the base64 text, not the decoded JSON', () => {
    const { data, signature } = encodeCallback(payload, DOC_SALT);

    assert.equal(signature, signText(data, DOC_SALT));
    assert.notEqual(signature, signText(JSON.stringify(payload), DOC_SALT));
  });
});

describe('newRequestId', () => {
  it('returns 32 lowercase hexadecimal characters', () => {
    assert.match(newRequestId(), /^[0-9a-f]{32}$/);
  });

  it('returns a different well-formed id on each of 1000 calls', () => {
    const ids = Array.from({ length: 1000 }, () => newRequestId());

    assert.equal(new Set(ids).size, 1000);
    assert.ok(ids.every(id => /^[0-9a-f]{32}$/.test(id)));
  });
});
