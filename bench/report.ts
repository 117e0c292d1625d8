// bench/RESULTS.md and bench/results.json from one run's figures. Nothing here is typed in by
// hand: every number comes from the run; a run whose check failed shows FAILED, not a figure.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GroupCommitOptions } from '../src/ledger/batch/group-commit-options.ts';
import { throughputSvg } from './chart.ts';
import type {
  HttpResult,
  InProcessResult,
  MachineInfo,
  PgbenchResult,
  StoreKind,
  WebhookDelayResult,
} from './types.ts';
import { IMPL_LABELS, STORE_LABELS } from './types.ts';
import { WORKLOAD_LABELS } from './workloads.ts';

export interface BenchResults {
  mode: 'quick' | 'full';
  command: string;
  /** The commit measured (at the start of the run). */
  revision: string;
  machine: MachineInfo;
  /** 1-minute load average at the start, at the end and the highest seen in between (sampled every 5 s). */
  loadAverage: { start: number; end: number; max: number };
  postgres: { synchronousCommit: string; fsync: string } | null;
  groupCommit: GroupCommitOptions;
  settings: { warmupMs: number; durationMs: number; pgMaxPool: number; httpConnections: number };
  inProcess: InProcessResult[];
  pgbench: PgbenchResult[];
  http: HttpResult[];
  /** Webhook deliveries: commit to receipt (absent in results written before they were measured). */
  webhooks?: WebhookDelayResult | null;
  /** Runs whose correctness check failed (or that could not run). */
  failed: string[];
}

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
/** Bytes as KB with one decimal, or — where not measured. */
export const kb = (bytes: number | null | undefined) => (bytes == null ? '—' : (bytes / 1024).toFixed(1));
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const times = (x: number) => `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}×`;

function naiveFor(results: BenchResults, r: InProcessResult): InProcessResult | undefined {
  return results.inProcess.find(
    (x) =>
      x.ok &&
      x.spec.impl === 'naive' &&
      x.spec.store === r.spec.store &&
      x.spec.workload === r.spec.workload &&
      x.spec.concurrency === r.spec.concurrency,
  );
}

function find(results: BenchResults, store: StoreKind, impl: string, workload: string, concurrency: number) {
  return results.inProcess.find(
    (r) =>
      r.spec.store === store &&
      r.spec.impl === impl &&
      r.spec.workload === workload &&
      r.spec.concurrency === concurrency,
  );
}

type Verdict = 'met' | 'missed' | 'FAILED' | 'not run';

