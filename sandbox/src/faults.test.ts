import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FaultTokenError,
  faultsFromDescription,
  mergeFaults,
  noFaults,
  parseFaults,
  scopableEndpoints,
  type FaultPlan,
} from './faults.js';

/** The plan a description should produce: an empty plan with these parts. */
function plan(parts: Partial<FaultPlan>): FaultPlan {
  return { ...noFaults(), ...parts };
}

describe('faultsFromDescription', () => {
  describe('with API-reply tokens', () => {
    const cases: Array<[string, FaultPlan['api']]> = [
      ['delay:300', { delayMs: 300 }],
      ['delay:0', { delayMs: 0 }],
      ['delay:999999', { delayMs: 999999 }],
      ['drip', { drip: true }],
      ['reset', { reset: true }],
      ['500|500|ok', { replies: ['500', '500', 'ok'] }],
      ['reset|html|502|503|504|ok', { replies: ['reset', 'html', '502', '503', '504', 'ok'] }],
      ['500', { replies: ['500'] }],
      ['html-error-page', { htmlErrorPage: true }],
      ['409-duplicate', { duplicate409: true }],
      ['huge', { huge: true }],
      ['bad-response-signature', { badResponseSignature: true }],
      ['foreign-endpoint-host', { foreignEndpointHost: true }],
    ];
    for (const [token, api] of cases) {
      it(`puts "${token}" in plan.api and nowhere else`, () => {
        assert.deepEqual(faultsFromDescription(`Order 42 sandbox:${token}`), plan({ api }));
      });
    }
  });

  describe('with flow tokens', () => {
    const cases: Array<[string, Partial<FaultPlan>]> = [
      ['ipn-first', { ipnFirst: true }],
      ['dup:1', { ipnCopies: 1 }],
      ['dup:3', { ipnCopies: 3 }],
      ['dup:99', { ipnCopies: 99 }],
      ['reorder', { failThenSuccess: true }],
      ['fail-then-success', { failThenSuccess: true }],
      ['late:2', { lateIpnSeconds: 2 }],
      ['late:0.3', { lateIpnSeconds: 0.3 }],
      ['late:1.25', { lateIpnSeconds: 1.25 }],
      ['late:9999.999', { lateIpnSeconds: 9999.999 }],
      ['no-ipn', { noIpn: true }],
      ['amount:+1', { amountDelta: 1 }],
      ['amount:-5', { amountDelta: -5 }],
      ['currency:USD', { currency: 'USD' }],
      ['status:authorized', { statusAuthorized: true }],
      ['proto-pollution', { protoPollution: true }],
      ['plus-unencoded', { plusUnencoded: true }],
      ['deny-framing', { denyFraming: true }],
      ['callback:get', { callbackMethod: 'GET' }],
      ['callback:post', { callbackMethod: 'POST' }],
    ];
    for (const [token, flow] of cases) {
      it(`reads "${token}" as a flow fault and leaves plan.api empty`, () => {
        assert.deepEqual(faultsFromDescription(`sandbox:${token}`), plan(flow));
      });
    }
  });

  describe('with an @endpoint scope', () => {
    it('aims delay:3000@query at plan.scoped.query, not at plan.api', () => {
      const faults = faultsFromDescription('Order sandbox:delay:3000@query');

      assert.deepEqual(faults.scoped, { query: { delayMs: 3000 } });
      assert.deepEqual(faults.api, {});
    });

    it('keeps scoped and unscoped faults of the same kind apart', () => {
      const faults = faultsFromDescription('sandbox:delay:10,delay:3000@query,500|ok@refund');

      assert.deepEqual(faults.api, { delayMs: 10 });
      assert.deepEqual(faults.scoped, {
        query: { delayMs: 3000 },
        refund: { replies: ['500', 'ok'] },
      });
    });

    it('collects several faults aimed at the same endpoint into one entry', () => {
      const faults = faultsFromDescription('sandbox:drip@capture,huge@capture');

      assert.deepEqual(faults.scoped, { capture: { drip: true, huge: true } });
    });

    for (const endpoint of scopableEndpoints) {
      it(`accepts the endpoint "${endpoint}"`, () => {
        const faults = faultsFromDescription(`sandbox:reset@${endpoint}`);

        assert.deepEqual(faults.scoped[endpoint], { reset: true });
        assert.deepEqual(faults.api, {});
      });
    }
  });

  describe('with several tokens', () => {
    it('reads every comma-separated token of one word', () => {
      const faults = faultsFromDescription('Order 42 sandbox:dup:3,late:2,delay:50');

      assert.deepEqual(faults, plan({ ipnCopies: 3, lateIpnSeconds: 2, api: { delayMs: 50 } }));
    });

    it('reads every sandbox: word of the description', () => {
      const faults = faultsFromDescription(
        'sandbox:reorder Order 42 sandbox:currency:USD\nand sandbox:drip@query',
      );

      assert.deepEqual(
        faults,
        plan({ failThenSuccess: true, currency: 'USD', scoped: { query: { drip: true } } }),
      );
    });

    it('lets a later token override an earlier one of the same kind', () => {
      assert.equal(faultsFromDescription('sandbox:dup:2 sandbox:dup:5').ipnCopies, 5);
      assert.equal(
        faultsFromDescription('sandbox:callback:post,callback:get').callbackMethod,
        'GET',
      );
    });
  });

  describe('without a token', () => {
    const descriptions: unknown[] = [
      'DEMO TRANSACTION',
      '',
      'sandbox: is not a token on its own',
      'notsandbox:dup:3 (a fault word must start with the prefix)',
      'Sandbox:dup:3 (the prefix is case-sensitive)',
      undefined,
      null,
      42,
      { orderDescription: 'sandbox:dup:3' },
    ];
    for (const description of descriptions) {
      it(`returns an empty plan for ${JSON.stringify(description) ?? 'undefined'}`, () => {
        assert.deepEqual(faultsFromDescription(description), noFaults());
      });
    }
  });

  describe('with a token it does not know', () => {
    const bad: Array<[string, RegExp]> = [
      ['sandbox:bogus', /unknown sandbox fault "bogus"/],
      ['sandbox:dup:3,typo', /unknown sandbox fault "typo"/],
      ['sandbox:delay:abc', /unknown sandbox fault/],
      ['sandbox:delay:1234567', /unknown sandbox fault/],
      ['sandbox:dup:0', /unknown sandbox fault/],
      ['sandbox:dup:100', /unknown sandbox fault/],
      ['sandbox:late:1.2345', /unknown sandbox fault/],
      ['sandbox:late:-1', /unknown sandbox fault/],
      ['sandbox:amount:5', /unknown sandbox fault/],
      ['sandbox:currency:usd', /unknown sandbox fault/],
      ['sandbox:callback:put', /unknown sandbox fault/],
      ['sandbox:ok', /unknown sandbox fault "ok"/],
      ['sandbox:500|teapot', /unknown sandbox fault/],
      ['sandbox:dup:3,', /unknown sandbox fault ""/],
    ];
    for (const [description, message] of bad) {
      it(`throws FaultTokenError for "${description}"`, () => {
        assert.throws(() => faultsFromDescription(description), {
          name: 'FaultTokenError',
          message,
        });
      });
    }

    it('throws FaultTokenError for an unknown endpoint scope', () => {
      assert.throws(
        () => faultsFromDescription('sandbox:delay:3000@nowhere'),
        (error: unknown) =>
          error instanceof FaultTokenError && /unknown endpoint "nowhere"/.test(error.message),
      );
    });

    for (const token of ['no-ipn@query', 'dup:2@checkout', 'late:1@query', 'deny-framing@pay']) {
      it(`throws FaultTokenError when the flow token "${token}" carries a scope`, () => {
        assert.throws(() => faultsFromDescription(`sandbox:${token}`), {
          name: 'FaultTokenError',
          message: /cannot be aimed at an endpoint/,
        });
      });
    }

    it('throws an Error subclass, so callers can tell a bad token from a crash', () => {
      let caught: unknown;
      try {
        faultsFromDescription('sandbox:bogus');
      } catch (error) {
        caught = error;
      }

      assert.ok(caught instanceof FaultTokenError);
      assert.ok(caught instanceof Error);
    });
  });
});

