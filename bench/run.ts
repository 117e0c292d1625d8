// `npm run bench` (full sweep) or `npm run bench -- --quick` (headline points): the engine
// in-process on SQLite FULL and NORMAL and on PostgreSQL against the naive per-request
// transaction, pgbench as an independent check of that baseline, and the HTTP service against a
// bare Fastify route. Every run is checked for correctness; a failed check is reported as FAILED
// and makes the benchmark exit 1. Writes bench/RESULTS.md, bench/results.json, bench/throughput.svg
// (a quick run: RESULTS-quick.md, results-quick.json, throughput-quick.svg, marked quick).
//
// `--only sqlite|pg|pgbench|http|webhooks` runs one part and prints it, writing no files; `--rewrite`
// (with --quick: the quick run's) writes the markdown and chart again from the JSON; `--profile DIR` runs every
// in-process child and the HTTP service with --cpu-prof, writing .cpuprofile files into DIR.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_GROUP_COMMIT } from '../src/ledger/batch/group-commit-options.ts';
import { buildService, runHttp } from './http.ts';
import { describeMachine, describeRevision, loadAverage } from './machine.ts';
import { type BenchDatabase, createBenchDatabase } from './pg-database.ts';
import { runPgbench } from './pgbench.ts';
import { buildPlan, HTTP_CONNECTIONS, PG_MAX_POOL } from './plan.ts';
import { type BenchResults, cpuCores, kb, reportFiles, writeReports } from './report.ts';
import type { HttpResult, InProcessResult, InProcessSpec, PgbenchResult, WebhookDelayResult } from './types.ts';
import { IMPL_LABELS, STORE_LABELS } from './types.ts';

// `--rewrite`: the markdown and chart again from the JSON (after a change to the report).
if (process.argv.includes('--rewrite')) {
  const here = import.meta.dirname;
  const json = reportFiles(process.argv.includes('--quick') ? 'quick' : 'full').json;
  writeReports(JSON.parse(readFileSync(join(here, json), 'utf8')) as BenchResults, here);
  process.exit(0);
}

const quick = process.argv.includes('--quick');
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex >= 0 ? (process.argv[onlyIndex + 1] ?? '') : '';
const wants = (part: string) => only === '' || only === part;
const profileIndex = process.argv.indexOf('--profile');
const profileDir = profileIndex >= 0 ? resolve(process.argv[profileIndex + 1] ?? 'bench/profiles') : null;
const profileFlags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
const plan = buildPlan(quick);
const dir = mkdtempSync(join(tmpdir(), 'tm-bench-'));
const loadAtStart = loadAverage();
const revision = describeRevision();
let loadMax = loadAtStart;
setInterval(() => {
  loadMax = Math.max(loadMax, loadAverage());
}, 5000).unref();

const fmt = (x: number) => Math.round(x).toLocaleString('en-US').padStart(9);
const say = (line: string) => console.log(line);

function failedRun(spec: InProcessSpec, problem: string): InProcessResult {
  return {
    spec,
    ok: false,
    problems: [problem],
    measured: 0,
    seconds: 0,
    perSecond: 0,
    latency: { p50: 0, p99: 0, p999: 0, max: 0 },
    refusedShare: 0,
    replayedShare: 0,
    batch: null,
    peakRssMb: null,
    bytesPerDeduction: null,
    exhausted: false,
    groupCommit: null,
  };
}

/** One in-process run in a child process of its own. */
function runChild(spec: InProcessSpec): Promise<InProcessResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...profileFlags, join(import.meta.dirname, 'in-process.ts'), JSON.stringify(spec)],
      { maxBuffer: 16 << 20, timeout: 10 * 60_000 },
      (err, stdout, stderr) => {
        const last = stdout.trim().split('\n').at(-1) ?? '';
        if (!err && last.startsWith('{')) resolve(JSON.parse(last) as InProcessResult);
        else {
          const why =
            stderr
              .trim()
              .split('\n')
              .find((l) => /Error/.test(l)) ??
            err?.message ??
            'no result';
          resolve(failedRun(spec, `run crashed: ${why.trim()}`));
        }
      },
    );
  });
}

