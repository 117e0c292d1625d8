import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { crossing } from '../../src/core/write-events.ts';

/** Runs a walk of available figures through `crossings`, step by step. */
function eventsOfWalk(walk: number[], threshold: number): { step: number; type: string }[] {
  const out: { step: number; type: string }[] = [];
  for (let i = 1; i < walk.length; i++) {
    const type = crossing(walk[i - 1] as number, walk[i] as number, threshold);
    if (type !== null) out.push({ step: i, type });
  }
  return out;
}

const walks = fc.tuple(fc.array(fc.integer({ min: -50, max: 200 }), { minLength: 2, maxLength: 60 }), fc.nat(120));

describe('balance crossings', () => {
  it('depleted and recovered alternate, one per crossing of zero, each told by the step that crossed', () => {
    fc.assert(
      fc.property(walks, ([walk, threshold]) => {
        const events = eventsOfWalk(walk, threshold).filter((e) => e.type !== 'balance.low');
        let enabled = (walk[0] as number) > 0;
        let k = 0;
        for (let i = 1; i < walk.length; i++) {
          const now = (walk[i] as number) > 0;
          if (now !== enabled) {
            assert.deepEqual(events[k], { step: i, type: now ? 'balance.recovered' : 'balance.depleted' });
            k += 1;
            enabled = now;
          }
        }
        assert.equal(k, events.length);
      }),
    );
  });

  it('balance.low fires once per fall below the threshold and re-arms only at or above it', () => {
    fc.assert(
      fc.property(walks, ([walk, threshold]) => {
        const lows = eventsOfWalk(walk, threshold).filter((e) => e.type === 'balance.low');
        for (const low of lows) {
          const after = walk[low.step] as number;
          assert.ok(after > 0 && after < threshold && (walk[low.step - 1] as number) >= threshold);
        }
        // Between two lows the balance was back at or above the threshold.
        for (let j = 1; j < lows.length; j++) {
          const between = walk.slice((lows[j - 1]?.step ?? 0) + 1, lows[j]?.step);
          assert.ok(between.some((a) => a >= threshold) || (walk[(lows[j]?.step ?? 1) - 1] as number) >= threshold);
        }
        // A model with a stored armed flag tells the same lows.
        let armed = (walk[0] as number) >= threshold;
        const modelled: number[] = [];
        for (let i = 1; i < walk.length; i++) {
          const a = walk[i] as number;
          if (armed && a < threshold && a > 0) modelled.push(i);
          armed = a >= threshold;
        }
        assert.deepEqual(
          lows.map((l) => l.step),
          modelled,
        );
      }),
    );
  });

  it('a threshold of 0 never tells balance.low', () => {
    fc.assert(
      fc.property(walks, ([walk]) => {
        assert.equal(eventsOfWalk(walk, 0).filter((e) => e.type === 'balance.low').length, 0);
      }),
    );
  });
});
