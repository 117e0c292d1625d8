import { invalid } from '../core/errors.ts';

export interface WebhookSettings {
  retryBaseMs: number;
  maxAgeMs: number;
  allowPrivate: boolean;
  /** How long before a grant expires `grant.expiring` is sent. */
  expiringNoticeMs: number;
}

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  retryBaseMs: 5_000,
  maxAgeMs: 3 * 86_400_000,
  allowPrivate: false,
  expiringNoticeMs: 7 * 86_400_000,
};

/**
 * Webhook settings from the environment: TOKENMETER_WEBHOOK_RETRY_BASE_MS (first retry delay),
 * TOKENMETER_WEBHOOK_MAX_AGE_S (how long an event is retried), TOKENMETER_WEBHOOK_ALLOW_PRIVATE
 * (`true`: endpoints may be on loopback and private addresses), TOKENMETER_GRANT_EXPIRING_NOTICE_S
 * (how long before a grant expires `grant.expiring` is sent). A value that cannot be meant is
 * refused at start-up.
 */
export function webhookSettingsFromEnv(env: NodeJS.ProcessEnv): WebhookSettings {
  const positive = (name: string, fallback: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 1) throw invalid(name, `must be a positive whole number (got "${raw}")`);
    return n;
  };
  const allow = env.TOKENMETER_WEBHOOK_ALLOW_PRIVATE?.trim() ?? '';
  if (allow !== '' && allow !== 'true' && allow !== 'false') {
    throw invalid('TOKENMETER_WEBHOOK_ALLOW_PRIVATE', `must be true or false (got "${allow}")`);
  }
  return {
    retryBaseMs: positive('TOKENMETER_WEBHOOK_RETRY_BASE_MS', DEFAULT_WEBHOOK_SETTINGS.retryBaseMs),
    maxAgeMs: positive('TOKENMETER_WEBHOOK_MAX_AGE_S', DEFAULT_WEBHOOK_SETTINGS.maxAgeMs / 1000) * 1000,
    allowPrivate: allow === 'true',
    expiringNoticeMs:
      positive('TOKENMETER_GRANT_EXPIRING_NOTICE_S', DEFAULT_WEBHOOK_SETTINGS.expiringNoticeMs / 1000) * 1000,
  };
}
