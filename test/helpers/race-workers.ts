import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Starts `workers` copies of a worker script (args: target, mode, count, seed), waits until
 * every one says "ready", runs `setUp`, then releases them all at once with "go" and collects
 * each one's last stdout line as JSON.
 */
export async function raceWorkers<T>(options: {
  script: string;
  target: string;
  mode: string;
  perWorker: number;
  workers: number;
  setUp?: () => Promise<void>;
}): Promise<T[]> {
  const children: ChildProcessWithoutNullStreams[] = [];
  const ready: Promise<void>[] = [];
  const done: Promise<T>[] = [];
  for (let i = 0; i < options.workers; i++) {
    const child = spawn(process.execPath, [
      options.script,
      options.target,
      options.mode,
      String(options.perWorker),
      String(1000 + i),
    ]);
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const lines = createInterface({ input: child.stdout });
    const iterator = lines[Symbol.asyncIterator]();
    ready.push(
      iterator.next().then((l) => {
        if (l.value !== 'ready') throw new Error(`worker ${i} did not start: ${stderr}`);
      }),
    );
    done.push(
      new Promise((resolve, reject) => {
        let last = '';
        lines.on('line', (l) => {
          last = l;
        });
        child.on('close', (code) => {
          if (code === 0) resolve(JSON.parse(last) as T);
          else reject(new Error(`worker ${i} exited ${code}: ${stderr}`));
        });
      }),
    );
  }
  try {
    await Promise.all(ready);
    await options.setUp?.();
  } catch (err) {
    for (const c of children) c.kill();
    throw err;
  }
  for (const c of children) c.stdin.end('go\n');
  return Promise.all(done);
}