function targets(results: BenchResults): string[] {
  const rows: string[] = ['| target | reached | verdict |', '|---|---|---|'];
  const engineTarget = (
    label: string,
    store: StoreKind,
    workload: string,
    floor: number,
    ratioFloor: number | null,
  ) => {
    const r = find(results, store, 'engine', workload, 256);
    let reached = '—';
    let verdict: Verdict = 'not run';
    if (r && !r.ok) verdict = 'FAILED';
    else if (r) {
      const naive = naiveFor(results, r);
      const ratio = naive ? r.perSecond / naive.perSecond : null;
      reached = `${n0(r.perSecond)}/s${ratio === null ? '' : `, ${times(ratio)} the naive baseline (${n0(naive?.perSecond ?? 0)}/s)`}`;
      // On PostgreSQL's hot account the same transaction run by pgbench is the independent check.
      const pgb =
        store === 'pg' && workload === 'hot' ? results.pgbench.find((p) => p.ok && p.concurrency === 256) : undefined;
      if (pgb) reached += `; ${times(r.perSecond / pgb.perSecond)} pgbench's ${n0(pgb.perSecond)}/s`;
      const ratioOk = ratioFloor === null || (ratio !== null && ratio >= ratioFloor);
      verdict = r.perSecond >= floor && ratioOk ? 'met' : 'missed';
    }
    rows.push(`| ${label} | ${reached} | ${verdict} |`);
  };
  engineTarget(
    'In-process SQLite FULL, one hot account, 256 callers: ≥ 100,000/s and ≥ 12× naive',
    'sqlite-full',
    'hot',
    100_000,
    12,
  );
  engineTarget(
    'In-process SQLite FULL, 10,000 uniform accounts, 256 callers: ≥ 50,000/s',
    'sqlite-full',
    'uniform',
    50_000,
    null,
  );
  engineTarget(
    'In-process PostgreSQL, one hot account, 256 callers: ≥ 30,000/s and ≥ 10× naive',
    'pg',
    'hot',
    30_000,
    10,
  );
  engineTarget(
    'In-process PostgreSQL, 10,000 uniform accounts, 256 callers: ≥ 30,000/s',
    'pg',
    'uniform',
    30_000,
    null,
  );
  const bare = results.http.find((h) => h.target === 'bare');
  const httpTarget = (label: string, name: string, judge: (h: HttpResult, bare: HttpResult) => [string, boolean]) => {
    const service = results.http.find((h) => h.name === name);
    let reached = '—';
    let verdict: Verdict = 'not run';
    if ((service && !service.ok) || (service && bare && !bare.ok)) verdict = 'FAILED';
    else if (service && bare) {
      const [text, met] = judge(service, bare);
      reached = text;
      verdict = met ? 'met' : 'missed';
    }
    rows.push(`| ${label} | ${reached} | ${verdict} |`);
  };
  const singleDeduct = (service: HttpResult, base: HttpResult): [string, boolean] => {
    const ratio = service.perSecond / base.perSecond;
    return [
      `${n0(service.perSecond)} req/s = ${pct(ratio)} of bare Fastify (${n0(base.perSecond)} req/s), p99 ${ms(service.latency.p99)} ms`,
      ratio >= 0.4 && service.latency.p99 < 25,
    ];
  };
  httpTarget(
    'HTTP deduct on embedded SQLite FULL, 100 connections, 200 accounts: ≥ 40% of bare Fastify, p99 < 25 ms',
    'service-200-accounts',
    singleDeduct,
  );
  httpTarget(
    'HTTP batch on embedded SQLite FULL (500 items per request, 8 connections, 200 accounts): durable deductions/s ≥ 2.5× bare Fastify req/s',
    'service-batch-500',
    (service, base) => {
      const ratio = service.deductionsPerSecond / base.perSecond;
      return [
        `${n0(service.deductionsPerSecond)} deductions/s (${n0(service.perSecond)} req/s, p99 ${ms(service.latency.p99)} ms) = ${times(ratio)} bare Fastify (${n0(base.perSecond)} req/s)`,
        ratio >= 2.5,
      ];
    },
  );
  if (results.http.some((h) => h.name === 'service-uniform')) {
    httpTarget(
      'HTTP deduct on embedded SQLite, 100 connections, 10,000 accounts (issue 7): ≥ 40% of bare Fastify, p99 < 25 ms',
      'service-uniform',
      singleDeduct,
    );
  }
  const services = results.http.filter((h) => h.target === 'service');
  const peaks = services.map((h) => h.serverPeakRssMb).filter((x): x is number => x !== null);
  const peak = peaks.length > 0 ? Math.max(...peaks) : null;
  rows.push(
    `| Server resident memory < 200 MB through the HTTP runs | ${peak === null ? '—' : `peak ${peak} MB (VmHWM)`} | ${peak === null ? 'not run' : peak < 200 ? 'met' : 'missed'} |`,
  );
  return rows;
}

