import { Worker } from 'node:worker_threads';
import { TokenmeterError } from '../../core/errors.ts';
import { fromWire } from '../wire-error.ts';
import type { ReaderOptions, ReaderRequest, WorkerReply } from './worker-protocol.ts';

// Tests and `node src/...` run the TypeScript; `dist/` holds the compiled JavaScript beside it.
const READER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './sqlite-reader.ts' : './sqlite-reader.js',
  import.meta.url,
);

/** How long the reader thread stays after its last answer before it ends (its memory goes with it). */
export const READER_IDLE_MS = 30_000;

interface Waiting {
  worker: Worker;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * The SQLite reader thread (`sqlite-reader.ts`), seen from the main thread: started by the first
 * read sent to it, ended after `idleMs` without one, so a server nobody asks for a report keeps
 * no third isolate. A read waiting when the thread fails or exits is refused as `unavailable`;
 * the next read starts a new thread.
 */
export class ReaderThread {
  private readonly options: ReaderOptions;
  private readonly idleMs: number;
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Waiting>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: ReaderOptions, idleMs = READER_IDLE_MS) {
    this.options = options;
    this.idleMs = idleMs;
  }

  /** Whether a reader thread is running now (for tests and diagnostics). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  call(kind: 'store' | 'service', method: string, args: unknown[]): Promise<unknown> {
    if (this.closed) {
      return Promise.reject(new TokenmeterError('unavailable', 'The token store is unavailable: it is closed'));
    }
    clearTimeout(this.idleTimer);
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      try {
        worker.postMessage({ id, kind, method, args } satisfies ReaderRequest);
      } catch (err) {
        // An argument that cannot be copied to the thread: this read fails, nothing waits for it.
        reject(err);
        this.idleIfDone(worker);
        return;
      }
      // An answer is due: the process waits for it.
      worker.ref();
      this.pending.set(id, { worker, resolve, reject });
    });
  }

  /** Ends the thread after the reads sent to it are answered. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    worker.postMessage({ kind: 'close' } satisfies ReaderRequest);
    await exited;
  }

  private start(): Worker {
    const worker = new Worker(READER_URL, { workerData: this.options });
    worker.on('message', (reply: WorkerReply) => this.settle(reply));
    worker.on('error', (err) => this.fail(worker, `its SQLite reader thread failed: ${err.message}`));
    worker.on('exit', (code) => this.fail(worker, `its SQLite reader thread exited (code ${code})`));
    // An answer that cannot be read here: end the thread, so what it owed is refused, not lost.
    worker.on('messageerror', () => void worker.terminate());
    // Idle, the thread must not keep a process alive; `call` holds it while answers are due.
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private settle(reply: WorkerReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (reply.ok) waiting.resolve(reply.value);
    else waiting.reject(fromWire(reply.error));
    this.idleIfDone(waiting.worker);
  }

  /** Once `worker` owes no answer: let the process exit without it, and end it after `idleMs`. */
  private idleIfDone(worker: Worker): void {
    for (const waiting of this.pending.values()) if (waiting.worker === worker) return;
    worker.unref();
    if (worker !== this.worker || this.closed) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.worker !== worker || this.pending.size > 0) return;
      this.worker = undefined;
      worker.postMessage({ kind: 'close' } satisfies ReaderRequest);
    }, this.idleMs);
    this.idleTimer.unref();
  }

  /** `worker` failed or exited: what it still owed is refused; the next read starts another. */
  private fail(worker: Worker, reason: string): void {
    if (this.worker === worker) this.worker = undefined;
    const refused = new TokenmeterError('unavailable', `The token store is unavailable: ${reason}`);
    for (const [id, waiting] of this.pending) {
      if (waiting.worker !== worker) continue;
      this.pending.delete(id);
      waiting.reject(refused);
    }
  }
}
