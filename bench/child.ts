import { spawn } from 'node:child_process';

/**
 * Runs `command` in `cwd` to its end and resolves to its stdout; rejects, with the tail of its
 * stderr (and `label` to say which), if it cannot start or exits other than 0.
 */
export function outputOf(command: string, args: readonly string[], cwd: string, label = args[0]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${label} exited ${code}: ${out.slice(-1000)}${err.slice(-4000)}`)),
    );
  });
}
