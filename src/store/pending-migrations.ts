/** What both dialects' migrations share: a version recorded in schema_migrations once applied. */
export interface VersionedMigration {
  version: number;
  name: string;
}

/**
 * The migrations a database has not applied yet, oldest first. Decided by which versions are
 * recorded, not by the highest one: a database that applied a later step (a development build,
 * a branch) still gets an earlier step added since, instead of skipping it for ever.
 */
export function pendingMigrations<M extends VersionedMigration>(all: readonly M[], applied: Iterable<number>): M[] {
  const done = new Set(applied);
  return all.filter((m) => !done.has(m.version)).sort((a, b) => a.version - b.version);
}
