import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TokenmeterError } from '../../src/core/errors.ts';
import {
  cardBrand,
  luhnValid,
  normalizeCardNumber,
  offSessionOutcome,
  onSessionOutcome,
  readTestCard,
  TEST_CARDS,
} from '../../src/payments/test-cards.ts';

/** The check digit that makes `payload` + digit pass Luhn. */
function checkDigit(payload: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(`${payload}${d}`)) return String(d);
  throw new Error(`no check digit for ${payload}`);
}

const digitString = (min: number, max: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((ds) => ds.join(''));

/** A valid card number: 11 to 18 payload digits and their check digit. */
const cardNumber = digitString(11, 18).map((p) => `${p}${checkDigit(p)}`);

function refusedCard(input: string): void {
  assert.throws(
    () => readTestCard(input),
    (err: unknown) => err instanceof TokenmeterError && err.code === 'invalid_request' && err.field === 'card',
  );
}

describe('test cards: the documented behaviour', () => {
  const outcome = (number: string) => {
    const card = readTestCard(number);
    return { on: onSessionOutcome(card), off: offSessionOutcome(card.last4) };
  };

  it('4242 succeeds at checkout and off session', () => {
    assert.deepEqual(outcome('4242424242424242'), { on: { paid: true }, off: { paid: true } });
  });

  it('0341 succeeds at checkout and is declined card_declined off session', () => {
    assert.deepEqual(outcome('4000000000000341'), {
      on: { paid: true },
      off: { paid: false, reason: 'card_declined' },
    });
  });

  it('9995 is declined insufficient_funds at checkout and off session', () => {
    const declined = { paid: false, reason: 'insufficient_funds' };
    assert.deepEqual(outcome('4000000000009995'), { on: declined, off: declined });
  });

  it('3184 succeeds at checkout (the buyer authenticates) and fails authentication_required off session', () => {
    assert.deepEqual(outcome('4000002760003184'), {
      on: { paid: true },
      off: { paid: false, reason: 'authentication_required' },
    });
  });

  it('any other valid number behaves like 4242', () => {
    assert.deepEqual(outcome('5555555555554444'), { on: { paid: true }, off: { paid: true } });
  });

  it('off session only the last four digits are known: another number ending in 0341 is declined too', () => {
    // A valid Mastercard number ending in 0341 (the one second digit that makes its check digit 1).
    const numbers = [...Array(10).keys()].map((d) => `5${d}00000000000341`).filter(luhnValid);
    assert.equal(numbers.length, 1);
    for (const n of numbers) {
      assert.deepEqual(onSessionOutcome(readTestCard(n)), { paid: true });
      assert.deepEqual(offSessionOutcome(readTestCard(n).last4), { paid: false, reason: 'card_declined' });
    }
  });

  it('every documented card is a valid Visa number', () => {
    for (const c of TEST_CARDS) assert.equal(readTestCard(c.number).brand, 'visa', c.number);
  });
});

describe('test cards: reading a number', () => {
  it('spaces and dashes are allowed and dropped', () => {
    assert.deepEqual(readTestCard(' 4242 4242-4242 4242 '), {
      number: '4242424242424242',
      brand: 'visa',
      last4: '4242',
    });
  });

  it('brands by leading digits: Visa, Mastercard (51-55 and 2221-2720), Amex, else card', () => {
    assert.equal(cardBrand('4000056655665556'), 'visa');
    assert.equal(cardBrand('5105105105105100'), 'mastercard');
    assert.equal(cardBrand('5555555555554444'), 'mastercard');
    assert.equal(cardBrand('2221000000000009'), 'mastercard');
    assert.equal(cardBrand('2720990000000007'), 'mastercard');
    assert.equal(cardBrand('2220990000000000'), 'card');
    assert.equal(cardBrand('2721000000000000'), 'card');
    assert.equal(cardBrand('5000000000000000'), 'card');
    assert.equal(cardBrand('5600000000000000'), 'card');
    assert.equal(cardBrand('378282246310005'), 'amex');
    assert.equal(cardBrand('340000000000009'), 'amex');
    assert.equal(cardBrand('6011111111111117'), 'card');
  });

  it('refused: a wrong check digit, too few or too many digits, other characters, nothing', () => {
    refusedCard('4242424242424241');
    refusedCard('42424242424'); // 11 digits
    refusedCard(`4${'0'.repeat(18)}0`); // 20 digits
    refusedCard('4242.4242.4242.4242');
    refusedCard('4242424242424242a');
    refusedCard('４２４２４２４２４２４２４２４２'); // full-width digits are not ASCII digits
    refusedCard('');
    refusedCard(`${'4242 '.repeat(20)}`); // too long to scan, whatever it holds
  });

  it('property: a number with its check digit is read, whatever spaces and dashes it carries', () => {
    fc.assert(
      fc.property(cardNumber, fc.array(fc.constantFrom(' ', '-', '')), (number, seps) => {
        const typed = [...number].map((d, i) => `${d}${seps[i] ?? ''}`).join('');
        fc.pre(typed.length <= 64);
        const card = readTestCard(typed);
        assert.equal(card.number, number);
        assert.equal(card.last4, number.slice(-4));
        assert.equal(card.brand, cardBrand(number));
      }),
    );
  });

  it('property: changing any one digit of a valid number makes it invalid (Luhn catches every single-digit error)', () => {
    fc.assert(
      fc.property(cardNumber, fc.nat(), fc.integer({ min: 1, max: 9 }), (number, at, delta) => {
        const i = at % number.length;
        const changed = `${number.slice(0, i)}${(Number(number[i]) + delta) % 10}${number.slice(i + 1)}`;
        assert.equal(luhnValid(changed), false);
        refusedCard(changed);
      }),
    );
  });

  // Mostly digits, spaces and dashes (so lengths around 12 to 19 come up), sometimes anything.
  const typed = fc.oneof(
    fc.string({ unit: fc.constantFrom('0', '1', '4', '9', ' ', '-'), maxLength: 30 }),
    fc.string({ unit: fc.constantFrom('4', '2', ' ', '.', 'a', '٤'), maxLength: 30 }),
    fc.string({ maxLength: 40 }),
  );

  it('property: normalization accepts exactly 12 to 19 digits among spaces and dashes', () => {
    fc.assert(
      fc.property(typed, (input) => {
        const digits = input.replace(/[ -]/g, '');
        const expected = /^[\d -]*$/.test(input) && digits.length >= 12 && digits.length <= 19 ? digits : null;
        assert.equal(normalizeCardNumber(input), expected);
      }),
    );
  });
});
