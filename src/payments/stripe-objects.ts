/** Defensive readers for Stripe objects: a field may be absent, null, an id or an expanded object. */
export type StripeObject = Record<string, unknown>;

export function isObject(v: unknown): v is StripeObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function field(o: StripeObject, key: string): StripeObject {
  const v = o[key];
  return isObject(v) ? v : {};
}

export function text(o: StripeObject, key: string): string | null {
  const v = o[key];
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/** An id field that Stripe may send as the id or as the expanded object. */
export function idOf(o: StripeObject, key: string): string | null {
  const v = o[key];
  if (typeof v === 'string' && v.length > 0) return v;
  return isObject(v) ? text(v, 'id') : null;
}

export function integer(o: StripeObject, key: string): number | null {
  const v = o[key];
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
}

export function first(o: StripeObject, listKey: string): StripeObject {
  const data = field(o, listKey).data;
  return Array.isArray(data) && isObject(data[0]) ? data[0] : {};
}

/**
 * The reason a card was declined, from a Stripe error or a PaymentIntent's `last_payment_error`:
 * the issuer's decline code, else the error code. Stripe's `generic_decline` (a decline the issuer
 * gave no reason for) is reported as `card_declined`, the name the test provider gives the same
 * card, so an account's `last_error` reads the same whichever provider charged it.
 */
export function declineReason(declineCode: string | null | undefined, code: string | null | undefined): string {
  const reason = declineCode || code || 'card_declined';
  return reason === 'generic_decline' ? 'card_declined' : reason;
}
