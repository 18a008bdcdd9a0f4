import { expect } from '@open-wc/testing';
import { isReturnMessage, type ExpectedMessage } from './messages.js';

describe('isReturnMessage (T33)', () => {
  const frame = document.createElement('iframe');
  document.body.append(frame);
  const source = frame.contentWindow!;
  const expected: ExpectedMessage = {
    origin: 'https://pay.shop.vn',
    source,
    sessionId: 'S1',
    nonce: 'N1',
  };
  const good = { type: 'galaxy-pay:return', sessionId: 'S1', nonce: 'N1' };
  const message = (init: MessageEventInit) =>
    new MessageEvent('message', { origin: expected.origin, source, data: good, ...init });

  it('accepts the exact origin, source, session and nonce', () => {
    expect(isReturnMessage(message({}), expected)).to.equal(true);
  });

  for (const origin of [
    'https://pay.shop.vn.evil.tld',
    'http://pay.shop.vn',
    'https://pay.shop.vn:444',
    'https://evil-pay.shop.vn',
    'null',
    '',
  ]) {
    it(`ignores a message from the look-alike origin "${origin}"`, () => {
      expect(isReturnMessage(message({ origin }), expected)).to.equal(false);
    });
  }

  it('ignores the right origin from another window', () => {
    expect(isReturnMessage(message({ source: window }), expected)).to.equal(false);
    expect(isReturnMessage(message({ source: null }), expected)).to.equal(false);
  });

  it('ignores everything when no window of ours is open', () => {
    expect(isReturnMessage(message({}), { ...expected, source: null })).to.equal(false);
  });

  for (const [name, data] of Object.entries({
    'a string': JSON.stringify(good),
    null: null,
    'an array': [good],
    'another type': { ...good, type: 'galaxy-pay:paid' },
    'another session': { ...good, sessionId: 'S2' },
    'a wrong nonce': { ...good, nonce: 'N2' },
    'no nonce': { type: 'galaxy-pay:return', sessionId: 'S1' },
    'a claim of payment': { ...good, nonce: 'x', status: 'paid' },
    'oversized data': { ...good, nonce: 'N'.repeat(1_000_000) },
  })) {
    it(`ignores ${name}`, () => {
      expect(isReturnMessage(message({ data }), expected)).to.equal(false);
    });
  }
});
