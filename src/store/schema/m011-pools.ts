import type { SchemaDialect } from './schema-dialect.ts';
import type { SchemaMigration } from './schema-migration.ts';

/** Why the database refused a membership: the one-level rule. */
export const ONE_LEVEL_MESSAGE = 'pool membership is one level: a pool cannot be a member, nor a member a pool';

/**
 * The write that would break the one-level rule, over the `NEW.` row of `accounts`: joining
 * itself, joining an account that is itself a member, joining while members name this account
 * as their pool, or naming a pool without its membership row.
 */
const BREAKS_ONE_LEVEL = `NEW.pool_id = NEW.id
    OR (SELECT a.pool_id FROM accounts a WHERE a.id = NEW.pool_id) IS NOT NULL
    OR EXISTS (SELECT 1 FROM accounts a WHERE a.pool_id = NEW.id)
    OR NOT EXISTS (SELECT 1 FROM pool_members m WHERE m.pool_id = NEW.pool_id AND m.member_id = NEW.id)`;

const sqliteTriggers = `
CREATE TRIGGER accounts_pool_insert BEFORE INSERT ON accounts
  WHEN NEW.pool_id IS NOT NULL AND (${BREAKS_ONE_LEVEL})
  BEGIN SELECT RAISE(ABORT, '${ONE_LEVEL_MESSAGE}'); END;
CREATE TRIGGER accounts_pool_update BEFORE UPDATE OF pool_id ON accounts
  WHEN NEW.pool_id IS NOT NULL AND NEW.pool_id IS NOT OLD.pool_id AND (${BREAKS_ONE_LEVEL})
  BEGIN SELECT RAISE(ABORT, '${ONE_LEVEL_MESSAGE}'); END;`;

const pgTriggers = `
CREATE FUNCTION accounts_pool_one_level() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.pool_id IS NOT DISTINCT FROM OLD.pool_id THEN RETURN NEW; END IF;
  IF ${BREAKS_ONE_LEVEL} THEN
    RAISE EXCEPTION '${ONE_LEVEL_MESSAGE}' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER accounts_pool_one_level BEFORE INSERT OR UPDATE OF pool_id ON accounts FOR EACH ROW
  WHEN (NEW.pool_id IS NOT NULL)
  EXECUTE FUNCTION accounts_pool_one_level();`;

/** The columns version 11 adds to holds, in their order (released: never edit; version 19 rebuilds the table on SQLite). */
export const V11_POOL_HOLD_COLUMNS = (d: SchemaDialect) => [
  `pool_hold ${d.int}`,
  `pool_amount ${d.int} NOT NULL DEFAULT 0 ${d.addedCheck('holds_pool_amount_range', 'pool_amount >= 0 AND pool_amount <= amount')}`,
  'member_id TEXT',
];

/** A member's entries in its pool, by time; version 13 makes it again after rebuilding the ledger (released: never edit). */
export const MEMBER_ENTRIES_INDEX = `CREATE INDEX ledger_entries_member ON ledger_entries (account_id, member_id, at) WHERE member_id IS NOT NULL;`;

/**
 * Shared pools. `accounts.pool_id` is an account's current pool (null: none), written only by
 * joining and leaving, under both accounts' locks; a trigger holds it to one level. Each
 * (pool, member) pair has one `pool_members` row for good: its limit, what the member drew from
 * the pool in the pool's cycle starting `cycle_start`, and what its live holds reserve there.
 * A row outlives the membership (leaving keeps it), so a hold reserved before leaving still
 * commits against it and rejoining in the same cycle does not reset the usage. Usage moves by
 * deltas guarded in the write: no write may raise `used_this_cycle + held` above the limit.
 *
 * A member's deduction writes an entry on the member (`pool_id` the pool, `pooled` the pool's
 * part of the use) and, for the pool's part, one on the pool (`member_id` the member); a member's
 * hold reserves its pool part as a hold of the pool's (`member_id`), linked from the member's
 * hold (`pool_hold`, with `pool_amount` of its `amount` reserved there).
 */
export const m011Pools: SchemaMigration = {
  version: 11,
  name: 'pools',
  sql: (d) => `
CREATE TABLE pool_members (
  pool_id TEXT NOT NULL REFERENCES accounts (id),
  member_id TEXT NOT NULL REFERENCES accounts (id),
  limit_per_cycle ${d.int} CHECK (limit_per_cycle IS NULL OR limit_per_cycle >= 0),
  used_this_cycle ${d.int} NOT NULL DEFAULT 0 CHECK (used_this_cycle >= 0),
  held ${d.int} NOT NULL DEFAULT 0 CHECK (held >= 0),
  cycle_start ${d.int} NOT NULL,
  joined_at ${d.int} NOT NULL,
  updated_at ${d.int} NOT NULL,
  PRIMARY KEY (pool_id, member_id),
  CHECK (pool_id <> member_id)
)${d.tableOptions};
${d.updatedInPlace('pool_members')}
CREATE INDEX pool_members_member ON pool_members (member_id);

ALTER TABLE accounts ADD COLUMN pool_id TEXT REFERENCES accounts (id);
CREATE INDEX accounts_pool ON accounts (pool_id) WHERE pool_id IS NOT NULL;

ALTER TABLE ledger_entries ADD COLUMN pool_id TEXT;
ALTER TABLE ledger_entries ADD COLUMN member_id TEXT;
ALTER TABLE ledger_entries ADD COLUMN pooled ${d.int} NOT NULL DEFAULT 0 ${d.addedCheck('ledger_entries_pooled_range', 'pooled >= 0')};
${MEMBER_ENTRIES_INDEX}

${V11_POOL_HOLD_COLUMNS(d)
  .map((column) => `ALTER TABLE holds ADD COLUMN ${column};`)
  .join('\n')}
${d.backend === 'postgres' ? pgTriggers : sqliteTriggers}
`,
};
