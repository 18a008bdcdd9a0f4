import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayBaseUrl } from '@galaxy-pay/protocol';
import { ConfigError, defaultPageOrigins, loadConfig } from './config.js';

const SALT = 'Salt-Value-9c1e77';
const API_KEY = 'Api-Key-Value-3b8d21';
const LONG_SECRET = 'x'.repeat(32);

/** The smallest environment that loads. */
function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    GALAXY_PAY_BASE_URL: GatewayBaseUrl.Uat,
    GALAXY_PAY_API_KEY: API_KEY,
    GALAXY_PAY_SALT: SALT,
    ...extra,
  };
}

/** Loads `extra` and returns the ConfigError it must throw. */
function refused(extra: Record<string, string | undefined>): ConfigError {
  let caught: unknown;
  try {
    loadConfig(env(extra));
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError for ${JSON.stringify(extra)}`);
  return caught;
}

/** Each bad environment: what it sets, and what the ConfigError's message must say. */
const BAD_VALUES: Record<string, [extra: Record<string, string>, variable: RegExp]> = {
  'PORT "abc"': [{ PORT: 'abc' }, /^PORT .*"abc"/],
  'PORT 65536': [{ PORT: '65536' }, /^PORT /],
  'PUBLIC_URL "nope"': [{ PUBLIC_URL: 'nope' }, /^PUBLIC_URL .*"nope"/],
  'PUBLIC_URL with another scheme': [{ PUBLIC_URL: 'ftp://pay.example' }, /^PUBLIC_URL /],
  'GALAXY_PAY_BASE_URL over http to a non-loopback host': [
    { GALAXY_PAY_BASE_URL: 'http://uat-secure.galaxypay.vn' },
    /^GALAXY_PAY_BASE_URL must be https/,
  ],
  'GALAXY_PAY_BASE_URL that is not a URL': [
    { GALAXY_PAY_BASE_URL: 'galaxypay' },
    /^GALAXY_PAY_BASE_URL /,
  ],
  'ALLOWED_ORIGINS "*"': [{ ALLOWED_ORIGINS: '*' }, /^ALLOWED_ORIGINS .*"\*"/],
  'ALLOWED_ORIGINS "null"': [
    { ALLOWED_ORIGINS: 'https://shop.example,null' },
    /^ALLOWED_ORIGINS .*"null"/,
  ],
  'ALLOWED_ORIGINS with a path': [
    { ALLOWED_ORIGINS: 'https://shop.example/checkout' },
    /^ALLOWED_ORIGINS .*"https:\/\/shop\.example\/checkout"/,
  ],
  'ALLOWED_ORIGINS with a query': [
    { ALLOWED_ORIGINS: 'https://shop.example?x=1' },
    /^ALLOWED_ORIGINS /,
  ],
  'GALAXY_PAY_PAGE_ORIGINS "*"': [{ GALAXY_PAY_PAGE_ORIGINS: '*' }, /^GALAXY_PAY_PAGE_ORIGINS /],
  'GALAXY_PAY_FLOW "x"': [{ GALAXY_PAY_FLOW: 'x' }, /^GALAXY_PAY_FLOW .*"x"/],
  'LOG_LEVEL "loud"': [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL /],
  'ADMIN_TOKEN too short': [{ ADMIN_TOKEN: 'short-token' }, /^ADMIN_TOKEN /],
  'MERCHANT_WEBHOOK_URL without a secret': [
    { MERCHANT_WEBHOOK_URL: 'https://shop.example/hooks' },
    /MERCHANT_WEBHOOK_URL and MERCHANT_WEBHOOK_SECRET/,
  ],
  'MERCHANT_WEBHOOK_SECRET without a URL': [
    { MERCHANT_WEBHOOK_SECRET: LONG_SECRET },
    /MERCHANT_WEBHOOK_URL and MERCHANT_WEBHOOK_SECRET/,
  ],
  'MERCHANT_WEBHOOK_SECRET too short': [
    { MERCHANT_WEBHOOK_URL: 'https://shop.example/hooks', MERCHANT_WEBHOOK_SECRET: 'abc' },
    /^MERCHANT_WEBHOOK_SECRET /,
  ],
  'REQUEST_TIMEOUT_SECONDS of 0': [
    { REQUEST_TIMEOUT_SECONDS: '0' },
    /^REQUEST_TIMEOUT_SECONDS .*"0"/,
  ],
  'SESSION_TTL_SECONDS below the range': [
    { SESSION_TTL_SECONDS: '59' },
    /^SESSION_TTL_SECONDS .*"59"/,
  ],
  'SESSION_TTL_SECONDS above the range': [
    { SESSION_TTL_SECONDS: '86401' },
    /^SESSION_TTL_SECONDS /,
  ],
  'SESSION_TTL_SECONDS not a whole number': [
    { SESSION_TTL_SECONDS: '90.5' },
    /^SESSION_TTL_SECONDS /,
  ],
  'TRUST_PROXY "true"': [{ TRUST_PROXY: 'true' }, /^TRUST_PROXY /],
  'GALAXY_PAY_SALT unset': [{ GALAXY_PAY_SALT: '' }, /^GALAXY_PAY_SALT is not set/],
  'GALAXY_PAY_API_KEY unset': [{ GALAXY_PAY_API_KEY: '  ' }, /^GALAXY_PAY_API_KEY is not set/],
  'GALAXY_PAY_SALT still the .env.example placeholder': [
    { GALAXY_PAY_SALT: '<replace-with-your-galaxy-pay-salt>' },
    /^GALAXY_PAY_SALT .*placeholder/,
  ],
  'GALAXY_PAY_API_KEY still the .env.example placeholder': [
    { GALAXY_PAY_API_KEY: '<replace-with-your-galaxy-pay-api-key>' },
    /^GALAXY_PAY_API_KEY .*placeholder/,
  ],
  'ADMIN_TOKEN still the .env.example placeholder (long enough to pass the length check)': [
    { ADMIN_TOKEN: '<replace-with-a-random-string-of-32-or-more-characters>' },
    /^ADMIN_TOKEN .*placeholder/,
  ],
  'MERCHANT_WEBHOOK_SECRET still the .env.example placeholder': [
    {
      MERCHANT_WEBHOOK_URL: 'https://shop.example/hooks',
      MERCHANT_WEBHOOK_SECRET: '<replace-with-a-random-string-of-32-or-more-characters>',
    },
    /^MERCHANT_WEBHOOK_SECRET .*placeholder/,
  ],
  'UNVERIFIED_EVIDENCE_MAX_ROWS 0 (the forensics window must hold something)': [
    { UNVERIFIED_EVIDENCE_MAX_ROWS: '0' },
    /^UNVERIFIED_EVIDENCE_MAX_ROWS .*from 100 to 10000000.*"0"/,
  ],
  'UNVERIFIED_EVIDENCE_MAX_BYTES "8MB" (bytes, a whole number)': [
    { UNVERIFIED_EVIDENCE_MAX_BYTES: '8MB' },
    /^UNVERIFIED_EVIDENCE_MAX_BYTES .*"8MB"/,
  ],
  'UNVERIFIED_EVIDENCE_MAX_BYTES below one row (1000)': [
    { UNVERIFIED_EVIDENCE_MAX_BYTES: '1000' },
    /^UNVERIFIED_EVIDENCE_MAX_BYTES .*from 65536/,
  ],
  'UNEXPECTED_AUTHORIZATION "keep" (money must never stay held)': [
    { UNEXPECTED_AUTHORIZATION: 'keep' },
    /^UNEXPECTED_AUTHORIZATION must be one of void, capture, not "keep"/,
  ],
  'UNVERIFIED_IPN_RATE -1': [{ UNVERIFIED_IPN_RATE: '-1' }, /^UNVERIFIED_IPN_RATE .*"-1"/],
  'UNVERIFIED_IPN_RATE_TOTAL 1.5': [
    { UNVERIFIED_IPN_RATE_TOTAL: '1.5' },
    /^UNVERIFIED_IPN_RATE_TOTAL .*"1.5"/,
  ],
};

describe('loadConfig', () => {
  describe('with only the required variables', () => {
    it('fills in the documented defaults', () => {
      const config = loadConfig(env());

      assert.equal(config.port, 8200);
      assert.equal(config.host, '127.0.0.1');
      assert.equal(config.publicUrl, 'http://127.0.0.1:8200');
      assert.equal(config.gatewayBaseUrl, GatewayBaseUrl.Uat);
      assert.equal(config.flow, 'checkout');
      assert.deepEqual(config.allowedOrigins, []);
      assert.equal(config.databaseUrl, 'file:galaxy-pay.db');
      assert.equal(config.adminToken, undefined);
      assert.equal(config.merchantWebhook, undefined);
      assert.equal(config.sessionTtlSeconds, 1800);
      assert.equal(config.requestTimeoutSeconds, 15);
      assert.equal(config.catalogFile, undefined);
      assert.equal(config.trustProxy, 0);
      assert.equal(config.logLevel, 'info');
      assert.equal(config.apiKey, API_KEY);
      assert.equal(config.salt, SALT);
      assert.deepEqual(config.unverifiedEvidence, { maxRows: 10_000, maxBytes: 8_388_608 });
      assert.equal(config.unverifiedIpnRate, 60);
      assert.equal(config.unverifiedIpnRateTotal, 600);
      assert.equal(config.unexpectedAuthorization, 'void');
    });

    it('reads UNEXPECTED_AUTHORIZATION=capture', () => {
      assert.equal(
        loadConfig(env({ UNEXPECTED_AUTHORIZATION: 'capture' })).unexpectedAuthorization,
        'capture',
      );
    });

    it('returns a frozen result, lists included', () => {
      const config = loadConfig(
        env({
          ALLOWED_ORIGINS: 'https://shop.example',
          MERCHANT_WEBHOOK_URL: 'https://shop.example/hooks',
          MERCHANT_WEBHOOK_SECRET: LONG_SECRET,
        }),
      );

      assert.ok(Object.isFrozen(config));
      assert.throws(() => {
        (config as { salt: string }).salt = 'changed';
      }, TypeError);
      assert.throws(() => config.allowedOrigins.push('https://evil.example'), TypeError);
      assert.throws(() => config.gatewayPageOrigins.push('https://evil.example'), TypeError);
      assert.throws(() => {
        config.merchantWebhook!.url = 'https://evil.example';
      }, TypeError);
    });
  });

  describe('with every variable set', () => {
    it('reads each of them', () => {
      const config = loadConfig(
        env({
          PORT: '9000',
          HOST: '0.0.0.0',
          PUBLIC_URL: 'https://pay.shop.example/galaxy-pay/',
          GALAXY_PAY_BASE_URL: 'http://127.0.0.1:8100/',
          GALAXY_PAY_PAGE_ORIGINS: 'http://127.0.0.1:8100, http://localhost:8100',
          GALAXY_PAY_FLOW: 'payWithOption',
          ALLOWED_ORIGINS: 'https://shop.example, https://www.shop.example/',
          DATABASE_URL: 'postgres://signer@127.0.0.1:5432/pay',
          ADMIN_TOKEN: LONG_SECRET,
          MERCHANT_WEBHOOK_URL: 'https://shop.example/hooks',
          MERCHANT_WEBHOOK_SECRET: LONG_SECRET,
          SESSION_TTL_SECONDS: '600',
          CATALOG_FILE: './catalog.json',
          TRUST_PROXY: '1',
          LOG_LEVEL: 'debug',
          UNVERIFIED_EVIDENCE_MAX_ROWS: '500',
          UNVERIFIED_EVIDENCE_MAX_BYTES: '1048576',
          UNVERIFIED_IPN_RATE: '0',
          UNVERIFIED_IPN_RATE_TOTAL: '6000',
        }),
      );

      assert.equal(config.port, 9000);
      assert.equal(config.host, '0.0.0.0');
      assert.equal(config.publicUrl, 'https://pay.shop.example/galaxy-pay');
      assert.equal(config.gatewayBaseUrl, 'http://127.0.0.1:8100');
      assert.deepEqual(config.gatewayPageOrigins, [
        'http://127.0.0.1:8100',
        'http://localhost:8100',
      ]);
      assert.equal(config.flow, 'payWithOption');
      assert.deepEqual(config.allowedOrigins, ['https://shop.example', 'https://www.shop.example']);
      assert.equal(config.databaseUrl, 'postgres://signer@127.0.0.1:5432/pay');
      assert.equal(config.adminToken, LONG_SECRET);
      assert.deepEqual(config.merchantWebhook, {
        url: 'https://shop.example/hooks',
        secret: LONG_SECRET,
      });
      assert.equal(config.sessionTtlSeconds, 600);
      assert.equal(config.catalogFile, './catalog.json');
      assert.equal(config.trustProxy, 1);
      assert.equal(config.logLevel, 'debug');
      assert.deepEqual(config.unverifiedEvidence, { maxRows: 500, maxBytes: 1_048_576 });
      assert.ok(Object.isFrozen(config.unverifiedEvidence));
      assert.equal(config.unverifiedIpnRate, 0);
      assert.equal(config.unverifiedIpnRateTotal, 6000);
    });
  });

  describe('default hosted-page origins', () => {
    it('are Galaxy Pay UAT page host for the UAT gateway', () => {
      assert.deepEqual(loadConfig(env()).gatewayPageOrigins, ['https://uat-payment.galaxypay.vn']);
      assert.deepEqual(defaultPageOrigins(`${GatewayBaseUrl.Uat}/`), [
        'https://uat-payment.galaxypay.vn',
      ]);
    });

    it('are the production page hosts for the production gateway', () => {
      const config = loadConfig(env({ GALAXY_PAY_BASE_URL: GatewayBaseUrl.Production }));

      assert.deepEqual(config.gatewayPageOrigins, [
        'https://payment.galaxypay.vn',
        'https://paymentv2.galaxypay.vn',
      ]);
    });

    it("are a local sandbox's own origin", () => {
      const config = loadConfig(env({ GALAXY_PAY_BASE_URL: 'http://127.0.0.1:8100/' }));

      assert.deepEqual(config.gatewayPageOrigins, ['http://127.0.0.1:8100']);
      assert.deepEqual(defaultPageOrigins('http://localhost:9999/api'), ['http://localhost:9999']);
    });
  });

  describe('with a bad value', () => {
    for (const [name, [extra, variable]] of Object.entries(BAD_VALUES)) {
      it(`${name}: throws a ConfigError naming the variable`, () => {
        const error = refused(extra);

        assert.match(error.message, variable);
      });
    }

    it('never puts the salt, the API key or another secret into any error message', () => {
      const secrets = [SALT, API_KEY, 'short-token', 'abc'];
      const messages = Object.values(BAD_VALUES).map(([extra]) => refused(extra).message);

      for (const message of messages) {
        for (const secret of [SALT, API_KEY]) {
          assert.ok(!message.includes(secret), `"${message}" contains a secret`);
        }
      }
      assert.ok(!refused({ ADMIN_TOKEN: secrets[2]! }).message.includes(secrets[2]!));
      assert.ok(
        !refused({
          MERCHANT_WEBHOOK_URL: 'https://shop.example/hooks',
          MERCHANT_WEBHOOK_SECRET: 'webhook-secret-short',
        }).message.includes('webhook-secret-short'),
      );
    });

    it('names the salt without its value when only the salt is a placeholder-like value', () => {
      const error = refused({ GALAXY_PAY_SALT: '<replace-with-CANARY-SALT>' });

      assert.ok(!error.message.includes('CANARY'));
    });
  });
});

/** The test that `variable` set to `value` is refused with a ConfigError whose message matches `message`. */
function itRefusesAnyOtherValue(variable: string, value: string, message: RegExp): void {
  it('refuses any other value, naming the variable and the value', () => {
    const error = refused({ [variable]: value });

    assert.match(error.message, message);
  });
}

describe('loadConfig: gateway fidelity settings (docs/gateway-fidelity.md R1, M1)', () => {
  describe('GALAXY_PAY_RESPONSE_SIGNATURE', () => {
    it('is enforce by default, and enforce or log when set', () => {
      assert.equal(loadConfig(env()).responseSignature, 'enforce');
      assert.equal(
        loadConfig(env({ GALAXY_PAY_RESPONSE_SIGNATURE: 'enforce' })).responseSignature,
        'enforce',
      );
      assert.equal(
        loadConfig(env({ GALAXY_PAY_RESPONSE_SIGNATURE: 'log' })).responseSignature,
        'log',
      );
    });

    itRefusesAnyOtherValue(
      'GALAXY_PAY_RESPONSE_SIGNATURE',
      'off',
      /^GALAXY_PAY_RESPONSE_SIGNATURE must be one of enforce, log, not "off"/,
    );

    for (const [name, extra] of [
      ['NODE_ENV=production', { NODE_ENV: 'production' }],
      ['the production gateway', { GALAXY_PAY_BASE_URL: GatewayBaseUrl.Production }],
      [
        'the production gateway with a trailing slash',
        { GALAXY_PAY_BASE_URL: `${GatewayBaseUrl.Production}/` },
      ],
    ] as const) {
      it(`refuses log with ${name}, naming the second switch`, () => {
        const error = refused({ GALAXY_PAY_RESPONSE_SIGNATURE: 'log', ...extra });

        assert.match(error.message, /^GALAXY_PAY_RESPONSE_SIGNATURE=log .*production/);
        assert.match(error.message, /GALAXY_PAY_ALLOW_UNVERIFIED_RESPONSES=yes-i-understand/);
      });

      it(`accepts log with ${name} when GALAXY_PAY_ALLOW_UNVERIFIED_RESPONSES=yes-i-understand`, () => {
        const config = loadConfig(
          env({
            GALAXY_PAY_RESPONSE_SIGNATURE: 'log',
            GALAXY_PAY_ALLOW_UNVERIFIED_RESPONSES: 'yes-i-understand',
            ...extra,
          }),
        );

        assert.equal(config.responseSignature, 'log');
      });
    }

    it('keeps enforce in production without the second switch', () => {
      const config = loadConfig(
        env({ NODE_ENV: 'production', GALAXY_PAY_BASE_URL: GatewayBaseUrl.Production }),
      );

      assert.equal(config.responseSignature, 'enforce');
    });

    it('refuses a second switch that is not exactly yes-i-understand (a typo must not pass silently)', () => {
      for (const value of ['yes', 'true', 'YES-I-UNDERSTAND']) {
        const error = refused({
          GALAXY_PAY_RESPONSE_SIGNATURE: 'log',
          GALAXY_PAY_ALLOW_UNVERIFIED_RESPONSES: value,
        });

        assert.match(
          error.message,
          /^GALAXY_PAY_ALLOW_UNVERIFIED_RESPONSES must be "yes-i-understand"/,
        );
      }
    });
  });

  describe('GALAXY_PAY_MANAGEMENT_ORDER_ID', () => {
    it('is per-operation by default, and per-operation or original when set', () => {
      assert.equal(loadConfig(env()).managementOrderId, 'per-operation');
      assert.equal(
        loadConfig(env({ GALAXY_PAY_MANAGEMENT_ORDER_ID: 'original' })).managementOrderId,
        'original',
      );
    });

    itRefusesAnyOtherValue(
      'GALAXY_PAY_MANAGEMENT_ORDER_ID',
      'new',
      /^GALAXY_PAY_MANAGEMENT_ORDER_ID must be one of per-operation, original, not "new"/,
    );
  });
});