describe('parseFaults', () => {
  it('reads a comma-separated list, trimming spaces and skipping empty entries', () => {
    assert.deepEqual(
      parseFaults(' no-ipn , dup:2,,delay:5@query, '),
      plan({ noIpn: true, ipnCopies: 2, scoped: { query: { delayMs: 5 } } }),
    );
  });

  it('returns an empty plan for an empty or missing list', () => {
    assert.deepEqual(parseFaults(''), noFaults());
    assert.deepEqual(parseFaults(undefined), noFaults());
  });

  it('reads the same grammar as a description', () => {
    const list = 'delay:3000@query,500|500|ok,late:0.3,amount:-5,callback:post';

    assert.deepEqual(parseFaults(list), faultsFromDescription(`sandbox:${list}`));
  });

  it('throws FaultTokenError for an unknown token instead of ignoring it', () => {
    assert.throws(() => parseFaults('no-ipn,nope'), FaultTokenError);
  });

  it('does not accept the sandbox: prefix, which belongs in descriptions only', () => {
    assert.throws(() => parseFaults('sandbox:no-ipn'), FaultTokenError);
  });

  it('returns a fresh plan each time, so one order cannot change another', () => {
    const first = parseFaults('delay:5@query');
    first.scoped.query!.delayMs = 1;

    assert.deepEqual(parseFaults('delay:5@query').scoped, { query: { delayMs: 5 } });
    assert.deepEqual(noFaults(), { api: {}, scoped: {} });
  });
});

