// `tokenmeter serve` as a child process on a free port, for the tests that kill, starve or flood
// a real server. Its log is drained as it comes (a full stderr pipe would block the server) and
// the last lines are kept for failure messages. Every child still running when the test process
// exits is killed, so none outlives a failed test.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');
export const SERVER_APP_KEY = 'tm_app_server_process_key_0123456789abcdefgh';
export const SERVER_ADMIN_KEY = 'tm_admin_server_process_key_0123456789abcdefgh';

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Resolves when the process has exited (killed, stopped or crashed). */
  readonly exited: Promise<void>;
  /** SIGTERM (graceful: in-flight requests finish), then waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /** The last lines of its log. */
  logTail(lines?: number): string;
}

export interface ServerProcessOptions {
  databaseUrl: string;
  /** Extra environment (on top of this process's, the bootstrap keys and DATABASE_URL). */
  env?: Record<string, string>;
  /**
   * Wraps the command, e.g. `(file, args) => ['sh', ['-c', 'ulimit -f 64; exec "$0" "$@"', file, ...args]]`.
   */
  wrap?: (file: string, args: string[]) => [string, string[]];
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts `tokenmeter serve --port 0` and resolves once it listens. */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const command: [string, string[]] = [process.execPath, [MAIN, 'serve', '--port', '0', '--host', '127.0.0.1']];
  const [file, args] = options.wrap ? options.wrap(...command) : command;
  const child = spawn(file, args, {
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      TOKENMETER_API_KEY: SERVER_APP_KEY,
      TOKENMETER_ADMIN_KEY: SERVER_ADMIN_KEY,
      LOG_LEVEL: 'info',
      NODE_TEST_CONTEXT: '',
      ...options.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  live.add(child);
  const exited = once(child, 'exit').then(() => {
    live.delete(child);
  });
  const tail: string[] = [];
  let partial = '';
  let resolveUrl: (url: string) => void = () => {};
  const listening = new Promise<string>((resolve) => {
    resolveUrl = resolve;
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      tail.push(line);
      if (tail.length > 200) tail.shift();
      const match = /tokenmeter serving (http:\/\/[^\s"]+)/.exec(line);
      if (match?.[1]) resolveUrl(match[1]);
    }
  });
  const logTail = (lines = 30) => [...tail, partial].slice(-lines).join('\n');
  const url = await Promise.race([
    listening,
    exited.then(() => {
      throw new Error(`the server exited before it listened (code ${child.exitCode}):\n${logTail()}`);
    }),
  ]);
  const pid = child.pid;
  if (pid === undefined) throw new Error('the server has no pid');
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    await exited;
  };
  return { child, pid, url, exited, stop: () => signal('SIGTERM'), kill: () => signal('SIGKILL'), logTail };
}

/** A process's resident memory now and at its peak (VmRSS and VmHWM from /proc), in KiB. */
export function residentKiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}
