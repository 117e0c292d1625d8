import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { TokenmeterError } from '../core/errors.ts';

/** Whether a file starts with gzip's magic bytes (the name is not trusted: rotated logs are often renamed). */
export async function isGzip(file: string): Promise<boolean> {
  const handle = await open(file, 'r').catch((err: unknown) => {
    throw new TokenmeterError('invalid_request', `--logs: cannot read ${file}: ${describe(err)}`);
  });
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/**
 * The lines of a log file, plain or gzip, streamed: a file of any size is read a chunk at a
 * time. Invalid UTF-8 becomes U+FFFD (such a line is then reported if it looked like a
 * deduction), and a damaged gzip stream fails the command with the file named.
 */
export async function* readLogLines(file: string, gzip: boolean): AsyncGenerator<string> {
  const raw = createReadStream(file);
  const input = gzip ? raw.pipe(createGunzip()) : raw;
  if (gzip) raw.on('error', (err) => input.destroy(err));
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      pending += decoder.decode(chunk, { stream: true });
      let start = 0;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n', start)) {
        yield stripCr(pending.slice(start, nl));
        start = nl + 1;
      }
      pending = pending.slice(start);
    }
  } catch (err) {
    throw new TokenmeterError('invalid_request', `--logs: cannot read ${file}: ${describe(err)}`);
  } finally {
    raw.destroy();
  }
  pending += decoder.decode();
  if (pending !== '') yield stripCr(pending);
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
