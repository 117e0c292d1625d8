// The SQLite writer on its worker thread against the in-thread writer, over HTTP, in one run:
// `POST /api/tokens/deduct` with a stored app key, N connections spread over M accounts, the
// server as `npm start` runs it (the built CLI, LOG_LEVEL=warn), and a bare Fastify route as
// the ceiling. Each run prints the server's CPU a request by thread (the kernel's share apart)
// and its group-commit batch sizes; `--cpu-prof` writes one profile per thread. Build first
// (`npm run build`).
//
//   node bench/sqlite-worker-http.ts [--modes on,off,bare] [--rounds 2] [--seconds 10]
//     [--connections 100] [--accounts 200] [--cpu-prof <dir>]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { KeyService } from '../src/auth/key-service.ts';
import { defaultConfig } from '../src/config/default-config.ts';
import { parseConfig } from '../src/config/index.ts';
import { TokenLedger } from '../src/ledger/token-ledger.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { scrapeBatches, serviceArgs } from './http.ts';

const { values } = parseArgs({
  options: {
    modes: { type: 'string', default: 'on,off,bare' },
    rounds: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '100' },
    accounts: { type: 'string', default: '200' },
    'cpu-prof': { type: 'string' },
  },
});
const ROOT = join(import.meta.dirname, '..');
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const accounts = Array.from({ length: Number(values.accounts) }, (_, i) => `acct-${i}`);
const dir = mkdtempSync(join(tmpdir(), 'tm-worker-http-'));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function prepare(path: string): Promise<string> {
  const catalog = parseConfig(defaultConfig(), 'built-in default');
  const store = new SqliteStore({ path });
  await store.migrate();
  const ledger = new TokenLedger({ store, catalog, groupCommit: false });
  try {
    const outcomes = await ledger.importAccounts(
      accounts.map((account) => ({ account, plan: catalog.defaultPlan, balance: 1_000_000_000 })),
    );
    if (outcomes.some((o) => o.status !== 'imported')) throw new Error('seeding failed');
    return (await new KeyService({ store: ledger.store.service }).create('bench', 'app', Date.now())).key;
  } finally {
    await ledger.close();
  }
}

async function up(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server not up');
}

/** CPU seconds (user + system) a process, or one of its threads, has used so far (Linux /proc). */
function cpuSeconds(pid: number | undefined, thread?: number, part: 'all' | 'system' = 'all'): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime in clock ticks (USER_HZ 100)
    return ((part === 'all' ? Number(fields[11]) : 0) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds used so far by each of a process's threads, summed by thread name (Linux /proc). */
function cpuByThread(pid: number | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (pid === undefined) return out;
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const task of tasks) {
    let name = '?';
    try {
      name = readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    const label = Number(task) === pid ? 'main' : name;
    out.set(label, (out.get(label) ?? 0) + cpuSeconds(pid, Number(task)));
    // The kernel's share (system calls: socket writes, the WAL's writes and flushes).
    out.set(`${label} (kernel)`, (out.get(`${label} (kernel)`) ?? 0) + cpuSeconds(pid, Number(task), 'system'));
  }
  return out;
}

async function run(mode: string, round: number): Promise<string> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const db = join(dir, `${mode}-${round}.db`);
  const key = mode === 'bare' ? 'bare' : await prepare(db);
  const prof = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [];
  const args = mode === 'bare' ? [join(ROOT, 'bench', 'bare-fastify.ts'), String(port)] : serviceArgs(port, prof);
  const server = spawn(process.execPath, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      DATABASE_URL: `sqlite:${db}`,
      TOKENMETER_SQLITE_WORKER: mode === 'bare' ? 'on' : mode,
    },
  });
  try {
    await up(url, server);
    let n = 0;
    const request: autocannon.Request = {
      method: 'POST',
      path: '/api/tokens/deduct',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      setupRequest(r) {
        r.body = JSON.stringify({ account: accounts[n++ % accounts.length], feature: 'outbound_call_single' });
        return r;
      },
    };
    await autocannon({ url, connections, duration: 2, requests: [request] });
    const before = { all: cpuSeconds(server.pid), main: cpuSeconds(server.pid, server.pid) };
    const threadsBefore = cpuByThread(server.pid);
    const result = await autocannon({ url, connections, duration: seconds, requests: [request] });
    const all = cpuSeconds(server.pid) - before.all;
    const main = cpuSeconds(server.pid, server.pid) - before.main;
    const threads = [...cpuByThread(server.pid)]
      .map(([name, s]) => [name, s - (threadsBefore.get(name) ?? 0)] as const)
      .filter(([, s]) => s > 0)
      .sort((a, b) => b[1] - a[1]);
    const bad = result.non2xx + result.errors + result.timeouts;
    const batches = mode === 'bare' ? null : await scrapeBatches(url);
    // CPU per request: what bounds the throughput once the load does not share the cores.
    const perRequest = (s: number) => `${Math.round((s * 1e6) / result.requests.total)} µs`;
    return (
      `${mode.padEnd(4)} round ${round}: ${Math.round(result.requests.average).toLocaleString('en-US')} req/s, ` +
      `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, server CPU ${perRequest(all)}/req ` +
      `(main thread ${perRequest(main)}; by thread: ${threads.map(([n, s]) => `${n} ${perRequest(s)}`).join(', ')})` +
      `${batches ? `, batches ${batches.average} on average (largest ${batches.largest})` : ''}${bad ? `, ${bad} failed` : ''}`
    );
  } finally {
    await new Promise<void>((resolve) => {
      server.once('exit', () => resolve());
      server.kill('SIGTERM');
    });
  }
}

try {
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const mode of (values.modes ?? '').split(',')) console.log(await run(mode, round));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
