import { closeSync, createReadStream, existsSync, openSync, readSync, statSync } from 'node:fs';
import { parse } from 'csv-parse';
import { TokenmeterError } from '../../core/errors.ts';
import type { LegacyColumns, LegacyItem, LegacySource, RowPlace } from './legacy-source.ts';

const SQLITE_MAGIC = 'SQLite format 3\u0000';

/**
 * A CSV export of the users table: a header row naming the columns, then one user a row.
 * Parsed as a stream (csv-parse), so its size does not matter. A record that cannot be
 * parsed (an unclosed quote) or has the wrong number of fields is reported as unreadable,
 * with its line, and the import goes on.
 */
export function openCsvLegacySource(path: string, columns: LegacyColumns): LegacySource {
  if (!existsSync(path)) throw new TokenmeterError('invalid_request', `--source: no file at ${path}`);
  const stat = statSync(path);
  if (!stat.isFile()) throw new TokenmeterError('invalid_request', `--source: ${path} is not a file`);
  if (startsWith(path, SQLITE_MAGIC)) {
    throw new TokenmeterError('invalid_request', `--source: ${path} is a SQLite database; use --source sqlite:${path}`);
  }
  const input = createReadStream(path);
  let bytes = 0;
  input.on('data', (chunk) => {
    bytes += chunk.length;
  });
  return {
    description: `csv:${path}`,
    total: stat.size,
    unit: 'bytes',
    position: () => bytes,
    items: () => csvItems(input, path, columns),
    async close() {
      input.destroy();
    },
  };
}

async function* csvItems(
  input: NodeJS.ReadableStream,
  path: string,
  columns: LegacyColumns,
): AsyncGenerator<LegacyItem> {
  const skipped: { line: number | null; reason: string }[] = [];
  const csv = parse({
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (err) => {
      const line = typeof err?.lines === 'number' ? err.lines : null;
      skipped.push({ line, reason: err?.message ?? 'unreadable record' });
      return undefined;
    },
  });
  // pipe() does not pass a read error on; without this the parser would wait for ever.
  input.on('error', (err) => csv.destroy(err));
  const parser = input.pipe(csv);
  let header: string[] | null = null;
  let index: Record<'id' | 'balance' | 'used' | 'plan', number> | null = null;
  let row = 0;
  try {
    for await (const item of parser as AsyncIterable<unknown>) {
      for (const s of skipped.splice(0)) {
        row += 1;
        yield unreadable(row, s.line, s.reason);
      }
      const { record, line } = recordOf(item);
      if (header === null || index === null) {
        header = record.map((h) => h.trim());
        index = columnIndexes(header, columns, path);
        continue;
      }
      row += 1;
      if (record.length !== header.length) {
        yield unreadable(row, line, `has ${record.length} fields, the header has ${header.length}`);
        continue;
      }
      yield {
        kind: 'row',
        place: { row, line },
        row: {
          id: record[index.id],
          balance: record[index.balance],
          used: record[index.used],
          plan: record[index.plan],
        },
      };
    }
  } catch (err) {
    if (err instanceof TokenmeterError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new TokenmeterError('invalid_request', `--source: cannot read the CSV file ${path}: ${message}`);
  }
  for (const s of skipped.splice(0)) {
    row += 1;
    yield unreadable(row, s.line, s.reason);
  }
  if (header === null) throw new TokenmeterError('invalid_request', `--source: ${path} is empty (no header row)`);
}

function columnIndexes(
  header: readonly string[],
  columns: LegacyColumns,
  path: string,
): Record<'id' | 'balance' | 'used' | 'plan', number> {
  const find = (key: 'id' | 'balance' | 'used' | 'plan'): number => {
    const at = header.indexOf(columns[key]);
    if (at < 0) {
      throw new TokenmeterError(
        'invalid_request',
        `--${key}-column: ${path} has no column "${columns[key]}" (its header: ${header.join(', ')})`,
        `${key}Column`,
      );
    }
    return at;
  };
  return { id: find('id'), balance: find('balance'), used: find('used'), plan: find('plan') };
}

function recordOf(item: unknown): { record: string[]; line: number | null } {
  if (typeof item === 'object' && item !== null && 'record' in item && Array.isArray(item.record)) {
    const info = 'info' in item && typeof item.info === 'object' && item.info !== null ? item.info : null;
    const line = info && 'lines' in info && typeof info.lines === 'number' ? info.lines : null;
    return { record: item.record.map((v: unknown) => String(v)), line };
  }
  throw new Error('csv-parse returned an unexpected record');
}

function unreadable(row: number, line: number | null, reason: string): LegacyItem {
  const place: RowPlace = { row, line };
  return { kind: 'unreadable', place, reason };
}

function startsWith(path: string, magic: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(magic.length);
    const n = readSync(fd, buffer, 0, magic.length, 0);
    return n === magic.length && buffer.toString('latin1') === magic;
  } finally {
    closeSync(fd);
  }
}
