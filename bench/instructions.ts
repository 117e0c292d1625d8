// Instructions a deduction costs, counted instead of timed. valgrind's callgrind counts the
// instructions a process executes, whatever else the machine is doing, where a timed run on
// this machine swings by a third within the hour. So two versions of the engine, or a schema
// with and without an index, can be compared in one try.
//
// It runs `bench/closed-loop.ts` (checked: every deduction charged, balances exact, reconcile
// clean) under callgrind at two sizes and divides the difference by the extra deductions, so
// start-up, seeding and most of the JIT's early compiling cancel out. The check is counted
// apart and left out (closed-loop's `--callgrind-dump`): its reads grow with the number of
// deductions (reconcile sorts every ledger row), so they would not cancel; before session 23
// they were 13-20% of the figure.
//
// The count is split by where the instructions ran: C functions in Node's binary (SQLite, on
// this workload, and libuv), V8's builtins and runtime, its compilers, its garbage collector,
// libc, and the code the JIT made. The compilers and the garbage collector vary between runs by
// thousands of instructions a deduction, since when V8 optimises a function or marks the heap
// depends on its threads' timing, so the figure compared leaves both out. The rest of V8's share
// still moves: by a few thousand on one account, by up to ~12,000 on 10,000 (count twice there).
// SQLite's share is the steadiest (the same to 0.1% run after run), the one to read for a change
// to the schema or the SQL. Instructions are not time: a cache miss, a page written or an fsync
// waited for costs no instruction, so a change that writes more pages can count fewer.
//
//   node bench/instructions.ts [--store sqlite-inline|sqlite] [--accounts 1] [--keyed]
//        [--from 20000] [--to 40000] [--top 15] [--against <commit>]
//
// --against runs the same in a temporary git worktree of that commit (with this checkout's
// node_modules and closed-loop.ts) and prints both. Needs valgrind (Debian's package of that
// name). Slow: ~50× a plain run, 2–4 minutes a tree at the defaults. Not part of `npm run bench`.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { outputOf } from './child.ts';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite-inline' },
    accounts: { type: 'string', default: '1' },
    keyed: { type: 'boolean', default: false },
    from: { type: 'string', default: '20000' },
    to: { type: 'string', default: '40000' },
    top: { type: 'string', default: '15' },
    against: { type: 'string' },
  },
});
const from = Number(values.from);
const to = Number(values.to);
const top = Number(values.top);
if (!Number.isInteger(top) || top < 0) throw new Error('--top: how many functions to list, a whole number');
if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to <= from) {
  throw new Error('--from and --to: whole numbers of deductions, --to larger');
}
if (values.store !== 'sqlite-inline' && values.store !== 'sqlite') {
  // PostgreSQL's work happens in its server's processes, which callgrind does not see.
  throw new Error('--store: sqlite-inline (the writer on the calling thread) or sqlite (on its worker thread)');
}
try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  throw new Error('bench/instructions.ts needs valgrind (apt-get install valgrind)');
}

const ROOT = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'tm-instructions-'));

/** Where the threads' timing decides how much runs: left out of the figure compared. */
const COMPILERS = "V8's compilers";
const GC = "V8's garbage collector";
/** C functions in Node's binary: on this workload, SQLite. */
const NATIVE = 'C in the node binary (SQLite, libuv)';

/** Where an instruction ran, from callgrind_annotate's `file:function [object]`. */
function placeOf(fn: string, object: string): string {
  if (!object || /^0x[0-9a-f]+$/.test(fn)) return "the JIT's code";
  if (/\/libc\.so|\/ld-linux/.test(object)) return 'libc';
  if (!object.endsWith('/node')) return 'other libraries';
  if (fn.startsWith('Builtins_')) return "V8's builtins";
  if (/compiler::|turboshaft|maglev|wasm::|Scanner|Parser|Compile|Bytecode/.test(fn)) return COMPILERS;
  if (/Scaveng|Marking|Sweep|Evacuat|Compactor|heap::|MinorMS|GCTracer/.test(fn)) return GC;
  if (fn.includes('::')) return 'V8 and Node (C++)';
  return NATIVE;
}

/** Instructions by function (callgrind_annotate's self cost of each) for one run. */
function byFunction(file: string): Map<string, { ir: number; place: string }> {
  const out = execFileSync('callgrind_annotate', ['--threshold=100', file], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const rows = new Map<string, { ir: number; place: string }>();
  for (const line of out.split('\n')) {
    const m = /^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?):(.*?)(?:\s+\[(.*)\])?$/.exec(line);
    if (!m || line.includes('PROGRAM TOTALS')) continue;
    const fn = (m[3] ?? '').trim();
    const object = m[4] ?? '';
    const key = `${fn} [${object.split('/').pop()}]`;
    const prev = rows.get(key);
    rows.set(key, { ir: (prev?.ir ?? 0) + Number((m[1] ?? '0').replaceAll(',', '')), place: placeOf(fn, object) });
  }
  return rows;
}

