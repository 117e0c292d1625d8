import { DEFAULT_TOPUP_RETRY_MS } from '../../core/auto-topup.ts';
import { TokenmeterError } from '../../core/errors.ts';

/**
 * `TOKENMETER_TOPUP_RETRY_S`: seconds after a declined automatic top-up before the next try
 * (default 3,600; `0` retries at once, which tests use). Anything but a non-negative integer is refused.
 */
export function topupRetryMsFromEnv(env: Record<string, string | undefined>): number {
  const raw = env.TOKENMETER_TOPUP_RETRY_S?.trim();
  if (raw === undefined || raw === '') return DEFAULT_TOPUP_RETRY_MS;
  const seconds = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(seconds * 1000)) {
    throw new TokenmeterError('config_invalid', `TOKENMETER_TOPUP_RETRY_S must be a whole number of seconds: "${raw}"`);
  }
  return seconds * 1000;
}
