import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { newIdempotencyKey } from '../../src/sdk/idempotency-key.ts';
import { UUID_V7 } from './sdk-helpers.ts';

/** Any millisecond a UUID version 7 can hold (48 bits). */
const time = fc.integer({ min: 0, max: 2 ** 48 - 1 });

describe("the SDK's idempotency keys", () => {
  it('are UUIDs of version 7 holding the time they were made', () => {
    fc.assert(
      fc.property(time, (now) => {
        const key = newIdempotencyKey(now);
        assert.match(key, UUID_V7);
        assert.equal(Number.parseInt(key.replaceAll('-', '').slice(0, 12), 16), now);
      }),
    );
  });

  it('sort in the order of the times they were made, so the service appends them to its key index', () => {
    fc.assert(
      fc.property(time, time, (a, b) => {
        fc.pre(a !== b);
        const [early, late] = a < b ? [a, b] : [b, a];
        assert.ok(newIdempotencyKey(early) < newIdempotencyKey(late));
      }),
    );
  });

  it('made in one millisecond, are all different', () => {
    const keys = new Set(Array.from({ length: 20_000 }, () => newIdempotencyKey(1_795_000_000_000)));
    assert.equal(keys.size, 20_000);
  });
});