function inProcessTable(results: BenchResults, store: StoreKind): string[] {
  const runs = results.inProcess.filter((r) => r.spec.store === store);
  if (runs.length === 0) return [];
  const rows = [
    `### ${STORE_LABELS[store]}`,
    '',
    '| workload | callers | implementation | deductions/s | × naive | p50 ms | p99 ms | p99.9 ms | batch avg / largest | refused | replayed | peak RSS MB | written KB / deduction | check |',
    '|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const r of runs) {
    const s = r.spec;
    const head = `| ${WORKLOAD_LABELS[s.workload]} | ${s.concurrency} | ${IMPL_LABELS[s.impl]}`;
    if (!r.ok) {
      rows.push(`${head} | FAILED | | | | | | | | | | ${r.problems.slice(0, 2).join('; ').replace(/\|/g, '/')} |`);
      continue;
    }
    const naive = s.impl === 'naive' ? undefined : naiveFor(results, r);
    const batch = r.batch ? `${r.batch.average} / ${r.batch.largest}` : '—';
    rows.push(
      `${head} | ${n0(r.perSecond)} | ${naive ? times(r.perSecond / naive.perSecond) : '—'} | ${ms(r.latency.p50)} | ${ms(r.latency.p99)} | ${ms(r.latency.p999)} | ${batch} | ${pct(r.refusedShare)} | ${pct(r.replayedShare)} | ${r.peakRssMb ?? '—'} | ${kb(r.bytesPerDeduction)} | ok${r.exhausted ? ' (stream ran out)' : ''} |`,
    );
  }
  rows.push('');
  return rows;
}

/** Each pool point beside the hot-account point at the same store, implementation and callers. */
function poolBesideHot(results: BenchResults): string[] {
  const pairs = results.inProcess
    .filter((r) => r.spec.workload === 'pool')
    .map((pool) => ({ pool, hot: find(results, pool.spec.store, pool.spec.impl, 'hot', pool.spec.concurrency) }));
  if (pairs.length === 0) return [];
  const rows = [
    '### One pool beside one hot account',
    '',
    "The pool workload sends the hot account's mix to 100 members of one pool, chosen uniformly. A member holds no tokens of its own and each one's limit per cycle is the pool's opening balance (so it is checked on every write and never binds): every charge writes the member's entry and the pool's, moves the membership's usage and, when keyed, stores the answer under the member's key.",
    '',
    '| store | callers | implementation | one hot account /s | one pool, 100 members /s | pool ÷ hot | hot p99 ms | pool p99 ms |',
    '|---|--:|---|--:|--:|--:|--:|--:|',
  ];
  for (const { pool, hot } of pairs) {
    const s = pool.spec;
    // A run whose callers were all still waiting on answers from the warm-up when the measured
    // window closed has no figure (not a rate of 0).
    const measured = (r: InProcessResult | undefined): r is InProcessResult => r?.ok === true && r.measured > 0;
    const figure = (r: InProcessResult | undefined) =>
      r === undefined ? '—' : !r.ok ? 'FAILED' : r.measured === 0 ? 'none answered in the window' : n0(r.perSecond);
    const p99 = (r: InProcessResult | undefined) => (measured(r) ? ms(r.latency.p99) : '—');
    const ratio = measured(pool) && measured(hot) ? pct(pool.perSecond / hot.perSecond) : '—';
    rows.push(
      `| ${STORE_LABELS[s.store]} | ${s.concurrency} | ${IMPL_LABELS[s.impl]} | ${figure(hot)} | ${figure(pool)} | ${ratio} | ${p99(hot)} | ${p99(pool)} |`,
    );
  }
  rows.push('');
  return rows;
}

function pgbenchTable(results: BenchResults): string[] {
  if (results.pgbench.length === 0) return [];
  const rows = [
    '## PostgreSQL baseline cross-check: pgbench',
    '',
    'The naive transaction on one hot account, run by pgbench (`-M prepared`, custom script, `-c`/`-j` below) on the same database, with no Node in the loop.',
    '',
    '| callers | pgbench clients / threads | tx/s (measured part) | pgbench tps (whole run) | p50 ms | p99 ms | p99.9 ms | naive harness at the same point | check |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const p of results.pgbench) {
    const harness = find(results, 'pg', 'naive', 'hot', p.concurrency);
    const h = harness?.ok ? `${n0(harness.perSecond)}/s` : '—';
    if (!p.ok) {
      rows.push(
        `| ${p.concurrency} | ${p.clients} / ${p.threads} | FAILED | | | | | ${h} | ${p.problems.join('; ')} |`,
      );
      continue;
    }
    rows.push(
      `| ${p.concurrency} | ${p.clients} / ${p.threads} | ${n0(p.perSecond)} | ${n0(p.reportedTps)} | ${ms(p.latency.p50)} | ${ms(p.latency.p99)} | ${ms(p.latency.p999)} | ${h} | ok |`,
    );
  }
  rows.push('');
  return rows;
}

