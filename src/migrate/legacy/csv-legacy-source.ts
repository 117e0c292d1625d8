import { closeSync, createReadStream, existsSync, openSync, readSync, statSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { TokenmeterError } from '../../core/errors.ts';
import { csvLines } from './csv-lines.ts';
import { type CsvPiece, CsvRecordSplitter } from './csv-records.ts';
import type { LegacyColumns, LegacyItem, LegacySource, RowPlace } from './legacy-source.ts';

const SQLITE_MAGIC = 'SQLite format 3\u0000';

/** Records csv-parse is given at once: one call's overhead spread over many rows. */
const PARSE_BATCH = 1000;

type ColumnIndexes = Record<'id' | 'balance' | 'used' | 'plan', number>;
type RecordPiece = Extract<CsvPiece, { kind: 'record' }>;

/**
 * A CSV export of the users table: a header row naming the columns, then one user a record
 * (RFC 4180: a quoted field may hold commas, `""` and line breaks). Read as a stream, so its
 * size does not matter. A record that cannot be read (a stray quote, the wrong number of
 * fields) is reported as unreadable with its line, and the import goes on with the next line
 * (see CsvRecordSplitter); the fields of the others are csv-parse's.
 */
export function openCsvLegacySource(path: string, columns: LegacyColumns): LegacySource {
  if (!existsSync(path)) throw new TokenmeterError('invalid_request', `--source: no file at ${path}`);
  const stat = statSync(path);
  if (!stat.isFile()) throw new TokenmeterError('invalid_request', `--source: ${path} is not a file`);
  if (startsWith(path, SQLITE_MAGIC)) {
    throw new TokenmeterError('invalid_request', `--source: ${path} is a SQLite database; use --source sqlite:${path}`);
  }
  const input = createReadStream(path);
  const read = { bytes: 0 };
  return {
    description: `csv:${path}`,
    total: stat.size,
    unit: 'bytes',
    position: () => read.bytes,
    items: () => csvItems(input, read, path, columns),
    async close() {
      input.destroy();
    },
  };
}

async function* csvItems(
  input: AsyncIterable<Buffer>,
  read: { bytes: number },
  path: string,
  columns: LegacyColumns,
): AsyncGenerator<LegacyItem> {
  let index: ColumnIndexes | null = null;
  let headerFields = 0;
  const splitter = new CsvRecordSplitter((text) => {
    const header = parseBatch([{ kind: 'record', text, line: 1, lines: text.split('\n').length }])[0];
    const names = Array.isArray(header) ? header.map((h) => h.trim()) : [];
    index = columnIndexes(names, columns, path);
    headerFields = names.length;
    return {
      fields: names.length,
      read: new Map([
        [index.id, columns.id],
        [index.balance, columns.balance],
        [index.used, columns.used],
        [index.plan, columns.plan],
      ]),
    };
  });
  let row = 0;
  let batch: RecordPiece[] = [];
  const drain = (items: LegacyItem[]): void => {
    if (index === null || batch.length === 0) return;
    const parsed = parseBatch(batch);
    for (const [i, piece] of batch.entries()) {
      row += 1;
      items.push(itemOf(row, piece.line, parsed[i], index, headerFields));
    }
    batch = [];
  };
  const take = (pieces: readonly CsvPiece[], items: LegacyItem[]): void => {
    for (const piece of pieces) {
      if (piece.kind === 'record') {
        batch.push(piece);
        if (batch.length >= PARSE_BATCH) drain(items);
      } else {
        drain(items);
        row += 1;
        items.push(unreadable(row, piece.line, piece.reason));
      }
    }
  };
  try {
    let number = 0;
    for await (const lines of csvLines(input, read)) {
      const items: LegacyItem[] = [];
      for (const text of lines) {
        number += 1;
        take(splitter.push(text, number), items);
      }
      yield* items;
    }
    const items: LegacyItem[] = [];
    take(splitter.end(), items);
    drain(items);
    yield* items;
  } catch (err) {
    if (err instanceof TokenmeterError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new TokenmeterError('invalid_request', `--source: cannot read the CSV file ${path}: ${message}`);
  }
  if (index === null) throw new TokenmeterError('invalid_request', `--source: ${path} is empty (no header row)`);
}

function itemOf(
  row: number,
  line: number,
  fields: string[] | string | undefined,
  index: ColumnIndexes,
  headerFields: number,
): LegacyItem {
  if (!Array.isArray(fields)) return unreadable(row, line, fields ?? 'csv-parse read no record here');
  if (fields.length !== headerFields) {
    return unreadable(row, line, `has ${fields.length} fields, the header has ${headerFields}`);
  }
  return {
    kind: 'row',
    place: { row, line },
    row: { id: fields[index.id], balance: fields[index.balance], used: fields[index.used], plan: fields[index.plan] },
  };
}

/**
 * csv-parse's fields of well-formed records, or, should it still refuse one, why. Each record
 * keeps its lines in the text parsed, so a parsed record's last line says which it is.
 */
function parseBatch(batch: readonly RecordPiece[]): (string[] | string)[] {
  const out: (string[] | string)[] = batch.map(() => 'csv-parse read no record here');
  const recordAt: number[] = [];
  for (const [i, piece] of batch.entries()) for (let k = 0; k < piece.lines; k++) recordAt.push(i);
  const records = parse(batch.map((p) => p.text).join('\n'), {
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (err) => {
      const i = typeof err?.lines === 'number' ? recordAt[err.lines - 1] : undefined;
      if (i !== undefined) out[i] = `${err?.code ?? 'CSV_ERROR'}: csv-parse cannot read this record`;
      return undefined;
    },
  }) as unknown[];
  for (const item of records) {
    const { record, line } = recordOf(item);
    const i = line === null ? undefined : recordAt[line - 1];
    if (i !== undefined) out[i] = record;
  }
  return out;
}

function columnIndexes(header: readonly string[], columns: LegacyColumns, path: string): ColumnIndexes {
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
