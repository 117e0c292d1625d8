import { m001Ledger } from './m001-ledger.ts';
import { m002Service } from './m002-service.ts';
import { m003Payments } from './m003-payments.ts';
import { m004PaymentFacts } from './m004-payment-facts.ts';
import { m005RecoveredLines } from './m005-recovered-lines.ts';
import { m006KeyedDebits } from './m006-keyed-debits.ts';
import { m007Grants } from './m007-grants.ts';
import { m008Events } from './m008-events.ts';
import { m009ScheduledGrants } from './m009-scheduled-grants.ts';
import { m010AutoTopup } from './m010-auto-topup.ts';
import { m011Pools } from './m011-pools.ts';
import { m012PermanentAccounts } from './m012-permanent-accounts.ts';
import { m013KeyedDebitCheck } from './m013-keyed-debit-check.ts';
import { m014LedgerTimeIndex } from './m014-ledger-time-index.ts';
import { m015FeatureIndexes } from './m015-feature-indexes.ts';
import { m016LedgerInTime } from './m016-ledger-in-time.ts';
import { m017RareEntryIndexes } from './m017-rare-entry-indexes.ts';
import { m018ReferenceProbes } from './m018-reference-probes.ts';
import { m019ChecksWithoutInLists } from './m019-checks-without-in-lists.ts';
import { m020TopupAttemptCharge } from './m020-topup-attempt-charge.ts';
import type { SchemaDialect } from './schema-dialect.ts';
import type { Migration, SchemaMigration } from './schema-migration.ts';

/**
 * tokenmeter's schema, each step once, oldest first. Money rules live here, where no caller can
 * skip them: NOT NULL with defaults on every balance and counter, CHECKs on what can never be
 * negative, a UNIQUE reference per idempotent entry kind, an append-only ledger.
 *
 * To add a step: write `mNNN-<name>.ts` exporting a SchemaMigration with the next version and a
 * new snake_case name, its SQL over the dialect (`d.int` for integers, `d.tableOptions` after each
 * CREATE TABLE, `d.serialId` for ids; anything else SQLite and PostgreSQL spell differently goes
 * into SchemaDialect), and append it below. A CHECK or partial index that SQLite evaluates on a
 * hot table takes no IN list of three or more values (`withoutInLists`, sqlite-check-lists.ts:
 * SQLite rebuilds such a list for every row). Never edit a released step: databases have applied
 * it and will not run it again (test/store/schema-*.test.ts compares a fresh database of steps
 * 1 to 6 with one made before the schema was written once).
 */
export const SCHEMA_MIGRATIONS: readonly SchemaMigration[] = [
  m001Ledger,
  m002Service,
  m003Payments,
  m004PaymentFacts,
  m005RecoveredLines,
  m006KeyedDebits,
  m007Grants,
  m008Events,
  m009ScheduledGrants,
  m010AutoTopup,
  m011Pools,
  m012PermanentAccounts,
  m013KeyedDebitCheck,
  m014LedgerTimeIndex,
  m015FeatureIndexes,
  m016LedgerInTime,
  m017RareEntryIndexes,
  m018ReferenceProbes,
  m019ChecksWithoutInLists,
  m020TopupAttemptCharge,
];

/** Every step rendered in one backend's SQL. */
export function migrationsFor(dialect: SchemaDialect): Migration[] {
  return SCHEMA_MIGRATIONS.map((m) => ({ version: m.version, name: m.name, sql: m.sql(dialect) }));
}
