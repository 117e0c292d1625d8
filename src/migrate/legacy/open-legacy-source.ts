import { resolve } from 'node:path';
import { invalid } from '../../core/errors.ts';
import type { LegacyColumns, LegacySource } from './legacy-source.ts';
import { openSqliteLegacySource } from './sqlite-legacy-source.ts';

/**
 * Opens the legacy users a `--source` names: `sqlite:<path>`, `postgres://...` (also
 * `postgresql://`), or the path of a CSV file (`csv:<path>` also works).
 *
 * @example await openLegacySource('sqlite:./legacy/app.db', SEED_COLUMNS)
 */
export async function openLegacySource(source: string, columns: LegacyColumns): Promise<LegacySource> {
  if (source.trim() === '') throw invalid('source', 'is required');
  if (source.startsWith('sqlite:')) {
    const path = source.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '' || path === ':memory:') throw invalid('source', `"${source}" names no database file`);
    return openSqliteLegacySource(resolve(path), columns);
  }
  // The CSV parser and the PostgreSQL client are loaded only for a source that needs them: the
  // CLI's other commands, `serve` among them, never hold them in memory.
  if (/^postgres(ql)?:\/\//.test(source)) {
    const { openPgLegacySource } = await import('./pg-legacy-source.ts');
    return openPgLegacySource(source, columns);
  }
  const path = source.startsWith('csv:') ? source.slice('csv:'.length) : source;
  const { openCsvLegacySource } = await import('./csv-legacy-source.ts');
  return openCsvLegacySource(resolve(path), columns);
}
