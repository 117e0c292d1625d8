/** A rule every row inserted from now on must meet, while rows already there are left be. */
export interface NewRowsCheck {
  table: string;
  /** The constraint's (PostgreSQL) or trigger's (SQLite) name. */
  name: string;
  /** The condition each new row satisfies, over its columns. */
  check: string;
  /** The same rule as the condition that breaks it, over `NEW.` columns: what a guarding trigger fires on. */
  violation: string;
  /** The error a trigger raises. */
  message: string;
}

/**
 * What truly differs in the DDL of tokenmeter's schema between SQLite and PostgreSQL. Each
 * migration (`schema-migrations.ts`) is written once as SQL over this; everything else (TEXT,
 * CHECK, NOT NULL with defaults, UNIQUE, partial indexes, foreign keys) is spelled alike.
 * SQLite keeps each statement's text in its schema as written, so what this renders for SQLite
 * is exactly the text the migrations have always run (test/store/schema-sqlite.test.ts).
 */
export interface SchemaDialect {
  /**
   * Which backend: for the one kind of step the two cannot share, changing a table's CHECK (SQLite
   * rebuilds the table, PostgreSQL replaces the constraint; see m007-grants.ts).
   */
  readonly backend: 'sqlite' | 'postgres';
  /** Every amount, time, counter and id: SQLite's INTEGER is 64-bit, PostgreSQL's bigint. */
  readonly int: string;
  /** What follows a CREATE TABLE's closing parenthesis. */
  readonly tableOptions: string;
  /** A surrogate key column: its type and PRIMARY KEY, ids never reused. */
  readonly serialId: string;
  /**
   * A CHECK on a column added by ALTER TABLE. PostgreSQL names it, so a later step can find and
   * drop it; SQLite added such columns with the bare CHECK (it cannot drop one anyway).
   */
  addedCheck(name: string, condition: string): string;
  /** Statements that make `table` append-only: any UPDATE or DELETE fails with `message`. */
  appendOnly(table: string, message: string): string;
  /** Statements that hold every row inserted from now on to `rule`, leaving existing rows be. */
  newRowsCheck(rule: NewRowsCheck): string;
  /**
   * Statements that refuse a ledger entry earlier than an entry its account already has, or than
   * the entry before it in the same statement (by id): migration 16's rule (`name` the trigger's,
   * and on PostgreSQL its function's).
   */
  ledgerInTime(name: string, message: string): string;
  /**
   * Statements for a table whose rows are updated on the hot path (no indexed column changes):
   * PostgreSQL leaves room in each page so an update stays on its page without touching the
   * indexes (a HOT update); SQLite updates in place anyway.
   */
  updatedInPlace(table: string): string;
  /**
   * Statements that make `table`'s rows permanent: DELETE (and TRUNCATE) fail with `message`, and
   * so does an UPDATE that changes `key`.
   */
  permanentRows(table: string, key: string, message: string): string;
  /**
   * Statements that check `table.column` names a row of `parent` (by `parentKey`) once per
   * statement instead of once per row. SQLite keeps its foreign key (an index probe a row);
   * PostgreSQL drops it for one set-based check after each INSERT. Only for a parent whose
   * rows are permanent (see `permanentRows`): the foreign key's lock on the parent row, which
   * keeps it from being deleted meanwhile, is then not needed.
   */
  referencesPerStatement(table: string, column: string, parent: string, parentKey: string): string;
  /**
   * Statements that make `referencesPerStatement`'s check probe `parent`'s key once for each
   * distinct value the statement's new rows name, whatever plan a connection made at its first
   * statement (migration 18).
   */
  referencesProbed(table: string, column: string, parent: string, parentKey: string): string;
}

/**
 * STRICT tables: an INTEGER column refuses 1.5 and '5'. AUTOINCREMENT: a deleted row's id is
 * never handed out again. Triggers guard what SQLite has no constraint for.
 */
export const SQLITE_SCHEMA: SchemaDialect = {
  backend: 'sqlite',
  int: 'INTEGER',
  tableOptions: ' STRICT',
  serialId: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  addedCheck: (_name, condition) => `CHECK (${condition})`,
  appendOnly: (table, message) => `CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table}
  BEGIN SELECT RAISE(ABORT, '${message}'); END;
CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
  BEGIN SELECT RAISE(ABORT, '${message}'); END;`,
  // SQLite cannot add a CHECK to an existing table, nor one that spares the rows already there.
  newRowsCheck: (rule) => `CREATE TRIGGER ${rule.name} BEFORE INSERT ON ${rule.table}
  WHEN ${rule.violation}
  BEGIN SELECT RAISE(ABORT, '${rule.message}'); END;`,
  // A row trigger, run before each row goes in: one probe at the end of the account's range of
  // ledger_entries_account_at (1.2 µs a row in a micro-benchmark of 256-row transactions, where
  // the index by account and id it replaces cost several times that).
  ledgerInTime: (name, message) => `CREATE TRIGGER ${name} BEFORE INSERT ON ledger_entries
  WHEN NEW.at < (SELECT e.at FROM ledger_entries e WHERE e.account_id = NEW.account_id ORDER BY e.at DESC LIMIT 1)
  BEGIN SELECT RAISE(ABORT, '${message}'); END;`,
  updatedInPlace: () => '',
  permanentRows: (table, key, message) => `CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
  BEGIN SELECT RAISE(ABORT, '${message}'); END;
CREATE TRIGGER ${table}_${key}_fixed BEFORE UPDATE OF ${key} ON ${table} WHEN NEW.${key} IS NOT OLD.${key}
  BEGIN SELECT RAISE(ABORT, '${message}'); END;`,
  // A foreign key costs SQLite an index probe a row, no more than a check would.
  referencesPerStatement: () => '',
  referencesProbed: () => '',
};

