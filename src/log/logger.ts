import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * JSON logs to stderr (stdout belongs to command output), readable on a terminal through
 * pino-pretty. Secrets never reach a log line: the known fields that carry them are redacted.
 */
export function createLogger(options: { level?: string; pretty?: boolean } = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const redact = {
    paths: ['key', 'apiKey', 'secret', 'token', '*.authorization', 'req.headers.authorization'],
    censor: '[redacted]',
  };
  const pretty = options.pretty ?? (process.stderr.isTTY === true && process.env.NODE_ENV !== 'production');
  if (pretty) {
    return pino({
      level,
      redact,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname' } },
    });
  }
  return pino({ level, redact }, pino.destination(2));
}

export const silentLogger: Logger = pino({ level: 'silent' });
