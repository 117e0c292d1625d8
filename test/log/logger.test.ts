// The server's logger never writes a secret: every field that can carry one, at every place our
// log calls can put it, comes out as "[redacted]" (the paths are named one by one; see logger.ts).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createLogger } from '../../src/log/logger.ts';

function capture(): { lines: string[]; destination: Writable } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, destination };
}

/** `{a: {b: value}}` for the path `a.b`. */
function nested(path: string, value: unknown): Record<string, unknown> {
  return path.split('.').reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

const get = (object: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((o, key) => (o as Record<string, unknown> | undefined)?.[key], object);

/** Every place a secret can reach a log call of ours: API keys, webhook secrets, tokens, headers. */
const SECRET_PLACES = [
  'key',
  'apiKey',
  'secret',
  'token',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'err.headers.authorization',
  'options.headers.authorization',
];

describe('the server’s logger', () => {
  it('writes "[redacted]" in place of every secret-carrying field, and never the secret (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SECRET_PLACES),
        fc.string({ minLength: 8, maxLength: 40 }).map((s) => `secret-${s}`),
        async (path, secret) => {
          const { lines, destination } = capture();
          const logger = createLogger({ level: 'info', destination });
          logger.info({ ...nested(path, secret), account: 'acct-1' }, 'a line');
          await new Promise((r) => setImmediate(r));
          assert.equal(lines.length, 1);
          const line = lines[0] as string;
          assert.ok(!line.includes(JSON.stringify(secret).slice(1, -1)), `${path} leaked: ${line}`);
          const parsed = JSON.parse(line) as Record<string, unknown>;
          assert.equal(get(parsed, path), '[redacted]');
          assert.equal(parsed.account, 'acct-1', 'the rest of the line is kept');
        },
      ),
      { numRuns: 60 },
    );
  });

  it('keeps the per-deduction line whole (nothing in it is a secret)', async () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'info', destination });
    logger.info(
      { account: '7', feature: 'outbound_call_single', quantity: 1, cost: 1, entryId: 42 },
      'Deducted 1 tokens from user 7 (outbound_call_single). Balance: 100 → 99',
    );
    await new Promise((r) => setImmediate(r));
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    assert.deepEqual(
      [line.account, line.feature, line.quantity, line.cost, line.entryId, line.msg],
      [
        '7',
        'outbound_call_single',
        1,
        1,
        42,
        'Deducted 1 tokens from user 7 (outbound_call_single). Balance: 100 → 99',
      ],
    );
  });
});
