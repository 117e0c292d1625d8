// HTTP: the real service (`tokenmeter serve`, embedded SQLite) on a real port in a child process,
// or a bare Fastify route as the baseline, driven by autocannon from a third process.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { KeyService } from '../src/auth/key-service.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { checkDatabase, sqliteInspector } from './db-inspect.ts';
import { openEngine, seed } from './engine-target.ts';
import type { HttpLoadReport, HttpLoadSpec } from './http-load.ts';
import { peakRssMb, perEach } from './stats.ts';
import type { HttpResult } from './types.ts';
import { type WorkloadName, WorkloadStream } from './workloads.ts';

const ROOT = join(import.meta.dirname, '..');

/**
 * The node flags `npm start` gives the server (see README, production notes), read from
 * package.json's start script so the service is measured as it is run.
 */
const SERVER_NODE_FLAGS: readonly string[] = (() => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.split(/\s+/);
  const main = words.indexOf('dist/cli/main.js');
  if (words[0] !== 'node' || main < 0)
    throw new Error(`bench: npm start no longer runs node dist/cli/main.js: ${pkg.scripts.start}`);
  return words.slice(1, main).filter((w) => w.startsWith('--'));
})();

/** The service's command line as `npm start` runs it (the built CLI), on loopback at `port`; `nodeFlags` after its own. */
export function serviceArgs(port: number, nodeFlags: readonly string[] = []): string[] {
  const main = join(ROOT, 'dist', 'cli', 'main.js');
  return [...SERVER_NODE_FLAGS, ...nodeFlags, main, 'serve', '--port', String(port), '--host', '127.0.0.1'];
}

/** Builds dist/ from the current source, so the service measured is the code checked out. */
export function buildService(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('npm', ['run', 'build'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`npm run build failed: ${stderr}`)) : resolve(),
    );
  });
}

export interface HttpScenario {
  name: string;
  target: 'bare' | 'service';
  workload: WorkloadName;
  /** The service's TOKENMETER_GROUP_COMMIT; null for the bare route. */
  groupCommit: boolean | null;
  connections: number;
  /** Ops per request through `POST /api/tokens/deduct/batch`; null: the single route, one op per request. */
  batchSize: number | null;
  /** Warm-up: requests for the service, seconds for the bare route. */
  warmup: number;
  durationSec: number;
  seed: number;
}

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

async function waitUntilUp(url: string, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${tail(log)}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not up after 60 s: ${tail(log)}`);
}

/** Batch sizes from the service's /metrics (whole server lifetime: warm-up and measured part). */
export async function scrapeBatches(url: string): Promise<{ average: number; largest: number } | null> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    const batches = value('tokenmeter_group_commit_batches');
    const operations = value('tokenmeter_group_commit_operations');
    const largest = value('tokenmeter_group_commit_largest_batch');
    if (!(batches > 0)) return null;
    return { average: Math.round((operations / batches) * 10) / 10, largest };
  } catch {
    return null;
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-1500);
  } catch {
    return '(no log)';
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function load(spec: HttpLoadSpec): Promise<HttpLoadReport> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bench', 'http-load.ts'), JSON.stringify(spec)],
      { maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`load generator failed: ${err.message}\n${stderr.slice(-1500)}`));
        else resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as HttpLoadReport);
      },
    );
  });
}

/** Seeds a fresh database file with the workload's accounts; returns an app key for it. */
async function prepareDatabase(path: string, workload: WorkloadName): Promise<string> {
  const store = new SqliteStore({ path });
  await store.migrate();
  const ledger = openEngine(store, false);
  try {
    await seed(ledger, new WorkloadStream(workload, 0).seed);
    return (await new KeyService({ store: ledger.store.service }).create('bench', 'app', Date.now())).key;
  } finally {
    await ledger.close();
  }
}

/** After the run: the database against the model of every request sent. */
async function checkServiceDatabase(path: string, s: HttpScenario, issued: number): Promise<string[]> {
  const stream = new WorkloadStream(s.workload, s.seed);
  for (let i = 0; i < issued; i++) stream.next();
  const model = stream.expectation;
  const ledger = openEngine(new SqliteStore({ path }), false);
  const db = sqliteInspector(path);
  try {
    const drift = (await ledger.reconcile()).drift;
    return await checkDatabase(db, { balances: model.balances(), debits: model.debits() }, drift);
  } finally {
    await db.close();
    await ledger.close();
  }
}

/** One scenario; `nodeFlags` go to the server process after its own (e.g. --cpu-prof), so they can override them. */
export async function runHttp(s: HttpScenario, dir: string, nodeFlags: readonly string[] = []): Promise<HttpResult> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dbPath = join(dir, `http-${s.name}.db`);
  const logPath = join(dir, `http-${s.name}.log`);
  const key = s.target === 'service' ? await prepareDatabase(dbPath, s.workload) : 'bench-bare-route-key-0000';
  const logFd = openSync(logPath, 'w');
  const args =
    s.target === 'service'
      ? serviceArgs(port, nodeFlags)
      : [...nodeFlags, join(ROOT, 'bench', 'bare-fastify.ts'), String(port)];
  const server = spawn(process.execPath, args, {
    cwd: dir,
    stdio: ['ignore', logFd, logFd],
    env: {
      ...process.env,
      DATABASE_URL: `sqlite:${dbPath}`,
      TOKENMETER_GROUP_COMMIT: s.groupCommit === false ? 'off' : 'on',
    },
  });
  closeSync(logFd);
  let report: HttpLoadReport;
  let serverPeak: number | null;
  let batch: { average: number; largest: number } | null = null;
  try {
    await waitUntilUp(url, server, logPath);
    report = await load({
      url,
      key,
      workload: s.workload,
      seed: s.seed,
      connections: s.connections,
      mode: s.target,
      warmup: s.warmup,
      durationSec: s.durationSec,
      batchSize: s.batchSize,
      serverPid: server.pid ?? null,
    });
    serverPeak = server.pid === undefined ? null : peakRssMb(server.pid);
    if (s.target === 'service') batch = await scrapeBatches(url);
  } finally {
    await stop(server);
  }
  const problems = [...report.problems];
  if (s.target === 'service') problems.push(...(await checkServiceDatabase(dbPath, s, report.issued)));
  const m = report.measured;
  return {
    name: s.name,
    target: s.target,
    workload: s.workload,
    groupCommit: s.groupCommit,
    connections: s.connections,
    batchSize: s.batchSize,
    ok: problems.length === 0,
    problems,
    requests: m.requests,
    seconds: m.seconds,
    perSecond: m.perSecond,
    deductionsPerSecond: m.perSecond * (s.batchSize ?? 1),
    latency: m.latency,
    serverPeakRssMb: serverPeak,
    serverBytesPerDeduction: perEach(0, m.serverBytesWritten, m.requests * (s.batchSize ?? 1)),
    cpu: m.cpu,
    batch,
    statusCounts: m.statusCounts,
  };
}
