// Webhooks in the benchmark: how long from a commit that records events to their delivery at a
// real receiver, and how many deliveries a second one server process sends. The engine runs
// in-process on a SQLite FULL file with the dispatcher woken by each commit, as the server runs
// them; accounts are spent to zero in waves, each giving `balance.low` and `balance.depleted`.
//   node bench/webhook-delay.ts <dir>   prints a WebhookDelayResult as the last line of stdout
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { defaultConfig } from '../src/config/default-config.ts';
import { parseConfig } from '../src/config/index.ts';
import { systemClock } from '../src/core/clock.ts';
import { WebhookDispatcher } from '../src/events/dispatcher.ts';
import { Webhooks } from '../src/events/webhooks.ts';
import { TokenLedger } from '../src/ledger/token-ledger.ts';
import { createLogger } from '../src/log/logger.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { Latencies } from './stats.ts';
import type { WebhookDelayResult } from './types.ts';

const ACCOUNTS = 400;
const WAVE = 50;
const IDLE_EVENTS = 20;

async function main(dir: string): Promise<WebhookDelayResult> {
  const received = new Map<string, number>();
  let waitFor: { count: number; resolve: () => void } | null = null;
  const delays = new Latencies();
  let all: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    all = resolve;
  });
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string; timestamp: string };
      if (!received.has(event.id)) {
        received.set(event.id, at);
        delays.add(at - Date.parse(event.timestamp));
      }
      res.statusCode = 204;
      res.end();
      if (received.size === ACCOUNTS * 2) all();
      if (waitFor && received.size >= waitFor.count) waitFor.resolve();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const port = (receiver.address() as AddressInfo).port;
  const store = new SqliteStore({ path: join(dir, 'webhooks.db'), synchronous: 'FULL' });
  await store.migrate();
  const catalog = parseConfig(defaultConfig(), 'built-in default');
  const ledger = new TokenLedger({ store, catalog, clock: systemClock });
  const logger = createLogger({ level: 'silent' });
  const dispatcher = new WebhookDispatcher({
    outbox: store.service,
    clock: systemClock,
    logger,
    retryBaseMs: 1000,
    maxAgeMs: 3_600_000,
    allowPrivate: true,
  });
  ledger.onEventsCommitted(() => dispatcher.wake());
  dispatcher.start();
  await new Webhooks({ outbox: store.service, clock: systemClock, allowPrivate: true }).add({
    url: `http://127.0.0.1:${port}/`,
  });
  const started = performance.now();
  // Free accounts hold 100 tokens (threshold 10): 91 takes one below it, 9 more to zero.
  for (let first = 0; first < ACCOUNTS; first += WAVE) {
    const wave = Array.from({ length: WAVE }, (_, i) => `wh-${first + i}`);
    await Promise.all(wave.map((account) => ledger.deduct({ account, feature: 'social_post', quantity: 91 })));
    await Promise.all(wave.map((account) => ledger.deduct({ account, feature: 'social_post', quantity: 9 })));
  }
  const timeout = setTimeout(all, 60_000);
  await done;
  clearTimeout(timeout);
  const seconds = (performance.now() - started) / 1000;
  // Then one at a time, the dispatcher idle before each: what a single event waits.
  const idle = new Latencies();
  for (let i = 0; i < IDLE_EVENTS; i++) {
    const account = `wh-idle-${i}`;
    const arrived = new Promise<void>((resolve) => {
      waitFor = { count: received.size + 1, resolve };
    });
    const committed = performance.now();
    await ledger.deduct({ account, feature: 'social_post', quantity: 100 });
    await arrived;
    idle.add(performance.now() - committed);
  }
  await dispatcher.stop();
  await ledger.close();
  receiver.close();
  const expected = ACCOUNTS * 2 + IDLE_EVENTS;
  const problems = received.size === expected ? [] : [`${received.size} of ${expected} events delivered`];
  return {
    ok: problems.length === 0,
    problems,
    events: received.size,
    seconds,
    deliveriesPerSecond: (ACCOUNTS * 2) / seconds,
    delay: delays.summary(),
    idleDelay: idle.summary(),
  };
}

console.log(JSON.stringify(await main(process.argv[2] ?? '.')));