function httpTable(results: BenchResults): string[] {
  if (results.http.length === 0) return [];
  const bare = results.http.find((h) => h.target === 'bare' && h.ok);
  const rows = [
    '## HTTP',
    '',
    "`POST /api/tokens/deduct` with an app key, 100 connections, and `POST /api/tokens/deduct/batch` with 500 items per request over 8 connections, autocannon in its own process; the service is `tokenmeter serve` (embedded SQLite FULL, default log level) in its own process. The baseline is a bare Fastify route that parses a single deduction's body and does nothing. Deductions/s counts durable deductions answered (for the batch route, requests/s × 500); \"× bare Fastify\" divides it by the bare route's requests/s. Every item of every answer is tallied and checked like a single deduction. CPU is the cores busy on average in the measured part: the server's process (all its threads; of them its main thread, and its worker threads, i.e. the SQLite writer) and the load generator's (one thread: near 1, it bounds the run); beside the machine's cores, their sum says whether the CPU did. Written is what the server's process sent to storage in the measured part (`/proc/<pid>/io`) per deduction answered.",
    '',
    '| run | workload | connections | req/s | deductions/s | × bare Fastify | p50 ms | p99 ms | p99.9 ms | batch avg / largest | server peak RSS MB | server written KB / deduction | CPU cores: server (main, workers) + load generator | answers | check |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|',
  ];
  for (const h of results.http) {
    const name =
      h.target === 'bare'
        ? 'bare Fastify route'
        : `service${h.batchSize ? `, batch route (${h.batchSize} items)` : ''}, group commit ${h.groupCommit === false ? 'off' : 'on'}`;
    if (!h.ok) {
      rows.push(
        `| ${name} | ${WORKLOAD_LABELS[h.workload]} | ${h.connections} | FAILED | | | | | | | | | | ${h.problems.slice(0, 2).join('; ').replace(/\|/g, '/')} |`,
      );
      continue;
    }
    const statuses = Object.entries(h.statusCounts)
      .map(([code, count]) => `${code}: ${n0(count)}`)
      .join(', ');
    const perSecond = h.deductionsPerSecond ?? h.perSecond;
    const ratio = bare && h !== bare ? perSecond / bare.perSecond : null;
    rows.push(
      `| ${name} | ${WORKLOAD_LABELS[h.workload]} | ${h.connections} | ${n0(h.perSecond)} | ${h.target === 'bare' ? '—' : n0(perSecond)} | ${ratio === null ? '—' : ratio >= 1 ? times(ratio) : pct(ratio)} | ${ms(h.latency.p50)} | ${ms(h.latency.p99)} | ${ms(h.latency.p999)} | ${h.batch ? `${h.batch.average} / ${h.batch.largest}` : '—'} | ${h.serverPeakRssMb ?? '—'} | ${h.target === 'bare' ? '—' : kb(h.serverBytesPerDeduction)} | ${cpuCores(h)} | ${statuses} | ok |`,
    );
  }
  rows.push('');
  return rows;
}

/** "server (main, workers) + load generator" cores, or — where not measured (not Linux, or results from before). */
export function cpuCores(h: HttpResult): string {
  const c = h.cpu;
  if (!c || c.server === null || c.loadGenerator === null) return '—';
  return `${c.server.toFixed(2)} (main ${c.serverMain?.toFixed(2) ?? '?'}, workers ${c.serverWorkers?.toFixed(2) ?? '?'}) + ${c.loadGenerator.toFixed(2)}`;
}

