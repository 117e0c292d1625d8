// The real Redis the rate-limit tests use: TOKENMETER_TEST_REDIS_URL, else the development
// default. Each test run uses its own key prefix and deletes its keys afterwards. A test may
// also start a redis-server of its own on a free port, to stop and restart it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export const REDIS_TEST_URL = process.env.TOKENMETER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let probe: Promise<string | null> | undefined;

/** Why the test Redis cannot be used (null when it can). Asked once per process. */
export function redisServerProblem(): Promise<string | null> {
  probe ??= (async () => {
    const client = new Redis(REDIS_TEST_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      return null;
    } catch (err) {
      return `no Redis at ${REDIS_TEST_URL} (${err instanceof Error ? err.message : String(err)})`;
    } finally {
      client.disconnect();
    }
  })();
  return probe;
}

/**
 * The `skip` option for a suite that needs Redis: false when it answers; otherwise a reason,
 * except on CI (CI=true), where the suite runs and fails.
 */
export async function redisSuiteSkip(): Promise<string | false> {
  const problem = await redisServerProblem();
  if (!problem || process.env.CI === 'true') return false;
  console.warn(`redis tests skipped: ${problem}; set TOKENMETER_TEST_REDIS_URL to use one`);
  return problem;
}

/** A key prefix no other run uses. */
export function testPrefix(): string {
  return `tm-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN, so the server is never blocked). */
export async function dropPrefix(prefix: string, url = REDIS_TEST_URL): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

export interface OwnRedis {
  url: string;
  /** SIGKILLs the server (an outage) and waits for its exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port and waits until it answers. */
  restart(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Whether `redis-server` is installed (needed by startOwnRedis). */
export function haveRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A redis-server of this test's own on a free port, without persistence. */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await closedPort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    live.add(started);
    child = started;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      started.stdout?.setEncoding('utf8');
      started.stdout?.on('data', (chunk: string) => {
        out = (out + chunk).slice(-4096);
        if (out.includes('Ready to accept connections')) resolve();
      });
      started.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${out}`)));
      started.once('error', reject);
    });
  };
  await start();
  return {
    url,
    async kill() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = once(c, 'exit');
      c.kill('SIGKILL');
      await exited;
      live.delete(c);
    },
    restart: start,
  };
}
