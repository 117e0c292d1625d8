import { ERROR_CODES, type ErrorCode, TokenmeterError } from '../core/errors.ts';
import { WriteConflictError } from './write-conflict.ts';

// Errors crossing between threads (SQLite's writer thread and the main thread): a structured
// clone keeps an Error's message but not its class or its own fields, so an error goes as data
// and is rebuilt as the kind callers check for on the other side.

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
