import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { spendingIn } from '../../src/core/recovery.ts';
import { scanLogs } from '../../src/migrate/scan-logs.ts';

// Written from README's rule: recover counts the readable deductions inside the window
// [since, until), and the lines without a timestamp (every occurrence in a file), and reports
// every line it cannot read; a line whose timestamp is there but cannot be read is one of those,
// never a line without a timestamp (that one would count whatever the window, after the import
// too, where tokenmeter already charged it).

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-recover-window-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let files = 0;

const T0 = Date.parse('2025-11-05T10:00:00Z');
const DAY = 86_400_000;

type Entry =
  | { kind: 'timed'; account: string; tokens: number; at: number; form: 'iso' | 'json-ms' | 'json-iso'; offset: number }
  | { kind: 'untimed'; account: string; tokens: number; times: number; json: boolean }
  | { kind: 'bad-time'; text: string }
  | { kind: 'unreadable' | 'other'; text: string };

const account = fc.constantFrom('7', '8');
const tokens = fc.integer({ min: 1, max: 9 });

const entryArb: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({
    kind: fc.constant('timed' as const),
    account,
    tokens,
    at: fc.integer({ min: T0 - 10 * DAY, max: T0 + 10 * DAY }),
    form: fc.constantFrom('iso' as const, 'json-ms' as const, 'json-iso' as const),
    offset: fc.constantFrom(0, 60, -300, 330),
  }),
  fc.record({
    kind: fc.constant('untimed' as const),
    account,
    tokens,
    times: fc.integer({ min: 1, max: 3 }),
    json: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('bad-time' as const),
    text: fc.constantFrom(
      '2025-02-30T10:00:00+01:00 {msg}',
      '2025-11-05T24:00:00Z {msg}',
      '[2025-13-01 10:00:00-0500] {msg}',
      '2025-11-05T10:00:00+25:00 {msg}',
      '{"time":"Thu, 06 Nov 2025 10:00:00 GMT","msg":"{msg}"}',
      '{"timestamp":"2025-02-29T10:00:00+02:00","msg":"{msg}"}',
      '{"@timestamp":null,"message":"{msg}"}',
      '{"time":true,"msg":"{msg}"}',
    ),
  }),
  fc.record({
    kind: fc.constant('unreadable' as const),
    text: fc.constantFrom(
      '[TOKENS] Deducted 1 tokens from user 7 (outbound_call_sin',
      '[TOKENS] Deducted x tokens from user 8',
    ),
  }),
  fc.record({
    kind: fc.constant('other' as const),
    text: fc.constantFrom('⚠️ User 7 had NULL token balance, set to 100', '{"level":30,"msg":"listening"}', ''),
  }),
);

const windowArb = fc.record({
  since: fc.option(fc.integer({ min: T0 - 12 * DAY, max: T0 + 12 * DAY }), { nil: null }),
  until: fc.option(fc.integer({ min: T0 - 12 * DAY, max: T0 + 12 * DAY }), { nil: null }),
});

/** `at` as ISO-8601 in a zone `offset` minutes east of UTC. */
function isoAt(at: number, offset: number): string {
  const local = new Date(at + offset * 60_000).toISOString().slice(0, -1);
  if (offset === 0) return `${local}Z`;
  const sign = offset > 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** The log lines of the entries, each with its entry's kind; the i-th entry's balance makes each deduction line its own. */
function linesOf(entries: readonly Entry[]): { text: string; kind: Entry['kind'] }[] {
  return entries.flatMap((e, i) => {
    const msg = (acct: string, n: number) =>
      `[TOKENS] Deducted ${n} tokens from user ${acct} (outbound_call_single). Balance: ${1000 + i} → ${1000 + i - n}`;
    const line = (text: string) => ({ text, kind: e.kind });
    if (e.kind === 'timed') {
      const m = msg(e.account, e.tokens);
      if (e.form === 'iso') return [line(`${isoAt(e.at, e.offset)} [INFO] ${m}`)];
      if (e.form === 'json-ms') return [line(JSON.stringify({ level: 30, time: e.at, msg: m }))];
      return [line(JSON.stringify({ level: 'info', timestamp: isoAt(e.at, e.offset), message: m }))];
    }
    if (e.kind === 'untimed') {
      const m = msg(e.account, e.tokens);
      return Array.from({ length: e.times }, () =>
        line(e.json ? JSON.stringify({ level: 30, msg: m }) : `[INFO] ${m}`),
      );
    }
    if (e.kind === 'bad-time') return [line(e.text.replace('{msg}', msg('7', 1)))];
    return [line(e.text)];
  });
}

describe('recover: the window over any log', () => {
  it('counts exactly the readable deductions inside the window and the untimed ones, and reports every other line', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entryArb, { maxLength: 30 }), windowArb, async (entries, window) => {
        const lines = linesOf(entries);
        files += 1;
        const file = path.join(dir, `app-${files}.log`);
        fs.writeFileSync(file, lines.map((l) => `${l.text}\n`).join(''));
        const scan = await scanLogs([file], null);

        const inWindow = (at: number) =>
          (window.since === null || at >= window.since) && (window.until === null || at < window.until);
        for (const acct of ['7', '8']) {
          const timed = entries.filter((e) => e.kind === 'timed' && e.account === acct && inWindow(e.at));
          const untimed = entries.filter((e) => e.kind === 'untimed' && e.account === acct);
          const spending = spendingIn(scan.evidence.linesOf(acct), window);
          const sum = (es: Entry[]) =>
            es.reduce((s, e) => s + ('tokens' in e ? e.tokens * ('times' in e ? e.times : 1) : 0), 0);
          assert.equal(spending.spent, sum(timed) + sum(untimed), `account ${acct} spent`);
          assert.equal(
            spending.untimed,
            untimed.reduce((s, e) => s + ('times' in e ? e.times : 0), 0),
          );
        }
        const bad = lines.flatMap((l, i) => (l.kind === 'bad-time' || l.kind === 'unreadable' ? [i + 1] : []));
        assert.equal(scan.unreadableLines, bad.length);
        assert.deepEqual(
          scan.unreadable.map((u) => u.line),
          bad.slice(0, 50),
        );
        assert.equal(scan.otherLines, entries.filter((e) => e.kind === 'other').length);
        assert.equal(scan.lines, lines.length);
      }),
      { numRuns: 200 },
    );
  });
});
