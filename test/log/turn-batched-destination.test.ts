// The server's log destination: the lines of one turn of the event loop go to sonic-boom as one
// write, every line arrives once and in order, and a process that exits in the middle of a turn
// still writes the lines it logged in it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { pino } from 'pino';
import { TurnBatchedDestination } from '../../src/log/turn-batched-destination.ts';

const dir = mkdtempSync(join(tmpdir(), 'tm-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** A real asynchronous sonic-boom on a file, with the writes it was handed recorded. */
function fileSink(): { sink: ReturnType<typeof pino.destination>; path: string; handed: string[] } {
  const path = join(dir, `log-${files++}.txt`);
  // It opens the file asynchronously; what it is handed meanwhile waits in its buffer.
  const sink = pino.destination({ dest: path, sync: false });
  const handed: string[] = [];
  const write = sink.write.bind(sink);
  sink.write = (data: string) => {
    handed.push(data);
    return write(data);
  };
  return { sink, path, handed };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
/** Ends the file's sonic-boom and waits until everything handed to it is on disk. */
const closed = (sink: ReturnType<typeof pino.destination>) =>
  new Promise<void>((resolve) => {
    sink.once('close', () => resolve());
    sink.end();
  });

describe('TurnBatchedDestination', () => {
  it('hands each turn’s lines to sonic-boom as one write, and the file holds every line once, in order (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.string({ unit: 'grapheme', maxLength: 60 }), { maxLength: 20 }), {
          minLength: 1,
          maxLength: 8,
        }),
        async (turns) => {
          const { sink, path, handed } = fileSink();
          const destination = new TurnBatchedDestination(sink);
          const lines = turns.map((turn, t) => turn.map((text, i) => `${JSON.stringify({ t, i, text })}\n`));
          for (const turn of lines) {
            for (const line of turn) destination.write(line);
            await nextTurn();
          }
          await closed(sink);
          assert.deepEqual(
            handed,
            lines.filter((turn) => turn.length > 0).map((turn) => turn.join('')),
            'one write a turn that logged anything',
          );
          assert.equal(readFileSync(path, 'utf8'), lines.flat().join(''));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('writes a turn’s lines when asked to flush before the turn ends', async () => {
    const { sink, path, handed } = fileSink();
    const destination = new TurnBatchedDestination(sink);
    destination.write('one\n');
    destination.write('two\n');
    assert.deepEqual(handed, [], 'nothing is handed over before the turn ends');
    destination.flush();
    assert.deepEqual(handed, ['one\ntwo\n'], 'flush hands the turn’s lines over at once');
    await nextTurn();
    assert.deepEqual(handed, ['one\ntwo\n'], 'and the end of the turn finds nothing more');
    await closed(sink);
    assert.equal(readFileSync(path, 'utf8'), 'one\ntwo\n');
  });

  it('writes the lines of the turn in which the process exits (the server’s logger, in a child process)', () => {
    const logger = join(import.meta.dirname, '../../src/log/logger.ts');
    const script = `
      import { createLogger } from ${JSON.stringify(logger)};
      const log = createLogger({ background: true, level: 'info' });
      for (let i = 0; i < 50; i++) log.info({ i }, 'line ' + i);
      log.error('the last words');
      process.exit(3);
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, NODE_ENV: 'production' },
    });
    assert.equal(run.status, 3, run.stderr);
    const lines = run.stderr
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; i?: number });
    assert.deepEqual(
      lines.map((l) => l.msg),
      [...Array.from({ length: 50 }, (_, i) => `line ${i}`), 'the last words'],
    );
  });
});
