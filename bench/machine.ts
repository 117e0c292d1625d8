import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import type { MachineInfo } from './types.ts';

/** What the figures were measured on. */
export function describeMachine(postgres: string): MachineInfo {
  const db = new DatabaseSync(':memory:');
  const sqlite = String((db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v);
  db.close();
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${type()} ${release()}`,
    sqlite,
    postgres,
    date: new Date().toISOString(),
  };
}

/** The 1-minute load average: other work on the machine skews every figure. */
export function loadAverage(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}

/** The commit measured, and whether src/ had uncommitted changes (then the figures are of those). */
export function describeRevision(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', cwd: import.meta.dirname }).trim();
    const head = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', '../src').length > 0;
    return dirty ? `${head} with uncommitted changes in src/` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
