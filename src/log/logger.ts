import { type DestinationStream, type Logger, pino } from 'pino';
import { TurnBatchedDestination } from './turn-batched-destination.ts';

export type { Logger };

/**
 * The fields that carry secrets, wherever our log calls can put them. Named one by one: a
 * wildcard (`*.authorization`) made pino's redaction build ~6× the garbage of the line itself on
 * every call (measured on the per-deduction line: 913 young-generation collections per 300,000
 * lines against 146), which under load was most of the server's allocation.
 */
const REDACTED_PATHS = [
  'key',
  'apiKey',
  'secret',
  'token',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'err.headers.authorization',
  'options.headers.authorization',
] as const;

/**
 * JSON logs to stderr (stdout belongs to command output), readable on a terminal through
 * pino-pretty. Secrets never reach a log line: the known fields that carry them are redacted.
 */
export function createLogger(
  options: { level?: string; pretty?: boolean; background?: boolean; destination?: DestinationStream } = {},
): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const redact = { paths: [...REDACTED_PATHS], censor: '[redacted]' };
  if (options.destination) return pino({ level, redact }, options.destination);
  const pretty = options.pretty ?? (process.stderr.isTTY === true && process.env.NODE_ENV !== 'production');
  if (pretty) {
    return pino({
      level,
      redact,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname' } },
    });
  }
  if (options.background !== true) return pino({ level, redact }, pino.destination({ dest: 2, sync: true }));
  // The server: lines are written asynchronously, those logged in one turn of the event loop as
  // one write (`TurnBatchedDestination`), so a busy server makes neither a blocking write per
  // request nor a copy of its pending chunk per line. Pending lines are written when the process
  // exits; a `kill -9` can lose the last ones (never a ledger entry: the ledger is the record).
  return pino({ level, redact }, new TurnBatchedDestination(pino.destination({ dest: 2, sync: false })));
}

export const silentLogger: Logger = pino({ level: 'silent' });
