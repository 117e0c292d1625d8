import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.ts';
import { WokenLoop } from '../../src/events/woken-loop.ts';

/** A round that waits until released, counting how many started. */
function gatedRounds() {
  let started = 0;
  let release: () => void = () => {};
  const waiters: (() => void)[] = [];
  return {
    get started() {
      return started;
    },
    round: async (): Promise<number | null> => {
      started += 1;
      for (const w of waiters.splice(0)) w();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return null;
    },
    release: () => release(),
    /** Resolves once a round has started beyond `n`. */
    startedMoreThan: (n: number) =>
      started > n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve)),
  };
}

describe('WokenLoop', () => {
  it('wake-ups during a round are never lost and never overlap it: one more round follows', async () => {
    const r = gatedRounds();
    const loop = new WokenLoop({ round: r.round, clock: new ManualClock('2026-01-01T00:00:00Z'), pollMs: 60_000 });
    loop.wake();
    await r.startedMoreThan(0);
    loop.wake();
    loop.wake();
    assert.equal(r.started, 1, 'no second round while the first runs');
    r.release();
    await r.startedMoreThan(1);
    assert.equal(r.started, 2, 'the wake-ups made exactly one more round');
    const stopped = loop.stop();
    r.release();
    await stopped;
    loop.wake();
    assert.equal(r.started, 2, 'nothing runs after stop');
  });

  it('a round that throws is followed by the next one on the next wake-up', async () => {
    let calls = 0;
    const loop = new WokenLoop({
      round: async () => {
        calls += 1;
        throw new Error('store unreachable');
      },
      clock: new ManualClock('2026-01-01T00:00:00Z'),
      pollMs: 60_000,
    });
    loop.wake();
    await loop.stop();
    assert.equal(calls, 1);
  });
});
