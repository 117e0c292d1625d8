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