/** One run of closed-loop.ts under callgrind in `tree`; resolves to its profile's path. */
async function profile(tree: string, total: number, label: string): Promise<string> {
  const file = join(work, `${label}-${total}.callgrind`);
  const args = [
    '--tool=callgrind',
    // V8 writes code into the heap and rewrites it: valgrind must notice, or it runs stale code.
    '--smc-check=all-non-file',
    `--callgrind-out-file=${file}`,
    process.execPath,
    'bench/closed-loop.ts',
    '--store',
    values.store as string,
    '--accounts',
    values.accounts as string,
    '--total',
    String(total),
    ...(values.keyed ? ['--keyed'] : []),
    '--callgrind-dump',
  ];
  const out = await outputOf('valgrind', args, tree, 'closed-loop.ts under valgrind');
  console.error(`  ${label}, ${total} deductions: ${out.trim()}`);
  // The first dump: start-up, seeding and the loop, without the check that followed.
  return `${file}.1`;
}

interface Count {
  perDeduction: number;
  /** Without the compilers' and the garbage collector's shares. */
  steady: number;
  places: Map<string, number>;
  functions: [string, number][];
}

/** Instructions a deduction costs in `tree`: the two sizes' difference over the extra deductions. */
async function count(tree: string, label: string): Promise<Count> {
  // The two sizes run side by side: what they count barely depends on what else runs.
  const [small, large] = await Promise.all([profile(tree, from, label), profile(tree, to, label)]);
  const a = byFunction(small);
  const b = byFunction(large);
  const extra = to - from;
  const functions: [string, number][] = [];
  const places = new Map<string, number>();
  let perDeduction = 0;
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const ir = ((b.get(key)?.ir ?? 0) - (a.get(key)?.ir ?? 0)) / extra;
    const place = (b.get(key) ?? a.get(key))?.place ?? '?';
    functions.push([key, ir]);
    places.set(place, (places.get(place) ?? 0) + ir);
    perDeduction += ir;
  }
  functions.sort((x, y) => y[1] - x[1]);
  const steady = perDeduction - (places.get(COMPILERS) ?? 0) - (places.get(GC) ?? 0);
  return { perDeduction, steady, places, functions };
}

function show(label: string, c: Count): void {
  const share = (ir: number) => `${((100 * ir) / c.perDeduction).toFixed(1).padStart(5)}%`;
  const n = (ir: number) => Math.round(ir).toLocaleString('en-US').padStart(9);
  console.log(
    `\n${label}: ${n(c.steady).trim()} instructions a deduction without V8's compilers and garbage collector ` +
      `(${n(c.perDeduction).trim()} with them)`,
  );
  for (const [place, ir] of [...c.places].sort((x, y) => y[1] - x[1])) console.log(`${n(ir)} ${share(ir)}  ${place}`);
  console.log('  top functions:');
  for (const [fn, ir] of c.functions.slice(0, top)) console.log(`${n(ir)} ${share(ir)}  ${fn}`);
}

const shape = `${values.store}, ${values.accounts === '1' ? 'one hot account' : `${values.accounts} accounts`}, 256 callers, ${values.keyed ? 'keyed' : 'no keys'}`;
console.error(`counting ${shape}: ${from} and ${to} deductions under callgrind`);
let oldTree: string | undefined;
try {
  const head = await count(ROOT, 'this checkout');
  let base: Count | undefined;
  if (values.against) {
    const sha = execFileSync('git', ['rev-parse', '--verify', `${values.against}^{commit}`], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const tree = join(work, 'old');
    execFileSync('git', ['worktree', 'add', '--detach', tree, sha], { cwd: ROOT, stdio: 'ignore' });
    oldTree = tree;
    symlinkSync(join(ROOT, 'node_modules'), join(oldTree, 'node_modules'));
    // The harness is this checkout's (an older one may not split its check off), the engine the commit's.
    copyFileSync(join(ROOT, 'bench', 'closed-loop.ts'), join(oldTree, 'bench', 'closed-loop.ts'));
    base = await count(tree, sha.slice(0, 7));
    show(`${sha.slice(0, 7)} (${shape})`, base);
  }
  show(`this checkout (${shape})`, head);
  if (base) {
    const ratio = (a: number, b: number) => (a / b).toFixed(3);
    const native = (c: Count) => c.places.get(NATIVE) ?? 0;
    console.log(
      `\nthis checkout / ${values.against}: ${ratio(head.steady, base.steady)} without V8's compilers and ` +
        `garbage collector; SQLite's share alone ${ratio(native(head), native(base))}`,
    );
  }
} finally {
  if (oldTree) execFileSync('git', ['worktree', 'remove', '--force', oldTree], { cwd: ROOT, stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
