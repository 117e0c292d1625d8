import { invalid } from '../core/errors.ts';

/** A card's network as the test provider names it (Stripe's names; `card` for any other). */
export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'card';

/** A card number the test provider accepts: digits only, checked. */
export interface TestCard {
  number: string;
  brand: CardBrand;
  last4: string;
}

/** The decline codes the test cards produce (Stripe's codes). */
export type DeclineReason = 'card_declined' | 'insufficient_funds' | 'authentication_required';

/** What charging a card comes to: paid, or declined with the provider's code. */
export type CardOutcome = { paid: true } | { paid: false; reason: DeclineReason };

const PAID: CardOutcome = { paid: true };
const declined = (reason: DeclineReason): CardOutcome => ({ paid: false, reason });

/** A documented test card: how it behaves with the buyer present (checkout) and without (automatic top-up). */
export interface TestCardSpec {
  number: string;
  onSession: CardOutcome;
  offSession: CardOutcome;
  /** One line for the checkout page. */
  description: string;
}

/**
 * The documented test cards (Stripe's numbers and codes). Any other valid number behaves like
 * the first. Off session only a saved card's brand and last four digits are known (tokenmeter
 * never stores the number), so off-session behaviour is decided by the last four digits.
 */
export const TEST_CARDS: readonly TestCardSpec[] = [
  {
    number: '4242424242424242',
    onSession: PAID,
    offSession: PAID,
    description: 'Succeeds at checkout and off session.',
  },
  {
    number: '4000000000000341',
    onSession: PAID,
    offSession: declined('card_declined'),
    description:
      'Succeeds at checkout; later off-session charges are declined (card_declined), as for a card blocked after it was saved.',
  },
  {
    number: '4000000000009995',
    onSession: declined('insufficient_funds'),
    offSession: declined('insufficient_funds'),
    description: 'Declined (insufficient_funds), at checkout and off session.',
  },
  {
    number: '4000002760003184',
    onSession: PAID,
    offSession: declined('authentication_required'),
    description:
      'Needs authentication: succeeds at checkout (the buyer authenticates); off-session charges fail (authentication_required).',
  },
];

/** The card the checkout page offers, as a person would type it. */
export const DEFAULT_TEST_CARD = '4242 4242 4242 4242';

// Longer input is refused before it is scanned: 19 digits with a separator between each fit.
const MAX_INPUT = 64;

/** Digits only, or null when `input` has anything but digits, spaces and dashes, or not 12 to 19 digits. */
export function normalizeCardNumber(input: string): string | null {
  if (input.length > MAX_INPUT || !/^[\d -]*$/.test(input)) return null;
  const digits = input.replace(/[ -]/g, '');
  return digits.length >= 12 && digits.length <= 19 ? digits : null;
}

/** The Luhn (mod 10) check every card number carries in its last digit. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** The network from the number's leading digits (issuer identification number ranges). */
export function cardBrand(digits: string): CardBrand {
  if (digits.startsWith('4')) return 'visa';
  const two = Number(digits.slice(0, 2));
  const four = Number(digits.slice(0, 4));
  if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return 'mastercard';
  if (two === 34 || two === 37) return 'amex';
  return 'card';
}

/**
 * Reads a card number as a buyer typed it (spaces and dashes allowed).
 * @throws TokenmeterError `invalid_request` naming `card` when it is not 12 to 19 digits with a valid check digit.
 * @example readTestCard('4242 4242 4242 4242') // { number: '4242424242424242', brand: 'visa', last4: '4242' }
 */
export function readTestCard(input: string): TestCard {
  const number = normalizeCardNumber(input);
  if (number === null || !luhnValid(number)) {
    throw invalid('card', 'not a card number (12 to 19 digits, spaces and dashes allowed, with a valid check digit)');
  }
  return { number, brand: cardBrand(number), last4: number.slice(-4) };
}

/** How a checkout paid with `card` ends (the buyer is present, so authentication succeeds). */
export function onSessionOutcome(card: TestCard): CardOutcome {
  return TEST_CARDS.find((c) => c.number === card.number)?.onSession ?? PAID;
}

/** How an off-session charge to a saved card ends, from the last four digits that are all tokenmeter keeps of it. */
export function offSessionOutcome(last4: string): CardOutcome {
  return TEST_CARDS.find((c) => last4.length === 4 && c.number.endsWith(last4))?.offSession ?? PAID;
}
