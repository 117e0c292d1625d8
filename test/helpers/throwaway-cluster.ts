// A PostgreSQL cluster of the test's own, for tests that must stop a server (the outage test).
// The shared server on 5432 serves every other test and is never touched: this one is made by
// `initdb` in a fresh temporary directory, listens on a free port of 127.0.0.1 only, is started
// and stopped with `pg_ctl`, and is deleted at the end. PostgreSQL refuses to run as root, so
// when the tests run as root, initdb and pg_ctl run as the `postgres` OS user.
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';

/** The OS user PostgreSQL runs as when the tests run as root. */
const PG_OS_USER = 'postgres';

interface Binaries {
  initdb: string;
  pgCtl: string;
}

interface RunAs {
  /** Set when the tests run as root: initdb and pg_ctl run as this user, owning the directory. */
  user: { name: string; uid: number; gid: number } | null;
}

export interface ThrowawayCluster {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  readonly url: string;
  /** Whether it is running (its pid file exists). */
  readonly running: boolean;
  /** Starts it (waits until it accepts connections). */
  start(): Promise<void>;
  /** Stops it: `immediate` kills every backend at once, as a crash would (recovery runs on the next start). */
  stop(mode?: 'immediate' | 'fast'): Promise<void>;
  /** Stops it if running and deletes its directory. Safe to call twice. */
  remove(): Promise<void>;
  /** The end of the server's log, for failure messages. */
  logTail(lines?: number): string;
}

function onPath(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/bin', '/usr/bin'];
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/<version>/bin. */
function findBinaries(): Binaries | string {
  const initdb = onPath('initdb');
  const pgCtl = onPath('pg_ctl');
  if (initdb && pgCtl) return { initdb, pgCtl };
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) return 'initdb and pg_ctl are neither on PATH nor in /usr/lib/postgresql/*/bin';
  return { initdb: join(root, newest, 'bin', 'initdb'), pgCtl: join(root, newest, 'bin', 'pg_ctl') };
}

function findRunAs(): RunAs | string {
  if (userInfo().uid !== 0) return { user: null };
  const ids = spawnSync('id', ['-u', PG_OS_USER], { encoding: 'utf8' });
  const gids = spawnSync('id', ['-g', PG_OS_USER], { encoding: 'utf8' });
  if (ids.status !== 0 || gids.status !== 0) {
    return `running as root, and PostgreSQL refuses root, but there is no "${PG_OS_USER}" OS user to run it as`;
  }
  if (!existsSync('/usr/sbin/runuser') && !onPath('runuser')) return 'running as root, but runuser is missing';
  return { user: { name: PG_OS_USER, uid: Number(ids.stdout.trim()), gid: Number(gids.stdout.trim()) } };
}

function command(runAs: RunAs, bin: string, args: readonly string[]): { file: string; args: string[] } {
  return runAs.user
    ? { file: 'runuser', args: ['-u', runAs.user.name, '--', bin, ...args] }
    : { file: bin, args: [...args] };
}

function run(runAs: RunAs, bin: string, args: readonly string[], timeoutMs = 60_000): Promise<string> {
  const c = command(runAs, bin, args);
  return new Promise((resolve, reject) => {
    execFile(c.file, c.args, { encoding: 'utf8', timeout: timeoutMs, cwd: tmpdir() }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${[bin, ...args].join(' ')} failed: ${err.message}\n${stdout}${stderr}`.trim()));
      else resolve(stdout + stderr);
    });
  });
}

let probe: Promise<string | null> | undefined;

/** Why a throwaway cluster cannot be made here (null when it can). Asked once per process. */
export function throwawayClusterProblem(): Promise<string | null> {
  probe ??= (async () => {
    const binaries = findBinaries();
    if (typeof binaries === 'string') return binaries;
    const runAs = findRunAs();
    if (typeof runAs === 'string') return runAs;
    try {
      await run(runAs, binaries.initdb, ['--version'], 10_000);
      await run(runAs, binaries.pgCtl, ['--version'], 10_000);
      return null;
    } catch (err) {
      return `the PostgreSQL binaries cannot run: ${err instanceof Error ? err.message : String(err)}`;
    }
  })();
  return probe;
}

/**
 * The `skip` option for a suite that needs a throwaway cluster: false when one can be made;
 * otherwise the reason (printed), except on CI (CI=true), where the suite runs and fails.
 */
export async function throwawayClusterSkip(): Promise<string | false> {
  const problem = await throwawayClusterProblem();
  if (!problem || process.env.CI === 'true') return false;
  console.warn(`throwaway PostgreSQL cluster unavailable, outage test skipped: ${problem}`);
  return problem;
}

/** A port of 127.0.0.1 that nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/** Every cluster not yet removed when the process exits is stopped and deleted, so none outlives a crashed test. */
const live = new Set<{ cleanupSync(): void }>();
process.once('exit', () => {
  for (const c of live) c.cleanupSync();
});

/**
 * Creates a new cluster (initdb, trust authentication, superuser `postgres`) in a fresh
 * temporary directory; not yet started. Throws a clear error when it cannot.
 */
export async function createThrowawayCluster(): Promise<ThrowawayCluster> {
  const problem = await throwawayClusterProblem();
  if (problem) throw new Error(`cannot create a throwaway PostgreSQL cluster: ${problem}`);
  const binaries = findBinaries();
  const runAs = findRunAs();
  if (typeof binaries === 'string' || typeof runAs === 'string') throw new Error('unreachable: probed above');

  // Short, so the Unix socket path stays within its 107-byte limit.
  const dir = mkdtempSync(join(tmpdir(), 'tm-pgc-'));
  if (runAs.user) chownSync(dir, runAs.user.uid, runAs.user.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  try {
    await run(runAs, binaries.initdb, ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const port = await freePort();
  // pg_ctl hands these to a shell: the directory is quoted (mkdtemp names have no quotes).
  const options = `-p ${port} -k '${dir}' -c listen_addresses=127.0.0.1`;
  let removed = false;

  // The server is up while its pid file exists (pg_ctl's own test), whatever a test cut short in
  // the middle of a start or stop left behind.
  const pidFile = join(data, 'postmaster.pid');
  const stopSync = () => {
    if (!existsSync(pidFile)) return;
    const c = command(runAs, binaries.pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
    spawnSync(c.file, c.args, { stdio: 'ignore', timeout: 10_000 });
  };
  const handle = {
    cleanupSync() {
      stopSync();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(handle);

  const logTail = (lines = 20) => {
    try {
      return readFileSync(log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no server log)';
    }
  };

  const stop = async (mode: 'immediate' | 'fast' = 'immediate') => {
    await run(runAs, binaries.pgCtl, ['-D', data, '-m', mode, '-w', 'stop']);
  };

  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    get running() {
      return existsSync(pidFile);
    },
    async start() {
      if (removed) throw new Error('the throwaway cluster was removed');
      // -l: the server's output goes to a file, not to pipes this process would wait on.
      try {
        await run(runAs, binaries.pgCtl, ['-D', data, '-o', options, '-l', log, '-w', '-t', '60', 'start']);
      } catch (err) {
        throw new Error(`${err instanceof Error ? err.message : String(err)}\nserver log:\n${logTail()}`);
      }
    },
    stop,
    async remove() {
      if (removed) return;
      removed = true;
      try {
        if (existsSync(pidFile)) await stop('immediate');
      } finally {
        live.delete(handle);
        rmSync(dir, { recursive: true, force: true });
      }
    },
    logTail,
  };
}