/**
 * PostgreSQL's types are strict already. Identity columns for ids; a statement-level trigger for
 * append-only tables, so a refused UPDATE or DELETE fails even when it matches no row, and
 * TRUNCATE too; a NOT VALID check for a rule only new rows must meet.
 */
export const PG_SCHEMA: SchemaDialect = {
  backend: 'postgres',
  int: 'bigint',
  tableOptions: '',
  serialId: 'bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
  addedCheck: (name, condition) => `CONSTRAINT ${name} CHECK (${condition})`,
  appendOnly: (table, message) => `CREATE FUNCTION ${table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '${message}' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ${table}
  FOR EACH STATEMENT EXECUTE FUNCTION ${table}_append_only();`,
  newRowsCheck: (rule) => `ALTER TABLE ${rule.table} ADD CONSTRAINT ${rule.name}
  CHECK (${rule.check}) NOT VALID;`,
  // Once per statement, over its new rows (a row trigger's SPI query cost a quarter of one hot
  // account's throughput): an account's new rows must not go back in time in id order, and no
  // entry it had before may be later than its first new row, i.e. the entries later than that
  // row are exactly its new ones (a count along ledger_entries_account_at, as many index
  // entries as the statement wrote). Without sequential scans: the plan is made once per
  // connection, perhaps while the ledger is empty, when scanning it looks as cheap as anything.
  // A writer that lost a race (an account another transaction created after this one looked)
  // meets the rule before the conflict it would have met, so it fails the same way, as a
  // serialization failure, which the store runs again.
  ledgerInTime: (name, message) => `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (
    WITH n AS (
      SELECT account_id, at, lag(at) OVER w AS prev, first_value(at) OVER w AS first_at
      FROM new_rows WINDOW w AS (PARTITION BY account_id ORDER BY id)),
    firsts AS (
      SELECT account_id, min(first_at) AS first_at, count(*) FILTER (WHERE at > first_at) AS later
      FROM n GROUP BY account_id)
    SELECT 1 FROM n WHERE n.at < n.prev
    UNION ALL
    SELECT 1 FROM firsts f
    WHERE (SELECT count(*) FROM ledger_entries e WHERE e.account_id = f.account_id AND e.at > f.first_at) > f.later
  ) THEN
    RAISE EXCEPTION '${message}' USING ERRCODE = 'serialization_failure';
  END IF;
  RETURN NULL;
END
$$ SET enable_seqscan = off;
CREATE TRIGGER ${name} AFTER INSERT ON ledger_entries REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ${name}();`,
  updatedInPlace: (table) => `ALTER TABLE ${table} SET (fillfactor = 80);`,
  permanentRows: (table, key, message) => `CREATE FUNCTION ${table}_permanent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '${message}' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER ${table}_no_delete BEFORE DELETE OR TRUNCATE ON ${table}
  FOR EACH STATEMENT EXECUTE FUNCTION ${table}_permanent();
CREATE TRIGGER ${table}_${key}_fixed BEFORE UPDATE OF ${key} ON ${table}
  FOR EACH ROW WHEN (NEW.${key} IS DISTINCT FROM OLD.${key}) EXECUTE FUNCTION ${table}_permanent();`,
  // A foreign key runs a query (through SPI) and takes a row lock for each inserted row: on a
  // batch of 256 debits, a third of the whole write statement.
  referencesPerStatement: (table, column, parent, parentKey) => `DO $$
DECLARE fk text;
BEGIN
  FOR fk IN SELECT conname FROM pg_constraint
            WHERE conrelid = '${table}'::regclass AND confrelid = '${parent}'::regclass AND contype = 'f' LOOP
    EXECUTE format('ALTER TABLE ${table} DROP CONSTRAINT %I', fk);
  END LOOP;
END
$$;
${pgReferenceCheck(table, column, parent, 'CREATE', `SELECT 1 FROM new_rows n WHERE NOT EXISTS (SELECT 1 FROM ${parent} p WHERE p.${parentKey} = n.${column})`, '')}
CREATE TRIGGER ${table}_${column}_exists AFTER INSERT ON ${table} REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ${table}_${column}_exists();`,
  // The check above is planned at a connection's first INSERT and kept: for a first statement of
  // some dozens of rows the planner may choose to hash every row of `parent` (a scan of 10,000
  // accounts for 80 entries, kept for every statement after it). A scalar lookup per distinct
  // value can only be planned as a probe of the key, and sequential scans are off besides.
  referencesProbed: (table, column, parent, parentKey) =>
    pgReferenceCheck(
      table,
      column,
      parent,
      'CREATE OR REPLACE',
      `SELECT 1 FROM (SELECT DISTINCT ${column} FROM new_rows) n
    WHERE (SELECT p.${parentKey} FROM ${parent} p WHERE p.${parentKey} = n.${column}) IS NULL`,
      ' SET enable_seqscan = off',
    ),
};

/** The function behind the trigger `referencesPerStatement` makes: fails when `violation` finds a row. */
function pgReferenceCheck(
  table: string,
  column: string,
  parent: string,
  create: 'CREATE' | 'CREATE OR REPLACE',
  violation: string,
  options: string,
): string {
  return `${create} FUNCTION ${table}_${column}_exists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (${violation}) THEN
    RAISE EXCEPTION 'insert into ${table}: ${column} is not in ${parent}' USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END
$$${options};`;
}