function webhooksSection(results: BenchResults): string[] {
  const w = results.webhooks;
  if (!w) return [];
  return [
    '## Webhooks',
    '',
    "The engine in-process on SQLite FULL with one webhook endpoint (a local receiver answering 204) and the dispatcher woken by each commit, as `tokenmeter serve` runs it; 400 accounts spent to zero in waves of 50, each giving `balance.low` and `balance.depleted`. Delay is from the commit (the event's timestamp) to its receipt. With no endpoint the hot path writes no delivery rows; an event costs its rows only when a balance crosses a threshold.",
    '',
    '| events | deliveries/s (burst) | burst delay p50 ms | p99 ms | max ms | one at a time p50 ms | max ms | check |',
    '|--:|--:|--:|--:|--:|--:|--:|---|',
    w.ok
      ? `| ${n0(w.events)} | ${n0(w.deliveriesPerSecond)} | ${ms(w.delay.p50)} | ${ms(w.delay.p99)} | ${ms(w.delay.max)} | ${ms(w.idleDelay.p50)} | ${ms(w.idleDelay.max)} | ok |`
      : `| ${n0(w.events)} | | | | | | | FAILED: ${w.problems.join('; ')} |`,
    '',
  ];
}

/** A warning when the machine had other work: the figures are then lower than on an idle one. */
function busy(results: BenchResults): string {
  const load = results.loadAverage.max;
  if (load < results.machine.cores) return '';
  return `> **The machine was busy** (load average up to ${load} on ${results.machine.cores} cores): other processes competed for the CPU and the disk during this run, so every figure here is lower, and noisier, than on an idle machine.\n`;
}

