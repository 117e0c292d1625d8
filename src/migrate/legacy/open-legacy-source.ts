import { resolve } from 'node:path';
import { invalid } from '../../core/errors.ts';
import { openCsvLegacySource } from './csv-legacy-source.ts';
import type { LegacyColumns, LegacySource } from './legacy-source.ts';
import { openPgLegacySource } from './pg-legacy-source.ts';
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
  if (/^postgres(ql)?:\/\//.test(source)) return openPgLegacySource(source, columns);
  const path = source.startsWith('csv:') ? source.slice('csv:'.length) : source;
  return openCsvLegacySource(resolve(path), columns);
}
