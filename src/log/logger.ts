import { type DestinationStream, type Logger, pino } from 'pino';

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
  // `background` (the server): lines are written asynchronously, and the lines logged while a
  // write is in flight go out together in the next one, so a busy server does not make one
  // blocking write per request. Pino flushes what is pending when the process exits; a
  // `kill -9` can lose the last lines (never a ledger entry: the ledger is the record).
  // maxWrite 4 KiB: sonic-boom measures the byte length of its pending chunk on every line, so
  // the default 16 KiB chunk made each line cost ~18 µs under load (a 500-item batch request
  // spent 9 ms of the event loop logging); 4 KiB chunks cost ~7.5 µs and still carry ~12 lines
  // per write.
  return pino({ level, redact }, pino.destination({ dest: 2, sync: options.background !== true, maxWrite: 4096 }));
}

export const silentLogger: Logger = pino({ level: 'silent' });