describe('mergeFaults', () => {
  it('lets later plans win where both set a value, and keeps the rest', () => {
    const global = parseFaults('no-ipn,dup:2,delay:100,drip,delay:1@query,huge@query');
    const own = parseFaults('dup:5,delay:300,delay:3000@query,callback:post');

    assert.deepEqual(
      mergeFaults(global, own),
      plan({
        noIpn: true,
        ipnCopies: 5,
        callbackMethod: 'POST',
        api: { delayMs: 300, drip: true },
        scoped: { query: { delayMs: 3000, huge: true } },
      }),
    );
  });

  it('applies the order of its arguments, not of the tokens', () => {
    const a = parseFaults('currency:USD');
    const b = parseFaults('currency:EUR');

    assert.equal(mergeFaults(a, b).currency, 'EUR');
    assert.equal(mergeFaults(b, a).currency, 'USD');
  });

  it('keeps scoped faults of different endpoints apart', () => {
    const merged = mergeFaults(parseFaults('delay:1@query'), parseFaults('reset@refund'));

    assert.deepEqual(merged.scoped, { query: { delayMs: 1 }, refund: { reset: true } });
  });

  it('returns an empty plan when given nothing or empty plans', () => {
    assert.deepEqual(mergeFaults(), noFaults());
    assert.deepEqual(mergeFaults(noFaults(), noFaults()), noFaults());
  });

  it('does not change the plans it merges', () => {
    const global = parseFaults('delay:1@query,dup:2');
    const own = parseFaults('delay:2@query,dup:3,drip');

    const merged = mergeFaults(global, own);
    merged.scoped.query!.delayMs = 99;
    merged.api.reset = true;

    assert.deepEqual(global, parseFaults('delay:1@query,dup:2'));
    assert.deepEqual(own, parseFaults('delay:2@query,dup:3,drip'));
  });
});
