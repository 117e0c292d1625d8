// What the server's per-deduction log line costs its main thread: bytes allocated a line (a
// sampling heap profile, objects collected by either GC included) and µs a line, through the
// server's destination (`turn`: lines joined per turn of the event loop, then sonic-boom) or
// through sonic-boom alone (`sonic`: each line appended to its pending chunk, as before
// `TurnBatchedDestination`). Lines go to /dev/null, `--per-turn` of them a turn (a 500-item batch
// request logs 500 in one turn; the single route a few). Not a headline figure.
//   node bench/log-cost.ts [--destination turn|sonic] [--per-turn 500] [--lines 200000]
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createLogger } from '../src/log/logger.ts';
import { TurnBatchedDestination } from '../src/log/turn-batched-destination.ts';

const { values } = parseArgs({
  options: {
    destination: { type: 'string', default: 'turn' },
    'per-turn': { type: 'string', default: '500' },
    lines: { type: 'string', default: '200000' },
  },
});
const perTurn = Number(values['per-turn']);
const lines = Number(values.lines);
if (values.destination !== 'turn' && values.destination !== 'sonic') throw new Error('--destination: turn or sonic');

// `sonic` is the server's destination as it was: asynchronous, 4 KiB chunks.
const sonic = pino.destination({
  dest: '/dev/null',
  sync: false,
  ...(values.destination === 'sonic' ? { maxWrite: 4096 } : {}),
});
const logger = createLogger({
  level: 'info',
  destination: values.destination === 'turn' ? new TurnBatchedDestination(sonic) : sonic,
});

/** The line `deduct` logs for a charge (ops/deduct.ts), with its `→`. */
function deductionLine(i: number): void {
  const account = `acct-${i % 200}`;
  const feature = 'outbound_call_single';
  logger.info(
    { account, feature, quantity: 1, cost: 1, entryId: 1_000_000 + i },
    `Deducted 1 tokens from user ${account} (${feature}). Balance: ${5000 - i} → ${4999 - i}`,
  );
}

async function logMany(n: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    deductionLine(i);
    if ((i + 1) % perTurn === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return performance.now() - started;
}

await logMany(Math.min(lines, 50_000)); // warm up: compiled code, steady chunk sizes
const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 1024,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
await logMany(lines);
const { profile } = await session.post('HeapProfiler.stopSampling');
interface Node {
  selfSize: number;
  children: Node[];
}
const allocated = (n: Node): number => n.children.reduce((sum, c) => sum + allocated(c), n.selfSize);
const bytes = allocated(profile.head as Node);
await session.post('HeapProfiler.disable');
// Timed apart from the profile, which slows every allocation.
const ms = await logMany(lines);
console.log(
  JSON.stringify({
    destination: values.destination,
    perTurn,
    lines,
    bytesPerLine: Math.round(bytes / lines),
    usPerLine: Math.round((1000 * ms * 100) / lines) / 100,
  }),
);
