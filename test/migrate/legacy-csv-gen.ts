import { parse } from 'csv-parse/sync';
import fc from 'fast-check';

/** The header of the generated exports: the seed's four columns and an `email` tokenmeter does not read. */
export const HEADER = ['id', 'email', 'tokens_balance', 'tokens_used_this_month', 'token_package'] as const;
export const HEADER_LINE = HEADER.join(',');

/** A legacy user as the export holds it: the five values, before CSV quoting. */
export type Values = [id: string, email: string, balance: string, used: string, plan: string];

/** A field as a CSV writer writes it: quoted when it must be (or when `quote`), `"` doubled inside. */
export function field(value: string, quote = false): string {
  return quote || /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const word = fc.string({ unit: fc.constantFrom('a', 'b', 'Z', '7', '.', '@', '-'), minLength: 1, maxLength: 6 });
const text = (breaks: boolean) =>
  fc.string({
    unit: fc.constantFrom('a', 'b', ' ', ',', '"', '@', ...(breaks ? ['\n'] : [])),
    maxLength: 14,
  });

/** Whether csv-parse reads a line alone as one whole record of the header's five fields. */
function wholeRecord(line: string): boolean {
  try {
    const records = parse(line, { relax_column_count: true });
    return records.length === 1 && records[0]?.length === HEADER.length;
  } catch {
    return false;
  }
}

/** A well-formed user row: the values, and the record as written (one line, or several when `breaks`). */
export const wellFormed = (breaks: boolean) =>
  fc
    .record({
      id: word,
      email: text(breaks),
      balance: fc.oneof(fc.constant(''), fc.integer({ min: -500, max: 5000 }).map(String)),
      used: fc.oneof(fc.constant(''), fc.nat({ max: 99 }).map(String)),
      plan: fc.constantFrom('free', 'starter', 'pro', 'Gold', ''),
      quoted: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    })
    .map(({ id, email, balance, used, plan, quoted }) => {
      const values: Values = [id, email, balance, used, plan];
      return { values, text: values.map((v, i) => field(v, quoted[i])).join(',') };
    })
    .filter((row) => !looksStray(row.text));

/**
 * A record spanning lines that CsvRecordSplitter reads as a stray quote by design: its first
 * line would be a whole record without the quote that opens the email, or a later line is a
 * whole record by itself. Such an export is not counted as well formed here.
 */
function looksStray(text: string): boolean {
  const [first = '', ...rest] = text.split('\n');
  if (rest.length === 0) return false;
  const quote = first.indexOf(',') + 1;
  return wholeRecord(first.slice(0, quote) + first.slice(quote + 1)) || rest.some(wholeRecord);
}

/** A one-line record csv-parse cannot read, or with the wrong number of fields. */
export const malformed = fc
  .record({
    values: fc.array(word, { minLength: 5, maxLength: 5 }),
    at: fc.integer({ min: 0, max: 4 }),
    kind: fc.constantFrom('unclosed', 'inside', 'after-closing', 'short'),
  })
  .map(({ values, at, kind }) => {
    const fields = [...values];
    const v = fields[at] ?? 'x';
    if (kind === 'unclosed') fields[at] = `"${v}`; // a stray quote: nothing on the line closes it
    if (kind === 'inside') fields[at] = `${v}"${v}`; // a quote inside an unquoted field
    if (kind === 'after-closing') fields[at] = `"${v}"${v}`; // text after a closing quote
    return (kind === 'short' ? fields.slice(0, 1 + (at % 4)) : fields).join(',');
  });

/** Users and malformed lines in any order, some lines empty. */
export const exportWith = (breaks: boolean) =>
  fc.array(
    fc.oneof(
      { weight: 4, arbitrary: wellFormed(breaks).map((row) => ({ kind: 'row' as const, ...row })) },
      { weight: 2, arbitrary: malformed.map((text) => ({ kind: 'malformed' as const, text })) },
      { weight: 1, arbitrary: fc.constant({ kind: 'empty' as const, text: '' }) },
    ),
    { maxLength: 25 },
  );

export type ExportLine = { kind: 'row'; values: Values; text: string } | { kind: 'malformed' | 'empty'; text: string };

/** The export's text with `eol` between lines, and where each generated record starts. */
export function layout(lines: readonly ExportLine[], eol = '\n'): { text: string; starts: number[] } {
  const starts: number[] = [];
  let line = 2;
  for (const l of lines) {
    starts.push(line);
    line += l.text.split('\n').length;
  }
  const body = [HEADER_LINE, ...lines.map((l) => l.text.replaceAll('\n', eol))].join(eol);
  return { text: `${body}${eol}`, starts };
}
