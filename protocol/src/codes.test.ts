import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  classifyTransactionStatus,
  findTestCard,
  isKnownSourceType,
  isSuccessResponseCode,
  maskCardNumber,
  testCards,
  type TransactionOutcome,
} from './codes.js';

/** The Luhn (mod 10) check every real card number passes. */
function passesLuhn(number: string): boolean {
  let sum = 0;
  for (let index = 0; index < number.length; index += 1) {
    let digit = Number(number[number.length - 1 - index]);
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

describe('classifyTransactionStatus', () => {
  const table: Array<[unknown, TransactionOutcome]> = [
    ['200', 'paid'],
    [200, 'paid'],
    ['499', 'cancelled'],
    ['408', 'expired'],
    ['505', 'failed'],
    ['400', 'failed'],
    ['401', 'failed'],
    ['409', 'failed'],
    ['117', 'failed'],
    ['502', 'unknown'],
    ['503', 'unknown'],
    ['504', 'unknown'],
    [504, 'unknown'],
    ['102', 'pending'],
    ['202', 'authorized'],
    ['210', 'voided'],
    // "00" is an old call status (§10), never a payment result: pinned as failed.
    ['00', 'failed'],
    ['0', 'failed'],
    ['0200', 'unknown'],
    [' 200', 'unknown'],
    ['200 ', 'unknown'],
    ['2000', 'unknown'],
    ['20a', 'unknown'],
    ['', 'unknown'],
    [200.5, 'unknown'],
    [-200, 'unknown'],
    [Number.NaN, 'unknown'],
    [null, 'unknown'],
    [undefined, 'unknown'],
    [true, 'unknown'],
    [['200'], 'unknown'],
    [{ code: '200' }, 'unknown'],
  ];

  for (const [code, outcome] of table) {
    it(`classifies ${JSON.stringify(code) ?? String(code)} as ${outcome}`, () => {
      assert.equal(classifyTransactionStatus(code), outcome);
    });
  }

  it('classifies nothing but 200 as paid', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.anything(), fc.string(), fc.integer(), fc.stringMatching(/^\d{1,4}$/)),
        code => {
          fc.pre(code !== '200' && code !== 200);

          assert.notEqual(classifyTransactionStatus(code), 'paid');
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('isSuccessResponseCode', () => {
  const table: Array<[unknown, boolean]> = [
    ['200', true],
    [200, true],
    ['00', true],
    ['0', false],
    [0, false],
    ['201', false],
    ['499', false],
    [' 200', false],
    [null, false],
    [undefined, false],
  ];

  for (const [code, success] of table) {
    it(`answers ${success} for ${JSON.stringify(code) ?? String(code)}`, () => {
      assert.equal(isSuccessResponseCode(code), success);
    });
  }
});

describe('testCards', () => {
  it('lists each card number once', () => {
    const numbers = testCards.map(card => card.number);

    assert.equal(new Set(numbers).size, numbers.length);
  });

  for (const card of testCards) {
    it(`${card.number} (${card.source}) passes the Luhn check`, () => {
      assert.match(card.number, /^\d{16}$/);
      assert.equal(passesLuhn(card.number), true);
    });
  }

  it('uses a Luhn check that refuses a number with one digit changed', () => {
    assert.equal(passesLuhn('5506920809243667'), true);
    assert.equal(passesLuhn('5506920809243668'), false);
    assert.equal(passesLuhn('5506920809243676'), false);
  });

  it('matches the GUIDE 3.6.1 table of §12', () => {
    const documented = testCards
      .filter(card => card.source === 'GUIDE 3.6.1')
      .map(({ number, network, date, cvv, otp, holder }) => ({
        number,
        network,
        date,
        cvv,
        otp,
        holder,
      }));

    assert.deepEqual(documented, [
      {
        number: '5506920809243667',
        network: 'MPGS',
        date: '01/39',
        cvv: '100',
        otp: true,
        holder: undefined,
      },
      {
        number: '4012000033330026',
        network: 'MPGS',
        date: '01/39',
        cvv: '100',
        otp: false,
        holder: undefined,
      },
      {
        number: '4456530000001096',
        network: 'CYBERSOURCE',
        date: '12/30',
        cvv: '111',
        otp: true,
        holder: undefined,
      },
      {
        number: '4456530000000064',
        network: 'CYBERSOURCE',
        date: '12/30',
        cvv: '111',
        otp: false,
        holder: undefined,
      },
      {
        number: '9704000000000018',
        network: 'NAPAS',
        date: '03/07',
        cvv: undefined,
        otp: true,
        holder: 'NGUYEN VAN A',
      },
    ]);
  });

  it('approves with every documented card and declines only with the sandbox cards', () => {
    for (const card of testCards) {
      assert.equal(card.outcome, card.source === 'sandbox' ? 'decline' : 'approve', card.number);
    }
    assert.ok(testCards.some(card => card.outcome === 'decline' && card.method === 'DOMESTIC'));
    assert.ok(
      testCards.some(card => card.outcome === 'decline' && card.method === 'INTERNATIONAL'),
    );
  });
});

describe('findTestCard', () => {
  it('finds every test card by its number', () => {
    for (const card of testCards) {
      assert.equal(findTestCard(card.number), card);
    }
  });

  it('ignores spaces, tabs and line breaks in the number', () => {
    assert.equal(findTestCard(' 5506 9208\t0924\n3667 ')?.number, '5506920809243667');
  });

  it('returns undefined for a number that is not a test card', () => {
    assert.equal(findTestCard('5506920809243668'), undefined);
    assert.equal(findTestCard('550692080924366'), undefined);
    assert.equal(findTestCard(''), undefined);
  });
});

describe('maskCardNumber', () => {
  it('keeps the first six and last four digits of an 11-digit number', () => {
    assert.equal(maskCardNumber('12345678901'), '123456*8901');
  });

  it('keeps the first six and last four digits of a 16-digit number', () => {
    assert.equal(maskCardNumber('5506920809243667'), '550692******3667');
  });

  it('masks the middle of a 19-digit number', () => {
    assert.equal(maskCardNumber('9704000000000000018'), '970400*********0018');
  });

  it('drops spaces and dashes before masking', () => {
    assert.equal(maskCardNumber('5506 9208-0924 3667'), '550692******3667');
  });

  it('masks every digit of a number too short to hide anything behind six and four', () => {
    assert.equal(maskCardNumber('1234567890'), '**********');
    assert.equal(maskCardNumber('123456789'), '*********');
    assert.equal(maskCardNumber(''), '');
  });

  it('masks at least one digit and keeps the length of any number of up to 19 digits', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{1,19}$/), digits => {
        const masked = maskCardNumber(digits);

        assert.equal(masked.length, digits.length);
        assert.ok(masked.includes('*'), `${digits} came back unmasked`);
        assert.ok(digits.length <= 10 || masked.slice(-4) === digits.slice(-4));
      }),
      { numRuns: 300 },
    );
  });

  it('never shows more than the first six and last four digits', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{1,19}$/), digits => {
        const shown = [...maskCardNumber(digits)].filter(character => character !== '*');

        assert.ok(shown.length <= 10, maskCardNumber(digits));
      }),
      { numRuns: 300 },
    );
  });
});

describe('isKnownSourceType', () => {
  const table: Array<[string, string, boolean]> = [
    ['DOMESTIC', 'SAIGONBANK', true],
    ['DOMESTIC', '970400', true],
    ['DOMESTIC', '970499', false],
    ['INTERNATIONAL', 'VISA', true],
    ['INTERNATIONAL', 'MOMO', false],
    ['WALLET', 'MOMO', true],
    ['QRPAY', 'QRPAY', true],
    ['CASH', 'QRPAY', false],
    ['DOMESTIC', 'constructor', false],
    ['DOMESTIC', 'toString', false],
    ['DOMESTIC', '__proto__', false],
    ['constructor', 'VISA', false],
    ['toString', 'VISA', false],
    ['__proto__', 'VISA', false],
  ];

  for (const [method, sourceType, known] of table) {
    it(`answers ${known} for ${method} with ${sourceType}`, () => {
      assert.equal(isKnownSourceType(method, sourceType), known);
    });
  }
});
