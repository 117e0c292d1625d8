// Compares this checkout's engine with an earlier commit's, point by point, the way a
// regression bar is judged on this noisy machine: the same `bench/in-process.ts` run in both
// trees, alternating old and new (the order flips every round), medians of each side and the
// median of the paired ratios. The old code runs from a temporary git worktree with this
// checkout's node_modules; each tree gets its own PostgreSQL database, migrated by its own code.
//   node bench/compare.ts <commit> [--points sqlite-hot,sqlite-uniform,pg-hot,pg-uniform]
//        [--rounds 3] [--seconds 5] [--dir /tmp]
// Prints one line per run as it goes, then a table. Not part of `npm run bench`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { outputOf } from './child.ts';
import { PG_SERVER_URL } from './pg-database.ts';
import { kb } from './report.ts';
import { median } from './stats.ts';
import type { InProcessResult } from './types.ts';

const POINTS = {
  'sqlite-hot': { store: 'sqlite-full', workload: 'hot' },
  'sqlite-uniform': { store: 'sqlite-full', workload: 'uniform' },
  'pg-hot': { store: 'pg', workload: 'hot' },
  'pg-uniform': { store: 'pg', workload: 'uniform' },
} as const;
type PointName = keyof typeof POINTS;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    points: { type: 'string', default: Object.keys(POINTS).join(',') },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    dir: { type: 'string', default: tmpdir() },
  },
});
const base = positionals[0];
if (!base) throw new Error('usage: node bench/compare.ts <commit> [--points ...] [--rounds N] [--seconds S]');
const points = (values.points ?? '').split(',').map((p) => {
  if (!(p in POINTS)) throw new Error(`unknown point ${p}: one of ${Object.keys(POINTS).join(', ')}`);
  return p as PointName;
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds: a positive integer');
if (!(seconds > 0)) throw new Error('--seconds: a positive number');

const ROOT = join(import.meta.dirname, '..');
const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
const baseSha = git('rev-parse', '--verify', `${base}^{commit}`);
const headSha = git('rev-parse', 'HEAD');
const work = mkdtempSync(join(values.dir ?? tmpdir(), 'tm-compare-'));
const oldTree = join(work, 'old');
git('worktree', 'add', '--detach', oldTree, baseSha);
symlinkSync(join(ROOT, 'node_modules'), join(oldTree, 'node_modules'));
const trees = { old: oldTree, new: ROOT } as const;
type Side = keyof typeof trees;

/** Runs `script` with this checkout's Node in `cwd`; returns its stdout. */
function node(cwd: string, args: string[]): Promise<string> {
  return outputOf(process.execPath, args, cwd);
}

const databases: string[] = [];
async function databaseFor(side: Side): Promise<string> {
  // The tree's own code creates and migrates it: the old code needs the schema it knew.
  const out = await node(trees[side], [
    '--input-type=module',
    '-e',
    "const m = await import('./bench/pg-database.ts'); const d = await m.createBenchDatabase(); console.log(d.url); process.exit(0);",
  ]);
  const url = out.trim().split('\n').pop() ?? '';
  databases.push(new URL(url).pathname.slice(1));
  return url;
}

async function dropDatabases(): Promise<void> {
  if (databases.length === 0) return;
  const client = new pg.Client({ connectionString: PG_SERVER_URL });
  await client.connect();
  try {
    for (const name of databases) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

async function run(
  side: Side,
  point: PointName,
  pgUrl: string | undefined,
): Promise<{ perSecond: number; written: number | null }> {
  const { store, workload } = POINTS[point];
  const dir = join(work, `db-${side}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const spec = {
    store,
    impl: 'engine',
    workload,
    concurrency: 256,
    warmupMs: 1000,
    durationMs: seconds * 1000,
    seed: 1,
    dir,
    ...(store === 'pg' ? { pgUrl, pgPool: 32 } : {}),
  };
  const out = await node(trees[side], ['bench/in-process.ts', JSON.stringify(spec)]);
  const result = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Partial<InProcessResult>;
  if (typeof result.perSecond !== 'number') throw new Error(`no figure from ${side} ${point}: ${out}`);
  if (result.ok === false) console.log(`  (${side} ${point}: the run reported problems)`);
  return { perSecond: result.perSecond, written: result.bytesPerDeduction ?? null };
}

const percent = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`;

try {
  const pgUrls: Partial<Record<Side, string>> = {};
  if (points.some((p) => POINTS[p].store === 'pg')) {
    pgUrls.old = await databaseFor('old');
    pgUrls.new = await databaseFor('new');
  }
  console.log(`old ${baseSha.slice(0, 7)}, new ${headSha.slice(0, 7)} (with any uncommitted changes in this checkout)`);
  const figures = new Map<PointName, { old: number[]; new: number[] }>(points.map((p) => [p, { old: [], new: [] }]));
  for (let round = 0; round < rounds; round++) {
    for (const point of points) {
      const order: Side[] = round % 2 === 0 ? ['old', 'new'] : ['new', 'old'];
      for (const side of order) {
        const { perSecond, written } = await run(side, point, pgUrls[side]);
        figures.get(point)?.[side].push(perSecond);
        // A commit from before the bench measured writes reports none.
        const bytes = written === null ? '' : `, written ${kb(written)} KB a deduction`;
        console.log(`round ${round + 1} ${point} ${side}: ${Math.round(perSecond)}/s${bytes}`);
      }
    }
  }
  console.log('\n| point | old (median) | new (median) | change | median of paired ratios |');
  console.log('|---|---|---|---|---|');
  for (const [point, f] of figures) {
    const paired = f.new.map((n, i) => n / (f.old[i] ?? Number.NaN));
    const [o, n] = [median(f.old), median(f.new)];
    console.log(
      `| ${point} | ${Math.round(o)}/s | ${Math.round(n)}/s | ${percent(n / o)} | ${percent(median(paired))} (${rounds} each) |`,
    );
  }
} finally {
  await dropDatabases();
  git('worktree', 'remove', '--force', oldTree);
  rmSync(work, { recursive: true, force: true });
}