function describeRun(r: InProcessResult): string {
  const s = r.spec;
  const head = `${STORE_LABELS[s.store].padEnd(13)} ${s.workload.padEnd(7)} c=${String(s.concurrency).padEnd(5)} ${IMPL_LABELS[s.impl].padEnd(24)}`;
  if (!r.ok) return `${head} FAILED: ${r.problems.join('; ')}`;
  const batch = r.batch ? `  batch avg ${r.batch.average} max ${r.batch.largest}` : '';
  return `${head}${fmt(r.perSecond)}/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  p99.9 ${r.latency.p999} ms${batch}  rss ${r.peakRssMb} MB  written ${kb(r.bytesPerDeduction)} KB/ded`;
}

/** bench/webhook-delay.ts in a process of its own. */
function runWebhookDelay(dir: string): Promise<WebhookDelayResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...profileFlags, join(import.meta.dirname, 'webhook-delay.ts'), dir],
      { maxBuffer: 16 << 20, timeout: 5 * 60_000 },
      (err, stdout) => {
        const last = stdout.trim().split('\n').at(-1) ?? '';
        if (!err && last.startsWith('{')) resolve(JSON.parse(last) as WebhookDelayResult);
        else {
          const problem = `run crashed: ${err?.message ?? 'no result'}`;
          const none = { p50: 0, p99: 0, p999: 0, max: 0 };
          resolve({
            ok: false,
            problems: [problem],
            events: 0,
            seconds: 0,
            deliveriesPerSecond: 0,
            delay: none,
            idleDelay: none,
          });
        }
      },
    );
  });
}

let database: BenchDatabase | null = null;
let pgProblem: string | null = null;
const needsPg =
  (wants('pg') && plan.inProcess.some((s) => s.store === 'pg')) || (wants('pgbench') && plan.pgbench.length > 0);
if (needsPg) {
  try {
    database = await createBenchDatabase();
  } catch (err) {
    pgProblem = `PostgreSQL unavailable: ${err instanceof Error ? err.message : String(err)}`;
  }
}
const dropDatabase = async () => {
  const db = database;
  database = null;
  await db?.drop();
};
process.once('SIGINT', () => {
  dropDatabase().finally(() => process.exit(130));
});

