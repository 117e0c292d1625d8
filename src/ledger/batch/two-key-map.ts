/**
 * A map keyed by two strings, stored as a map of maps: a lookup hashes the two strings it is
 * given (a string caches its hash) instead of building and hashing a joined key each time. The
 * batch looks each keyed deduction up twice and records it once; with joined keys that was a
 * new string to hash on every call.
 */
export class TwoKeyMap<V> {
  private readonly outer = new Map<string, Map<string, V>>();

  get(a: string, b: string): V | undefined {
    return this.outer.get(a)?.get(b);
  }

  set(a: string, b: string, value: V): void {
    let inner = this.outer.get(a);
    if (!inner) {
      // Not `new Map([[b, value]])`: the constructor walks its argument as an iterable.
      inner = new Map();
      this.outer.set(a, inner);
    }
    inner.set(b, value);
  }
}