export function resultsMarkdown(results: BenchResults): string {
  const m = results.machine;
  const gc = results.groupCommit;
  const s = results.settings;
  const lines = [
    `# Benchmark results${results.mode === 'quick' ? ' (QUICK RUN)' : ''}`,
    '',
    `Written by \`${results.command}\` on ${m.date}, measuring commit ${results.revision}. Reproduce with \`npm run bench\` (full sweep, 15 to 20 minutes) or \`npm run bench -- --quick\` (headline points, about 3 minutes).`,
    '',
    results.mode === 'quick'
      ? `> **Quick run**: ${s.warmupMs} ms warm-up and ${s.durationMs} ms measured per point, headline points only. The full sweep (\`npm run bench\`) writes RESULTS.md, results.json and throughput.svg.\n`
      : '> Full sweep. `npm run bench -- --quick` writes its figures to RESULTS-quick.md, results-quick.json and throughput-quick.svg instead.\n',
    busy(results),
    `**Machine**: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGb} GB RAM, ${m.platform}; Node ${m.node}; SQLite ${m.sqlite}; PostgreSQL ${m.postgres}${results.postgres ? ` (synchronous_commit=${results.postgres.synchronousCommit}, fsync=${results.postgres.fsync})` : ''}. Load average (1 min) ${results.loadAverage.start} at the start, ${results.loadAverage.end} at the end, ${results.loadAverage.max} at most: anything else running on the machine lowers every figure.`,
    '',
    `**Engine settings**: group commit maxBatch ${gc.maxBatch}, maxWaitMs ${gc.maxWaitMs}, maxQueue ${gc.maxQueue} (the defaults); PostgreSQL pool = min(callers, ${s.pgMaxPool}) for the engine, the naive baseline and pgbench alike.`,
    '',
    '## Targets',
    '',
    ...targets(results),
    '',
    `![throughput against concurrency](${reportFiles(results.mode).svg})`,
    '',
    '## In-process engine',
    '',
    `Callers in a closed loop (each sends its next deduction when the last is answered) for ${s.warmupMs} ms of warm-up and ${s.durationMs} ms measured; deductions/s counts deductions issued and answered in the measured part. Every point runs in a fresh process on a fresh database. "× naive" divides by the naive transaction at the same store, workload and callers. Refused and replayed are shares of all answers. Peak RSS is the run's whole process (VmHWM), harness included. Written is what the measured part sent to storage per deduction: on SQLite the process's own writes (\`/proc/self/io\`: WAL frames and checkpoints), on PostgreSQL the WAL the server generated (\`pg_stat_wal\`); on many accounts it is what bounds SQLite (docs/SCALING.md, session 17).`,
    '',
    ...inProcessTable(results, 'sqlite-full'),
    ...inProcessTable(results, 'sqlite-normal'),
    ...inProcessTable(results, 'pg'),
    ...poolBesideHot(results),
    ...pgbenchTable(results),
    ...httpTable(results),
    ...webhooksSection(results),
    '## How each run is checked',
    '',
    '- The workload is a seeded stream built so that what must be accepted does not depend on commit order: regular accounts hold more than the stream could ever charge them; "dry" accounts (2% of the 10,000, or of the 200) hold 1 token and are charged 1 at a time; 2% of deductions cost 5,000,000 tokens, more than any account holds; 3% reuse a recent idempotency key (same account, feature and quantity); 20% carry no key. In the pool workload every deduction is by a member: members hold no tokens of their own and the pool holds more than the stream could charge all of them, so each is charged in full to the pool.',
    "- After every run: charged (not replayed) deductions equal the model exactly (regular: every distinct charge; dry: min(balance, distinct charges)); replays equal the repeats sent to regular accounts; every too-big deduction refused; no errors. Then, read from the database itself: every account's balance equals the model (a member's stays 0, its pool pays), debit entries equal the charged count (plus one on the pool for each member's charge), no (account, idempotency key) with two ledger entries, no negative bucket or available figure, and `reconcile()` finds no drift (which includes each membership's usage against the pool's entries naming the member). A run that fails any of this is FAILED and the benchmark exits non-zero.",
    "- The naive baseline (bench/naive-sqlite.ts, bench/naive-pg.ts, and for pool members bench/naive-pooled-sqlite.ts, bench/naive-pooled-pg.ts) is one transaction per deduction on the same schema: lock the account (BEGIN IMMEDIATE on its own node:sqlite connection; SELECT ... FOR UPDATE on PostgreSQL), look up the idempotency key, update the account, insert the ledger row (and the key), commit. For a pool member it then locks the pool's row and the membership's, draws the pool's grants, updates the pool (guarded), the membership (guarded by its limit) and the member, inserts both entries and stores the answer under the key. It skips what the engine also does per operation (cycle renewal, expired holds), so it flatters the baseline slightly. pgbench runs the same transaction without the idempotency key.",
    '',
  ];
  if (results.failed.length > 0) {
    lines.push('## FAILED', '', ...results.failed.map((f) => `- ${f}`), '');
  }
  return lines.join('\n');
}

/** The files a run writes: a quick run its own, so it never overwrites the full sweep. */
export function reportFiles(mode: BenchResults['mode']): { markdown: string; json: string; svg: string } {
  const suffix = mode === 'quick' ? '-quick' : '';
  return { markdown: `RESULTS${suffix}.md`, json: `results${suffix}.json`, svg: `throughput${suffix}.svg` };
}

/** Writes the markdown, JSON and SVG chart of a run into `dir`; returns their names. */
export function writeReports(results: BenchResults, dir: string): string[] {
  const files = reportFiles(results.mode);
  writeFileSync(join(dir, files.json), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, files.markdown), resultsMarkdown(results));
  const title = `tokenmeter: durable deductions/s against concurrent callers${results.mode === 'quick' ? ' (quick run)' : ''}`;
  writeFileSync(join(dir, files.svg), throughputSvg(results.inProcess, results.pgbench, title));
  return [files.markdown, files.json, files.svg];
}
