import { TokenmeterError } from '../../core/errors.ts';

/** SQLite reports a busy database or a full disk as errors; callers see `unavailable`. */
export function translateSqliteError(err: unknown): unknown {
  if (err instanceof Error && 'errcode' in err) {
    const code = Number((err as { errcode: unknown }).errcode) & 0xff;
    // SQLITE_BUSY 5, SQLITE_LOCKED 6, SQLITE_IOERR 10, SQLITE_FULL 13, SQLITE_CANTOPEN 14
    if ([5, 6, 10, 13, 14].includes(code)) {
      return new TokenmeterError('unavailable', `The token store is unavailable: ${err.message}`);
    }
  }
  return err;
}
