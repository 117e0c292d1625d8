import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { gzipSync } from 'node:zlib';

/** A legacy user as the seed app stored it; undefined columns are NULL. */
export interface LegacyUser {
  id: number | string;
  balance?: number | string | null;
  used?: number | null;
  plan?: string | null;
}

let counter = 0;

/** Creates the seed app's `users` table (Sequelize names) in a new SQLite file and returns its path. */
export function legacySqlite(dir: string, users: readonly LegacyUser[]): string {
  counter += 1;
  const file = path.join(dir, `legacy-${counter}.db`);
  const db = new DatabaseSync(file);
  try {
    db.exec(`CREATE TABLE users (
      id INTEGER PRIMARY KEY, email TEXT, tokens_balance INTEGER, tokens_used_this_month INTEGER,
      token_package TEXT, billing_cycle_start TEXT)`);
    const insert = db.prepare(
      'INSERT INTO users (id, email, tokens_balance, tokens_used_this_month, token_package) VALUES (?, ?, ?, ?, ?)',
    );
    for (const u of users)
      insert.run(u.id, `user${u.id}@example.com`, u.balance ?? null, u.used ?? null, u.plan ?? null);
  } finally {
    db.close();
  }
  return file;
}

/** The seed's user 7: balance, used count and package all NULL. */
export const SEED_USER_7: LegacyUser = { id: 7, balance: null, used: null, plan: null };

/** A seed deduction line, as the legacy app logged it, with a leading ISO timestamp. */
export function seedLogLine(at: Date, account = '7', before = 100, after = 99, tokens = 1): string {
  return `${at.toISOString()} [INFO] [TOKENS] Deducted ${tokens} tokens from user ${account} (outbound_call_single). Balance: ${before} → ${after}`;
}

/** The seed incident's log: each call preceded by the NULL warning, n times "Balance: 100 → 99", a minute apart. */
export function seedIncidentLines(n: number, start = Date.parse('2025-11-04T09:00:00Z')): string[] {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const at = new Date(start + i * 60_000);
    lines.push(`${at.toISOString()} [WARN] ⚠️ User 7 had NULL token balance, set to 100`);
    lines.push(seedLogLine(at));
  }
  return lines;
}

let logCounter = 0;

/** Writes log lines to a new file (gzip when asked) and returns its path. */
export function writeLog(dir: string, lines: readonly string[], options: { gzip?: boolean } = {}): string {
  logCounter += 1;
  const text = `${lines.join('\n')}\n`;
  const file = path.join(dir, `app-${logCounter}.log${options.gzip ? '.gz' : ''}`);
  fs.writeFileSync(file, options.gzip ? gzipSync(text) : text);
  return file;
}
