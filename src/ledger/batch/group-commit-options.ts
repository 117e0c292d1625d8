import { invalid } from '../../core/errors.ts';

/** How concurrent writes are grouped into one transaction (group commit). */
export interface GroupCommitOptions {
  /** Most operations decided and committed in one transaction. Default 1,024. */
  maxBatch: number;
  /**
   * How long a batch waits for more operations once the first arrives (ms). Default 0: a batch
   * starts as soon as the event loop is free, so a lone request is not delayed; under load the
   * operations that arrive while one batch commits form the next.
   */
  maxWaitMs: number;
  /** Operations waiting beyond this answer `unavailable` instead of queueing. Default 10,000. */
  maxQueue: number;
}

export const DEFAULT_GROUP_COMMIT: GroupCommitOptions = { maxBatch: 1024, maxWaitMs: 0, maxQueue: 10_000 };

/**
 * Group commit from the environment: TOKENMETER_GROUP_COMMIT=off turns it off (one
 * transaction per operation); TOKENMETER_BATCH_MAX, TOKENMETER_BATCH_WAIT_MS and
 * TOKENMETER_QUEUE_MAX tune it.
 */
export function groupCommitFromEnv(env: Record<string, string | undefined>): GroupCommitOptions | false {
  const mode = (env.TOKENMETER_GROUP_COMMIT ?? 'on').trim().toLowerCase();
  if (mode === 'off' || mode === '0' || mode === 'false') return false;
  if (mode !== 'on' && mode !== '1' && mode !== 'true') {
    throw invalid('TOKENMETER_GROUP_COMMIT', `"${mode}" is not on or off`);
  }
  return {
    maxBatch: intFromEnv(env, 'TOKENMETER_BATCH_MAX', DEFAULT_GROUP_COMMIT.maxBatch, 1, 100_000),
    maxWaitMs: intFromEnv(env, 'TOKENMETER_BATCH_WAIT_MS', DEFAULT_GROUP_COMMIT.maxWaitMs, 0, 1_000),
    maxQueue: intFromEnv(env, 'TOKENMETER_QUEUE_MAX', DEFAULT_GROUP_COMMIT.maxQueue, 10_000, 10_000_000),
  };
}

function intFromEnv(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw invalid(name, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** What group commit has done so far (for the benchmark and /metrics). */
export interface GroupCommitStats {
  batches: number;
  operations: number;
  largestBatch: number;
  /** Operations refused with `unavailable` because the queue was full. */
  rejected: number;
  /** Batches rolled back and re-run one operation per transaction. */
  splits: number;
}
