/** The longest wait between two tries of one delivery: one hour. */
export const MAX_RETRY_DELAY_MS = 3_600_000;

/** Past this the nominal delay is at the cap for any base of 1 ms or more; it keeps 2^n finite. */
const MAX_EXPONENT = 32;

/**
 * The nominal wait after the `attempts`-th failed try: `baseMs` doubled each time, capped at
 * one hour. Jitter is applied on top of it by `nextAttemptAt`.
 *
 * @example nominalRetryDelayMs(1, 5_000) // 5_000; nominalRetryDelayMs(3, 5_000) // 20_000
 */
export function nominalRetryDelayMs(attempts: number, baseMs: number): number {
  if (!Number.isSafeInteger(attempts) || attempts < 1) throw new RangeError(`attempts must be >= 1: ${attempts}`);
  if (!Number.isSafeInteger(baseMs) || baseMs < 1) throw new RangeError(`baseMs must be a positive integer: ${baseMs}`);
  return Math.min(baseMs * 2 ** Math.min(attempts - 1, MAX_EXPONENT), MAX_RETRY_DELAY_MS);
}

export interface NextAttemptInput {
  /** Tries made so far (the one that just failed included), >= 1. */
  attempts: number;
  /** When the event was created, epoch ms: the delivery gives up `maxAgeMs` after it. */
  createdAt: number;
  /** When the failed try ended, epoch ms (passed in: this module reads no clock). */
  now: number;
  /** The first wait (`TOKENMETER_WEBHOOK_RETRY_BASE_MS`), a positive integer. */
  baseMs: number;
  /** How long after `createdAt` a try may still start (`TOKENMETER_WEBHOOK_MAX_AGE_S` × 1000). */
  maxAgeMs: number;
  /** A uniform random number in [0, 1): the jitter. */
  random: number;
}

/**
 * When to try a failed delivery again, or null to give up (mark it `failed`) because that try
 * would start past `createdAt + maxAgeMs`.
 *
 * Jitter ("equal jitter"): the wait is uniform in [nominal/2, nominal], rounded up to a whole
 * millisecond, so endpoints that failed together (one receiver's outage) spread their retries
 * out instead of returning at the same instant, while the wait never falls below half of the
 * backoff. The wait is at least 1 ms, so the next try is always strictly after `now`.
 *
 * @example nextAttemptAt({ attempts: 1, createdAt: t, now: t + 300, baseMs: 5_000, maxAgeMs: 259_200_000, random: 0.5 }) // t + 300 + 3_750
 */
export function nextAttemptAt(input: NextAttemptInput): number | null {
  const { random } = input;
  if (!(random >= 0 && random < 1)) throw new RangeError(`random must be in [0, 1): ${random}`);
  const nominal = nominalRetryDelayMs(input.attempts, input.baseMs);
  const delay = Math.max(1, Math.ceil(nominal / 2 + (random * nominal) / 2));
  const next = input.now + delay;
  return next > input.createdAt + input.maxAgeMs ? null : next;
}
