import type { SchemaMigration } from './schema-migration.ts';

const MESSAGE = 'topup_intents: an attempt starts with what it charges for, and charges that until it ends';

/**
 * The update the trigger refuses: an intent moved to `charging` (an attempt starting) without
 * what it charges for, or an attempt under way whose number or charge changes.
 */
const CHARGE_CHANGED = `NEW.status = 'charging' AND (
    (OLD.status <> 'charging' AND NEW.package_id IS NULL)
    OR (OLD.status = 'charging' AND (NEW.attempt <> OLD.attempt
      OR NEW.package_id IS DISTINCT FROM OLD.package_id OR NEW.tokens IS DISTINCT FROM OLD.tokens
      OR NEW.amount IS DISTINCT FROM OLD.amount OR NEW.currency IS DISTINCT FROM OLD.currency)))`;

const sqliteTrigger = `
CREATE TRIGGER topup_intents_charge_fixed BEFORE UPDATE ON topup_intents
  WHEN ${CHARGE_CHANGED}
  BEGIN SELECT RAISE(ABORT, '${MESSAGE}'); END;`;

const pgTrigger = `
CREATE FUNCTION topup_intents_charge_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '${MESSAGE}' USING ERRCODE = 'check_violation';
END
$$;
CREATE TRIGGER topup_intents_charge_fixed BEFORE UPDATE ON topup_intents FOR EACH ROW
  WHEN (${CHARGE_CHANGED})
  EXECUTE FUNCTION topup_intents_charge_fixed();`;

/**
 * An automatic top-up attempt's charge is fixed when it starts: the package, its tokens and its
 * price (`amount`, `currency`) are written on the intent in the conditional UPDATE that moves it
 * to `charging`, and stay while it charges, so a retry, a recovery and the credit all use what the
 * provider was asked to charge, never the package chosen since. The four columns are set together
 * or not at all, and a pending intent (between attempts) holds none. Intents charging when this
 * step runs keep none (what they charge was never recorded); the payment rules check their
 * credit against the package's price instead.
 */
export const m020TopupAttemptCharge: SchemaMigration = {
  version: 20,
  name: 'topup_attempt_charge',
  sql: (d) => `
ALTER TABLE topup_intents ADD COLUMN package_id TEXT ${d.addedCheck('topup_intents_package_id_length', 'package_id IS NULL OR length(package_id) BETWEEN 1 AND 64')};
ALTER TABLE topup_intents ADD COLUMN tokens ${d.int} ${d.addedCheck('topup_intents_tokens_range', 'tokens IS NULL OR tokens > 0')};
ALTER TABLE topup_intents ADD COLUMN amount ${d.int} ${d.addedCheck('topup_intents_amount_range', 'amount IS NULL OR amount >= 0')};
ALTER TABLE topup_intents ADD COLUMN currency TEXT ${d.addedCheck(
    'topup_intents_charge_whole',
    `(package_id IS NULL) = (currency IS NULL) AND (tokens IS NULL) = (currency IS NULL)
    AND (amount IS NULL) = (currency IS NULL) AND (status <> 'pending' OR currency IS NULL)`,
  )};
${d.backend === 'postgres' ? pgTrigger : sqliteTrigger}
`,
};
