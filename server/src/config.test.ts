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
    const cases: Array<{ name: string; extra: Record<string, string>; variable: RegExp }> = [
      { name: 'PORT "abc"', extra: { PORT: 'abc' }, variable: /^PORT .*"abc"/ },
      { name: 'PORT 65536', extra: { PORT: '65536' }, variable: /^PORT / },
      {
        name: 'PUBLIC_URL "nope"',
        extra: { PUBLIC_URL: 'nope' },
        variable: /^PUBLIC_URL .*"nope"/,
      },
      {
        name: 'PUBLIC_URL with another scheme',
        extra: { PUBLIC_URL: 'ftp://pay.example' },
        variable: /^PUBLIC_URL /,
      },
      {
        name: 'GALAXY_PAY_BASE_URL over http to a non-loopback host',
        extra: { GALAXY_PAY_BASE_URL: 'http://uat-secure.galaxypay.vn' },
        variable: /^GALAXY_PAY_BASE_URL must be https/,
      },
      {
        name: 'GALAXY_PAY_BASE_URL that is not a URL',
        extra: { GALAXY_PAY_BASE_URL: 'galaxypay' },
        variable: /^GALAXY_PAY_BASE_URL /,
      },
      {
        name: 'ALLOWED_ORIGINS "*"',
        extra: { ALLOWED_ORIGINS: '*' },
        variable: /^ALLOWED_ORIGINS .*"\*"/,
      },
      {
        name: 'ALLOWED_ORIGINS "null"',
        extra: { ALLOWED_ORIGINS: 'https://shop.example,null' },
        variable: /^ALLOWED_ORIGINS .*"null"/,
      },
      {
        name: 'ALLOWED_ORIGINS with a path',
        extra: { ALLOWED_ORIGINS: 'https://shop.example/checkout' },
        variable: /^ALLOWED_ORIGINS .*"https:\/\/shop\.example\/checkout"/,
      },
      {
        name: 'ALLOWED_ORIGINS with a query',
        extra: { ALLOWED_ORIGINS: 'https://shop.example?x=1' },
        variable: /^ALLOWED_ORIGINS /,
      },
      {
        name: 'GALAXY_PAY_PAGE_ORIGINS "*"',
        extra: { GALAXY_PAY_PAGE_ORIGINS: '*' },
        variable: /^GALAXY_PAY_PAGE_ORIGINS /,
      },
      {
        name: 'GALAXY_PAY_FLOW "x"',
        extra: { GALAXY_PAY_FLOW: 'x' },
        variable: /^GALAXY_PAY_FLOW .*"x"/,
      },
      { name: 'LOG_LEVEL "loud"', extra: { LOG_LEVEL: 'loud' }, variable: /^LOG_LEVEL / },
      {
        name: 'ADMIN_TOKEN too short',
        extra: { ADMIN_TOKEN: 'short-token' },
        variable: /^ADMIN_TOKEN /,
      },
      {
        name: 'MERCHANT_WEBHOOK_URL without a secret',
        extra: { MERCHANT_WEBHOOK_URL: 'https://shop.example/hooks' },
        variable: /MERCHANT_WEBHOOK_URL and MERCHANT_WEBHOOK_SECRET/,
      },
      {
        name: 'MERCHANT_WEBHOOK_SECRET without a URL',
        extra: { MERCHANT_WEBHOOK_SECRET: LONG_SECRET },
        variable: /MERCHANT_WEBHOOK_URL and MERCHANT_WEBHOOK_SECRET/,
      },
      {
        name: 'MERCHANT_WEBHOOK_SECRET too short',
        extra: {
          MERCHANT_WEBHOOK_URL: 'https://shop.example/hooks',
          MERCHANT_WEBHOOK_SECRET: 'abc',
        },
        variable: /^MERCHANT_WEBHOOK_SECRET /,
      },
      {
        name: 'REQUEST_TIMEOUT_SECONDS of 0',
        extra: { REQUEST_TIMEOUT_SECONDS: '0' },
        variable: /^REQUEST_TIMEOUT_SECONDS .*"0"/,
      },
      {
        name: 'SESSION_TTL_SECONDS below the range',
        extra: { SESSION_TTL_SECONDS: '59' },
        variable: /^SESSION_TTL_SECONDS .*"59"/,
      },
      {
        name: 'SESSION_TTL_SECONDS above the range',
        extra: { SESSION_TTL_SECONDS: '86401' },
        variable: /^SESSION_TTL_SECONDS /,
      },
      {
        name: 'SESSION_TTL_SECONDS not a whole number',
        extra: { SESSION_TTL_SECONDS: '90.5' },
        variable: /^SESSION_TTL_SECONDS /,
      },
      { name: 'TRUST_PROXY "true"', extra: { TRUST_PROXY: 'true' }, variable: /^TRUST_PROXY / },
      {
        name: 'GALAXY_PAY_SALT unset',
        extra: { GALAXY_PAY_SALT: '' },
        variable: /^GALAXY_PAY_SALT is not set/,
      },
      {
        name: 'GALAXY_PAY_API_KEY unset',
        extra: { GALAXY_PAY_API_KEY: '  ' },
        variable: /^GALAXY_PAY_API_KEY is not set/,
      },
      {
        name: 'GALAXY_PAY_SALT still the .env.example placeholder',
        extra: { GALAXY_PAY_SALT: '<replace-with-your-galaxy-pay-salt>' },
        variable: /^GALAXY_PAY_SALT .*placeholder/,
      },
      {
        name: 'GALAXY_PAY_API_KEY still the .env.example placeholder',
        extra: { GALAXY_PAY_API_KEY: '<replace-with-your-galaxy-pay-api-key>' },
        variable: /^GALAXY_PAY_API_KEY .*placeholder/,
      },
      {
        name: 'ADMIN_TOKEN still the .env.example placeholder (long enough to pass the length check)',
        extra: { ADMIN_TOKEN: '<replace-with-a-random-string-of-32-or-more-characters>' },
        variable: /^ADMIN_TOKEN .*placeholder/,
      },
      {
        name: 'MERCHANT_WEBHOOK_SECRET still the .env.example placeholder',
        extra: {
          MERCHANT_WEBHOOK_URL: 'https://shop.example/hooks',
          MERCHANT_WEBHOOK_SECRET: '<replace-with-a-random-string-of-32-or-more-characters>',
        },
        variable: /^MERCHANT_WEBHOOK_SECRET .*placeholder/,
      },
      {
        name: 'UNVERIFIED_EVIDENCE_MAX_ROWS 0 (the forensics window must hold something)',
        extra: { UNVERIFIED_EVIDENCE_MAX_ROWS: '0' },
        variable: /^UNVERIFIED_EVIDENCE_MAX_ROWS .*from 100 to 10000000.*"0"/,
      },
      {
        name: 'UNVERIFIED_EVIDENCE_MAX_BYTES "8MB" (bytes, a whole number)',
        extra: { UNVERIFIED_EVIDENCE_MAX_BYTES: '8MB' },
        variable: /^UNVERIFIED_EVIDENCE_MAX_BYTES .*"8MB"/,
      },
      {
        name: 'UNVERIFIED_EVIDENCE_MAX_BYTES below one row (1000)',
        extra: { UNVERIFIED_EVIDENCE_MAX_BYTES: '1000' },
        variable: /^UNVERIFIED_EVIDENCE_MAX_BYTES .*from 65536/,
      },
      {
        name: 'UNEXPECTED_AUTHORIZATION "keep" (money must never stay held)',
        extra: { UNEXPECTED_AUTHORIZATION: 'keep' },
        variable: /^UNEXPECTED_AUTHORIZATION must be one of void, capture, not "keep"/,
      },
      {
        name: 'UNVERIFIED_IPN_RATE -1',
        extra: { UNVERIFIED_IPN_RATE: '-1' },
        variable: /^UNVERIFIED_IPN_RATE .*"-1"/,
      },
      {
        name: 'UNVERIFIED_IPN_RATE_TOTAL 1.5',
        extra: { UNVERIFIED_IPN_RATE_TOTAL: '1.5' },
        variable: /^UNVERIFIED_IPN_RATE_TOTAL .*"1.5"/,
      },
    ];

    for (const { name, extra, variable } of cases) {
      it(`${name}: throws a ConfigError naming the variable`, () => {
        const error = refused(extra);

        assert.match(error.message, variable);
      });
    }

    it('never puts the salt, the API key or another secret into any error message', () => {
      const secrets = [SALT, API_KEY, 'short-token', 'abc'];
      const messages = cases.map(({ extra }) => refused(extra).message);

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

    it('refuses any other value, naming the variable and the value', () => {
      const error = refused({ GALAXY_PAY_RESPONSE_SIGNATURE: 'off' });

      assert.match(
        error.message,
        /^GALAXY_PAY_RESPONSE_SIGNATURE must be one of enforce, log, not "off"/,
      );
    });

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

    it('refuses any other value, naming the variable and the value', () => {
      const error = refused({ GALAXY_PAY_MANAGEMENT_ORDER_ID: 'new' });

      assert.match(
        error.message,
        /^GALAXY_PAY_MANAGEMENT_ORDER_ID must be one of per-operation, original, not "new"/,
      );
    });
  });
});
