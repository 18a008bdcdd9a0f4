import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createGatewayClock, formatGatewayDateTime, parseGatewayDateTime } from './clock.js';

const RUNS = { numRuns: 200 };

/** Instants between 2000 and 2099 (GMT+7), whole seconds: what a gateway timestamp can express. */
const gatewayInstant = fc
  .date({
    min: new Date('1999-12-31T17:00:00Z'),
    max: new Date('2099-12-31T16:59:59Z'),
    noInvalidDate: true,
  })
  .map(date => new Date(Math.floor(date.getTime() / 1000) * 1000));

describe('formatGatewayDateTime', () => {
  it('formats an instant as yyyyMMddHHmmss in GMT+7', () => {
    assert.equal(formatGatewayDateTime(new Date('2022-04-26T01:33:22Z')), '20220426083322');
  });

  it('rolls a UTC evening over to the next day in Vietnam', () => {
    assert.equal(formatGatewayDateTime(new Date('2022-04-26T20:00:00Z')), '20220427030000');
  });

  it('rolls the last evening of a UTC year over to the next year', () => {
    assert.equal(formatGatewayDateTime(new Date('2022-12-31T17:00:00Z')), '20230101000000');
  });

  it('keeps the same day up to 16:59:59 UTC', () => {
    assert.equal(formatGatewayDateTime(new Date('2022-12-31T16:59:59Z')), '20221231235959');
  });

  it('drops milliseconds instead of rounding them', () => {
    assert.equal(formatGatewayDateTime(new Date('2022-04-26T01:33:22.999Z')), '20220426083322');
  });

  it('ignores the time zone of the machine it runs on', () => {
    const instant = new Date('2024-02-29T16:30:05Z');
    const original = process.env.TZ;

    try {
      process.env.TZ = 'America/Los_Angeles';
      assert.notEqual(instant.getHours(), instant.getUTCHours());
      assert.equal(formatGatewayDateTime(instant), '20240229233005');
      assert.deepEqual(parseGatewayDateTime('20240229233005'), instant);
    } finally {
      if (original === undefined) delete process.env.TZ;
      else process.env.TZ = original;
    }
  });

  it('throws a RangeError for an invalid date', () => {
    assert.throws(() => formatGatewayDateTime(new Date('not a date')), RangeError);
  });
});

describe('parseGatewayDateTime', () => {
  it('reads a GMT+7 string as the matching instant', () => {
    assert.deepEqual(parseGatewayDateTime('20220426083322'), new Date('2022-04-26T01:33:22Z'));
  });

  it('reads the JSON number form the gateway also sends', () => {
    assert.deepEqual(parseGatewayDateTime(20220426083322), new Date('2022-04-26T01:33:22Z'));
  });

  it('reads a GMT+7 early morning as the previous day in UTC', () => {
    assert.deepEqual(parseGatewayDateTime('20230101000000'), new Date('2022-12-31T17:00:00Z'));
  });

  it('accepts 29 February in a leap year', () => {
    assert.deepEqual(parseGatewayDateTime('20240229120000'), new Date('2024-02-29T05:00:00Z'));
  });

  it('round-trips every whole-second instant between 2000 and 2099', () => {
    fc.assert(
      fc.property(gatewayInstant, instant => {
        const text = formatGatewayDateTime(instant);

        assert.match(text, /^20\d{12}$/);
        assert.deepEqual(parseGatewayDateTime(text), instant);
        assert.deepEqual(parseGatewayDateTime(Number(text)), instant);
      }),
      RUNS,
    );
  });

  const rejected: Array<[string, unknown]> = [
    ['31 February', '20220231083322'],
    ['29 February outside a leap year', '20230229083322'],
    ['the 13th month', '20221326083322'],
    ['month 00', '20220026083322'],
    ['day 00', '20220400083322'],
    ['hour 24', '20220426240000'],
    ['minute 60', '20220426086000'],
    ['second 60', '20220426083360'],
    ['13 digits', '2022042608332'],
    ['15 digits', '202204260833220'],
    ['an ISO timestamp', '2022-04-26T08:33:22'],
    ['a letter among the digits', '2022042608332a'],
    ['surrounding whitespace', ' 20220426083322'],
    ['a trailing newline', '20220426083322\n'],
    ['full-width digits', '２０２２０４２６０８３３２２'],
    ['an empty string', ''],
    ['a negative number', -20220426083322],
    ['a fractional number', 20220426083322.5],
    ['a number with 13 digits', 2022042608332],
    ['null', null],
    ['undefined', undefined],
    ['a Date', new Date('2022-04-26T01:33:22Z')],
    ['an array holding the digits', ['20220426083322']],
    ['a boolean', true],
  ];
  for (const [condition, value] of rejected) {
    it(`returns undefined for ${condition}`, () => {
      assert.equal(parseGatewayDateTime(value), undefined);
    });
  }
});

describe('createGatewayClock', () => {
  it('formats the instant returned by the injected now', () => {
    const clock = createGatewayClock(() => new Date('2022-04-26T01:33:22Z'));

    assert.equal(clock.now(), '20220426083322');
  });

  it('asks the injected now again on every call', () => {
    let instant = new Date('2022-04-26T01:33:22Z');
    const clock = createGatewayClock(() => instant);

    const first = clock.now();
    instant = new Date('2022-04-26T20:00:00Z');
    const second = clock.now();

    assert.equal(first, '20220426083322');
    assert.equal(second, '20220427030000');
  });

  it('uses the real time when no now is injected', () => {
    const before = Math.floor(Date.now() / 1000) * 1000;

    const stamp = createGatewayClock().now();

    const after = Date.now();
    const parsed = parseGatewayDateTime(stamp);
    assert.ok(parsed, `not a gateway timestamp: ${stamp}`);
    assert.ok(parsed.getTime() >= before && parsed.getTime() <= after, stamp);
  });
});
