import { TokenmeterError } from '../core/errors.ts';
import { topupRetryMsFromEnv } from '../ledger/topup/topup-env.ts';

export interface TopupWorkerSettings {
  /** `TOKENMETER_TOPUP_LEASE_S` (default 120): how long a worker's claim on an intent lasts. */
  leaseMs: number;
  /** An unknown outcome is asked about again after the retry delay, kept between 1 and 60 seconds. */
  recheckMs: number;
}

const DEFAULT_LEASE_S = 120;

/** The top-up worker's timing from the environment; a value that is not a positive whole number of seconds is refused. */
export function topupWorkerSettingsFromEnv(env: Record<string, string | undefined>): TopupWorkerSettings {
  const raw = env.TOKENMETER_TOPUP_LEASE_S?.trim();
  const lease = raw === undefined || raw === '' ? DEFAULT_LEASE_S : Number(raw);
  if (!/^\d+$/.test(String(lease)) || lease < 1 || !Number.isSafeInteger(lease * 1000)) {
    throw new TokenmeterError(
      'config_invalid',
      `TOKENMETER_TOPUP_LEASE_S must be a whole number of seconds, at least 1: "${raw}"`,
    );
  }
  return { leaseMs: lease * 1000, recheckMs: Math.min(60_000, Math.max(1_000, topupRetryMsFromEnv(env))) };
}
