import { DatabaseSync } from 'node:sqlite';

/** Opens the SQLite file at `path` directly (no store), runs `fn` on it and closes it. */
export function withDb<T>(path: string, fn: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
