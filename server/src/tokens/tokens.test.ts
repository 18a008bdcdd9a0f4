import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { maskOf } from './cards.js';
import { mintCustomerHandle, verifyCustomerHandle } from './customer-handle.js';
import { createTokenVault, parseEncryptionKey } from './vault.js';

const SECRET = 'customer-handle-secret-0123456789abcdef';
const NOW = new Date('2030-01-01T00:00:00Z');

describe('token vault', () => {
  it('round-trips a token with AES-256-GCM and never stores it in clear', () => {
    const vault = createTokenVault([randomBytes(32)]);

    const sealed = vault.encrypt('000192421419FE3F46EDBB04E43CB4DB79F4', 'cust-1');

    assert.ok(!sealed.includes('000192421419FE3F'));
    assert.equal(vault.decrypt(sealed, 'cust-1'), '000192421419FE3F46EDBB04E43CB4DB79F4');
  });

  it("refuses to decrypt a ciphertext moved onto another customer's row", () => {
    const vault = createTokenVault([randomBytes(32)]);

    const sealed = vault.encrypt('tok', 'cust-1');

    assert.throws(() => vault.decrypt(sealed, 'cust-2'));
  });

  it('decrypts with a previous key after rotation and encrypts with the new one', () => {
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    const sealedBefore = createTokenVault([oldKey]).encrypt('tok', 'c');

    const rotated = createTokenVault([newKey, oldKey]);

    assert.equal(rotated.decrypt(sealedBefore, 'c'), 'tok');
    assert.equal(rotated.encrypt('tok', 'c').split('.')[1], rotated.keyId);
    assert.throws(() => createTokenVault([newKey]).decrypt(sealedBefore, 'c'));
  });

  it('parses 32-byte keys as hex or base64 only', () => {
    const key = randomBytes(32);

    assert.deepEqual(parseEncryptionKey(key.toString('hex')), key);
    assert.deepEqual(parseEncryptionKey(key.toString('base64')), key);
    assert.deepEqual(parseEncryptionKey(key.toString('base64url')), key);
    assert.equal(parseEncryptionKey(randomBytes(16).toString('hex')), undefined);
    assert.equal(parseEncryptionKey('not a key'), undefined);
  });
});

describe('customer handles', () => {
  it('vouches for the customer until the expiry, then refuses it as expired', () => {
    const { handle } = mintCustomerHandle(SECRET, 'cust-1', 600, NOW);

    assert.deepEqual(verifyCustomerHandle(SECRET, handle, NOW), {
      ok: true,
      customerRef: 'cust-1',
    });
    assert.deepEqual(verifyCustomerHandle(SECRET, handle, new Date(NOW.getTime() + 601_000)), {
      ok: false,
      code: 'customer_handle_expired',
    });
  });

  it('refuses a handle signed with another secret, an edited payload, and junk', () => {
    const { handle } = mintCustomerHandle(SECRET, 'cust-1', 600, NOW);
    const [prefix, , mac] = handle.split('.');
    const edited = `${prefix}.${Buffer.from('{"c":"cust-2","e":9999999999}').toString('base64url')}.${mac}`;

    for (const bad of [
      mintCustomerHandle(`${SECRET}x`, 'cust-1', 600, NOW).handle,
      edited,
      'cust-1',
      '',
      ['gpch1.a.b'],
    ]) {
      assert.deepEqual(verifyCustomerHandle(SECRET, bad, NOW), {
        ok: false,
        code: 'invalid_customer_handle',
      });
    }
  });

  it('refuses to mint for a customer reference that needs escaping or for too long a lifetime', () => {
    assert.throws(() => mintCustomerHandle(SECRET, 'a b', 60));
    assert.throws(() => mintCustomerHandle(SECRET, 'a', 2 * 86400));
  });
});

describe('maskOf', () => {
  it('keeps a masked number and masks a full one the gateway should never have sent', () => {
    assert.equal(maskOf('550692******3667'), '550692******3667');
    assert.equal(maskOf('4012000033330026'), '401200******0026');
    assert.equal(maskOf(undefined), '****');
  });
});

describe('saved-card configuration', () => {
  const base = {
    GALAXY_PAY_BASE_URL: 'http://127.0.0.1:8100',
    GALAXY_PAY_API_KEY: 'k',
    GALAXY_PAY_SALT: 's',
  };

  it('reads the key, previous keys and handle secret, or none of them', () => {
    const key = randomBytes(32).toString('base64');
    const old = randomBytes(32).toString('hex');

    const config = loadConfig({
      ...base,
      TOKEN_ENCRYPTION_KEY: key,
      TOKEN_ENCRYPTION_PREVIOUS_KEYS: old,
      CUSTOMER_HANDLE_SECRET: SECRET,
    });

    assert.equal(config.savedCards?.encryptionKeys.length, 2);
    assert.equal(loadConfig(base).savedCards, undefined);
  });

  it('stops at start with a message naming the bad variable, never its value', () => {
    const short = randomBytes(16).toString('hex');

    assert.throws(
      () => loadConfig({ ...base, TOKEN_ENCRYPTION_KEY: short, CUSTOMER_HANDLE_SECRET: SECRET }),
      (error: Error) =>
        error.message.startsWith('TOKEN_ENCRYPTION_KEY') && !error.message.includes(short),
    );
    assert.throws(
      () => loadConfig({ ...base, TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex') }),
      /CUSTOMER_HANDLE_SECRET/,
    );
    assert.throws(() => loadConfig({ ...base, CAPTURE_MODE: 'later' }), /CAPTURE_MODE/);
  });
});

describe('log redaction of saved-card data', () => {
  it('redacts tokens, customer handles and card fields from log lines', () => {
    const lines: string[] = [];
    const logger = createLogger({ destination: { write: (line: string) => lines.push(line) } });

    logger.info(
      {
        token: 'TOKEN-CANARY',
        cardNumber: '4012000033330026',
        cardVerificationValue: '100',
        req: { headers: { 'x-customer-handle': 'gpch1.HANDLE-CANARY.x' } },
      },
      'saved card event',
    );

    const text = lines.join('');
    for (const canary of ['TOKEN-CANARY', '4012000033330026', 'HANDLE-CANARY']) {
      assert.ok(!text.includes(canary), `${canary} leaked into the log`);
    }
  });
});