const inProcess: InProcessResult[] = [];
const pgbench: PgbenchResult[] = [];
const http: HttpResult[] = [];
let webhooks: WebhookDelayResult | null = null;
try {
  say(
    `tokenmeter benchmark (${quick ? 'quick' : 'full'}): ${plan.inProcess.length} in-process runs, ${plan.pgbench.length} pgbench, ${plan.http.length} HTTP`,
  );
  for (const point of plan.inProcess) {
    if (!wants(point.store === 'pg' ? 'pg' : 'sqlite')) continue;
    const spec: InProcessSpec = { ...point, dir, ...(database ? { pgUrl: database.url } : {}) };
    const result = point.store === 'pg' && pgProblem !== null ? failedRun(spec, pgProblem) : await runChild(spec);
    inProcess.push(result);
    say(describeRun(result));
  }
  if (wants('pgbench')) {
    for (const concurrency of plan.pgbench) {
      const result: PgbenchResult = database
        ? await runPgbench({
            url: database.url,
            concurrency,
            maxClients: PG_MAX_POOL,
            cores: cpus().length,
            warmupMs: plan.warmupMs,
            durationMs: plan.durationMs,
            dir,
          })
        : {
            concurrency,
            clients: 0,
            threads: 0,
            ok: false,
            problems: [pgProblem ?? 'no database'],
            transactions: 0,
            seconds: 0,
            perSecond: 0,
            reportedTps: 0,
            latency: { p50: 0, p99: 0, p999: 0, max: 0 },
          };
      pgbench.push(result);
      say(
        result.ok
          ? `pgbench       hot     c=${String(concurrency).padEnd(5)} ${`(${result.clients} clients)`.padEnd(24)}${fmt(result.perSecond)}/s  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms`
          : `pgbench       hot     c=${concurrency} FAILED: ${result.problems.join('; ')}`,
      );
    }
  }
  if (wants('http')) {
    say('building dist/ (the service runs as `npm start` runs it)');
    await buildService();
    for (const scenario of plan.http) {
      let result: HttpResult;
      try {
        result = await runHttp(scenario, dir, profileFlags);
      } catch (err) {
        result = {
          name: scenario.name,
          target: scenario.target,
          workload: scenario.workload,
          groupCommit: scenario.groupCommit,
          connections: scenario.connections,
          batchSize: scenario.batchSize,
          ok: false,
          problems: [err instanceof Error ? err.message : String(err)],
          requests: 0,
          seconds: 0,
          perSecond: 0,
          deductionsPerSecond: 0,
          latency: { p50: 0, p99: 0, p999: 0, max: 0 },
          serverPeakRssMb: null,
          serverBytesPerDeduction: null,
          cpu: { server: null, serverMain: null, serverWorkers: null, loadGenerator: null },
          batch: null,
          statusCounts: {},
        };
      }
      http.push(result);
      say(
        result.ok
          ? `HTTP ${scenario.name.padEnd(30)} ${fmt(result.perSecond)} req/s${result.batchSize === null ? '' : ` (${fmt(result.deductionsPerSecond).trim()} deductions/s)`}  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms  server rss ${result.serverPeakRssMb} MB${result.target === 'bare' ? '' : `  written ${kb(result.serverBytesPerDeduction)} KB/ded`}  cpu ${cpuCores(result)}`
          : `HTTP ${scenario.name} FAILED: ${result.problems.join('; ')}`,
      );
    }
  }
  if (wants('webhooks')) {
    webhooks = await runWebhookDelay(dir);
    say(
      webhooks.ok
        ? `webhooks: ${webhooks.events} events delivered, ${fmt(webhooks.deliveriesPerSecond).trim()}/s, commit to receipt p50 ${webhooks.delay.p50} ms p99 ${webhooks.delay.p99} ms max ${webhooks.delay.max} ms in a burst; one at a time p50 ${webhooks.idleDelay.p50} ms max ${webhooks.idleDelay.max} ms`
        : `webhooks FAILED: ${webhooks.problems.join('; ')}`,
    );
  }
} finally {
  const settings = database?.settings ?? null;
  await dropDatabase();
  rmSync(dir, { recursive: true, force: true });
  const failed = [
    ...inProcess.filter((r) => !r.ok).map((r) => `${describeRun(r)}`),
    ...pgbench.filter((p) => !p.ok).map((p) => `pgbench c=${p.concurrency}: ${p.problems.join('; ')}`),
    ...http.filter((h) => !h.ok).map((h) => `HTTP ${h.name}: ${h.problems.join('; ')}`),
    ...(webhooks && !webhooks.ok ? [`webhooks: ${webhooks.problems.join('; ')}`] : []),
  ];
  if (only === '') {
    const results: BenchResults = {
      mode: quick ? 'quick' : 'full',
      command: quick ? 'npm run bench -- --quick' : 'npm run bench',
      revision,
      machine: describeMachine(settings?.version ?? 'not used'),
      loadAverage: { start: loadAtStart, end: loadAverage(), max: Math.max(loadMax, loadAverage()) },
      postgres: settings ? { synchronousCommit: settings.synchronousCommit, fsync: settings.fsync } : null,
      groupCommit: DEFAULT_GROUP_COMMIT,
      settings: {
        warmupMs: plan.warmupMs,
        durationMs: plan.durationMs,
        pgMaxPool: PG_MAX_POOL,
        httpConnections: HTTP_CONNECTIONS,
      },
      inProcess,
      pgbench,
      http,
      webhooks,
      failed,
    };
    const written = writeReports(results, import.meta.dirname);
    say(`wrote ${written.map((f) => `bench/${f}`).join(', ')}`);
  }
  if (failed.length > 0) {
    say(`\n${failed.length} run(s) FAILED their check:`);
    for (const f of failed) say(`  ${f}`);
    process.exitCode = 1;
  }
}
