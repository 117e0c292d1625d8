import { ERROR_CODES, type ErrorCode, TokenmeterError } from '../../core/errors.ts';
import { WriteConflictError } from '../write-conflict.ts';
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

/** An error as data: enough to rebuild the kind callers check for. */
export interface WireError {
  name: string;
  message: string;
  stack: string | undefined;
  /** TokenmeterError's code and field. */
  code: string | undefined;
  field: string | undefined;
  /** node:sqlite's result code, which `translateSqliteError` reads. */
  errcode: number | undefined;
  errstr: string | undefined;
}

export function toWire(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  const extra = e as Error & { code?: unknown; field?: unknown; errcode?: unknown; errstr?: unknown };
  return {
    name: e.name,
    message: e.message,
    stack: e.stack,
    code: typeof extra.code === 'string' ? extra.code : undefined,
    field: typeof extra.field === 'string' ? extra.field : undefined,
    errcode: typeof extra.errcode === 'number' ? extra.errcode : undefined,
    errstr: typeof extra.errstr === 'string' ? extra.errstr : undefined,
  };
}

/** Rebuilds an error of the same kind on this side (instanceof checks and codes hold). */
export function fromWire(wire: WireError): Error {
  let err: Error;
  if (wire.name === 'TokenmeterError' && isErrorCode(wire.code)) {
    err = new TokenmeterError(wire.code, wire.message, wire.field);
  } else if (wire.name === 'WriteConflictError') {
    err = new WriteConflictError(wire.message);
  } else {
    const Standard = STANDARD_ERRORS[wire.name];
    err = Standard ? new Standard(wire.message) : new Error(wire.message);
    err.name = wire.name;
    if (wire.code !== undefined) Object.assign(err, { code: wire.code });
    if (wire.errcode !== undefined) Object.assign(err, { errcode: wire.errcode, errstr: wire.errstr });
  }
  // The worker's stack says where it failed; this side's would only name the message handler.
  if (wire.stack !== undefined) err.stack = wire.stack;
  return err;
}

/** JavaScript's own error classes, rebuilt as themselves (a `TypeError` stays one). */
const STANDARD_ERRORS: Record<string, ErrorConstructor | undefined> = {
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

function isErrorCode(code: string | undefined): code is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code ?? '');
}
