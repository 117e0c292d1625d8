// A small tmpfs of the test's own, to run a store on a disk that fills up. Mounting needs root
// (or CAP_SYS_ADMIN); where it is refused, the suite that needs it is skipped with the reason.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  readonly dir: string;
  /** Fills the free space with a file, to the last page; returns how many bytes it took. */
  fill(): number;
  /** Deletes the filler: the space is back. */
  free(): void;
  /** Unmounts and removes the mount point. Safe to call twice. */
  remove(): void;
}

const live = new Set<Tmpfs>();
process.once('exit', () => {
  for (const t of live) t.remove();
});

/** Mounts a tmpfs of `bytes` on a fresh directory. */
export function mountTmpfs(bytes: number): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'tm-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmdirSync(dir);
    throw err;
  }
  const filler = join(dir, 'filler');
  let removed = false;
  const t: Tmpfs = {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      let written = 0;
      try {
        for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
          const chunk = Buffer.alloc(size, 0x55);
          for (;;) {
            try {
              written += writeSync(fd, chunk);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw err;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      return written;
    },
    free() {
      rmSync(filler, { force: true });
    },
    remove() {
      if (removed) return;
      removed = true;
      live.delete(t);
      // Lazy: a server killed a moment ago may still hold a file open on it.
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      rmdirSync(dir);
    },
  };
  live.add(t);
  return t;
}

let probe: string | null | undefined;

/** The `skip` option for a suite that needs a tmpfs: false when one can be mounted, else why not. */
export function tmpfsSkip(): string | false {
  if (probe === undefined) {
    try {
      mountTmpfs(1 << 20).remove();
      probe = null;
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
      probe = `cannot mount a tmpfs here (${stderr || (err instanceof Error ? err.message : String(err))}); needs root`;
    }
  }
  if (probe !== null) console.warn(`full-disk test skipped: ${probe}`);
  return probe ?? false;
}
