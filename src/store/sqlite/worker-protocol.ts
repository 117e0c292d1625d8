import type { WireError } from '../wire-error.ts';
import type { SqliteSynchronous } from './sqlite-connection.ts';

// The messages between the main thread and the SQLite writer thread. Every request carries an
// id and gets exactly one reply with it; a transaction's requests carry its id too, and are
// served in the order sent, inside one `store.write` in the worker.

/** What the worker opens. */
export interface WorkerOptions {
  path: string;
  busyTimeoutMs: number;
  synchronous: SqliteSynchronous;
}

export type WorkerRequest =
  /** A method of the hosted store (`migrate`, `close`, a read) or of its `service`. */
  | { id: number; kind: 'store' | 'service'; method: string; args: unknown[] }
  /** A method of transaction `tx`'s `WriteTx`; `path` is `method` or `child.method` (`payments.insertEvent`). */
  | { id: number; kind: 'tx'; tx: number; path: string; args: unknown[] }
  /** Ends transaction `tx`: COMMIT, or ROLLBACK. */
  | { id: number; kind: 'end'; tx: number; commit: boolean }
  /** Loads `module` and makes host `host` from it (see `WriterThread.host`). */
  | { id: number; kind: 'host'; host: number; module: string; setup: unknown }
  /** A method of host `host`. */
  | { id: number; kind: 'call'; host: number; method: string; args: unknown[] };

export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

/** What a host passed to `notify`; sent before any answer the host gives after it. */
export interface WorkerNotice {
  notice: number;
  value: unknown;
}

/** The worker sends what it has to say in order, gathered into one message per turn of its event loop. */
export type WorkerMessage = (WorkerReply | WorkerNotice)[];

/** What the reader thread opens (`reader-thread.ts`): its own connection to the same file. */
export interface ReaderOptions {
  path: string;
  busyTimeoutMs: number;
}

/** A read for the reader thread (a method of `SqliteReads` or of the service's queries), or its end. */
export type ReaderRequest = Extract<WorkerRequest, { kind: 'store' | 'service' }> | { kind: 'close' };
