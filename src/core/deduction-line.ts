import { requireAccountId } from './account-id.ts';
import { isTokenmeterError } from './errors.ts';
import { leadingTimestamp, parseIsoTime } from './log-time.ts';

/** One deduction the legacy app logged: `[TOKENS] Deducted {n} tokens from user {id} ({feature}). Balance: {a} → {b}`. */
export interface DeductionLine {
  account: string;
  tokens: number;
  feature: string;
  balanceBefore: number;
  balanceAfter: number;
  /** The line's own timestamp (ms since the epoch), or null when it carries none. */
  at: number | null;
}

/**
 * What a log line is: a deduction, a line that looks like one but cannot be read (reported,
 * never dropped in silence), or anything else the log holds.
 */
export type ParsedLogLine =
  | { kind: 'deduction'; deduction: DeductionLine }
  | { kind: 'unreadable'; reason: string }
  | { kind: 'other' };

const DEDUCTION =
  /(?:\[TOKENS\]\s*)?Deducted\s+(\d{1,15})\s+tokens?\s+from\s+user\s+([^\s()]+)\s+\(([^()]*)\)\.?\s+Balance:\s*(-?\d{1,15})\s*(?:→|->)\s*(-?\d{1,15})(?![\d.])/;
const LOOKS_LIKE = /\bDeducted\b/;

/**
 * Reads one line of a legacy log. The deduction may follow any prefix (a timestamp, a level,
 * a logger name); a leading ISO timestamp is taken as the line's time. A JSON log record
 * (pino, bunyan, winston) is read from its `msg`/`message` and its `time`/`timestamp`. A
 * timestamp that is there but cannot be read makes the line unreadable, never untimed.
 */
export function parseDeductionLine(raw: string): ParsedLogLine {
  const line = raw.trimEnd();
  if (!LOOKS_LIKE.test(line)) return { kind: 'other' };
  const record = line.trimStart().startsWith('{') ? jsonRecord(line) : null;
  const text = record?.message ?? line;
  const m = DEDUCTION.exec(text);
  if (!m) return { kind: 'unreadable', reason: unreadableReason(text) };
  const [, n, account, feature, before, after] = m;
  if (
    n === undefined ||
    account === undefined ||
    feature === undefined ||
    before === undefined ||
    after === undefined
  ) {
    return { kind: 'unreadable', reason: 'not in the deduction format' };
  }
  const badId = accountIdProblem(account);
  if (badId !== null)
    return { kind: 'unreadable', reason: `user "${account.slice(0, 40)}" is not a valid account id (${badId})` };
  let at: number | null = null;
  if (record) {
    if (record.invalidTime !== null) return { kind: 'unreadable', reason: `invalid timestamp (${record.invalidTime})` };
    at = record.at;
  } else {
    const stamp = leadingTimestamp(text.slice(0, m.index));
    if (stamp && stamp.at === null) return { kind: 'unreadable', reason: `invalid timestamp "${stamp.text}"` };
    at = stamp?.at ?? null;
  }
  return {
    kind: 'deduction',
    deduction: {
      account,
      tokens: Number(n),
      feature: feature.trim(),
      balanceBefore: Number(before),
      balanceAfter: Number(after),
      at,
    },
  };
}

function accountIdProblem(id: string): string | null {
  try {
    requireAccountId(id, 'user');
    return null;
  } catch (err) {
    if (isTokenmeterError(err)) return err.message;
    throw err;
  }
}

function unreadableReason(text: string): string {
  if (!/Balance:/.test(text)) return 'a deduction line without "Balance: a → b"';
  if (!/from\s+user\s/.test(text)) return 'a deduction line without "from user {id}"';
  if (!/Deducted\s+\d+\s+tokens?\b/.test(text)) return 'the token count is not a whole number';
  return 'not in the format "Deducted {n} tokens from user {id} ({feature}). Balance: {a} → {b}"';
}

const TIME_FIELDS = ['time', 'timestamp', '@timestamp'] as const;

/**
 * A JSON log record's message and time (epoch milliseconds or ISO-8601). A time field that
 * is there but cannot be read is `invalidTime` (its JSON, clipped): the line is unreadable,
 * like a plain line with a bad timestamp. Read as having no time it would be counted whatever
 * the window, after the import too, where tokenmeter has already charged it.
 */
function jsonRecord(line: string): { message: string; at: number | null; invalidTime: string | null } | null {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof doc !== 'object' || doc === null) return null;
  const fields = doc as Record<string, unknown>;
  const message = [fields.msg, fields.message].find((v): v is string => typeof v === 'string');
  if (message === undefined) return null;
  const name = TIME_FIELDS.find((f) => Object.hasOwn(fields, f));
  if (name === undefined) return { message, at: null, invalidTime: null };
  const time = fields[name];
  const at = typeof time === 'number' ? time : typeof time === 'string' ? parseIsoTime(time) : null;
  if (at === null || !Number.isFinite(at)) {
    return { message, at: null, invalidTime: `${name}: ${String(JSON.stringify(time)).slice(0, 60)}` };
  }
  return { message, at, invalidTime: null };
}
