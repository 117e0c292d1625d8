// The batch keeps keyed deductions in a TwoKeyMap (account, then key). It must answer exactly as
// one map keyed by the pair would, whatever the strings, including pairs whose joined text is
// the same ('a\0' + 'b' against 'a' + '\0b'): a joined key would mix those up.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TwoKeyMap } from '../../src/ledger/batch/two-key-map.ts';

const text = fc.constantFrom('', 'a', 'b', 'a\u0000', '\u0000b', 'acct-1', 'k-1');
const op = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), a: text, b: text, value: fc.integer() }),
  fc.record({ kind: fc.constant('read' as const), a: text, b: text }),
);

describe('TwoKeyMap', () => {
  it('answers every get as a map keyed by the pair does (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const map = new TwoKeyMap<number>();
        const model = new Map<string, number>();
        for (const o of ops) {
          const pair = JSON.stringify([o.a, o.b]);
          if (o.kind === 'set') {
            map.set(o.a, o.b, o.value);
            model.set(pair, o.value);
          } else {
            assert.equal(map.get(o.a, o.b), model.get(pair));
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps a pair whose joined text another pair shares apart from it', () => {
    const map = new TwoKeyMap<string>();
    map.set('a\u0000', 'b', 'first');
    map.set('a', '\u0000b', 'second');
    assert.equal(map.get('a\u0000', 'b'), 'first');
    assert.equal(map.get('a', '\u0000b'), 'second');
    assert.equal(map.get('a', 'b'), undefined);
  });
});
