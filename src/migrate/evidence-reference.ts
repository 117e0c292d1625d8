import { createHash } from 'node:crypto';
import type { EvidenceLine } from '../core/deduction-evidence.ts';

/**
 * The reference a recovery's adjustment carries: a SHA-256 of the account, the opening it was
 * computed from, and the distinct log lines it counted (sorted, with their counts). The same
 * recovery run again names the same reference, and the ledger's UNIQUE (kind, source,
 * reference) index lets it happen once; new evidence or another opening is a new recovery.
 */
export function evidenceReference(account: string, opening: number, lines: readonly EvidenceLine[]): string {
  const hash = createHash('sha256');
  hash.update(`tokenmeter recover v1\naccount ${account}\nopening ${opening}\n`);
  const items = lines.map((l) => `${l.count}\t${l.text}`).sort();
  for (const item of items) hash.update(`${item}\n`);
  return `logs-sha256:${hash.digest('hex')}`;
}

/**
 * The identities of the deductions one evidence line stands for. A line is the same line when
 * its text is (the dedupe's rule: a timestamped line met again is the same event); an untimed
 * line repeated n times in a file is n deductions, told apart by their rank, so a fuller copy
 * of the logs adds only the occurrences not counted before.
 */
export function lineKeys(line: EvidenceLine): string[] {
  const digest = createHash('sha256').update(line.text).digest('hex');
  return Array.from({ length: line.count }, (_, i) => `sha256:${digest}:${i + 1}`);
}

/** The reference of a recovery's adjustment: a SHA-256 of what it counted for the first time. */
export function freshReference(account: string, opening: number, keys: readonly string[]): string {
  const hash = createHash('sha256');
  hash.update(`tokenmeter recover v2\naccount ${account}\nopening ${opening}\n`);
  for (const key of [...keys].sort()) hash.update(`${key}\n`);
  return `logs-sha256:${hash.digest('hex')}`;
}
