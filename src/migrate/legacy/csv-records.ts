/** Most lines one record may span: a quoted field still open this many lines on is a stray quote. */
export const MAX_RECORD_LINES = 100;

/** A record's text (its lines joined by `\n`) and where it starts, or a line that cannot start one. */
export type CsvPiece =
  | { kind: 'record'; text: string; line: number; lines: number }
  | { kind: 'unreadable'; line: number; reason: string };

/** What the splitter needs of the header row: its field count and the columns read (index → name). */
export interface CsvHeader {
  fields: number;
  read: ReadonlyMap<number, string>;
}

interface Line {
  text: string;
  number: number;
}

/** Where a scan of a record stands: csv-parse's reading of quotes, with `,` and `"` (RFC 4180). */
interface Scan {
  quoted: boolean;
  /** Where the quote that opened the quoted field is in its line. */
  opened: number;
  fieldStart: boolean;
  field: number;
  /** Fields holding a line break. */
  spanning: Set<number>;
  problem: string | null;
}

const QUOTE = 0x22;
const COMMA = 0x2c;

/**
 * Cuts a CSV file's lines into records as csv-parse reads them (a quoted field may hold commas,
 * `""` and line breaks) and isolates the records it cannot read. Given a stray quote, csv-parse
 * reads on to the next quote or the end of the file as one field and skips all of it as one
 * record, rows after it included. Here a record that cannot be read gives up its first line
 * alone, reported by number, and the lines after it are read again as records of their own:
 * a quote never closed, or closed or opened in the middle of a field; a quote left open by a
 * line that would be a whole record without it (a stray quote in a row); or, for a record
 * spanning lines, a line that is a whole record by itself (rows a stray quote took in), another
 * field count than the header's, or a line break in a column that is read. So each record csv-parse
 * is given is well formed, and each line of the file is part of one or reported. Pure: the
 * lines come in, the pieces go out.
 */
export class CsvRecordSplitter {
  private pending: Line[] = [];
  private scan = freshScan();
  private header: CsvHeader | null = null;
  private readonly readHeader: (text: string) => CsvHeader;

  /** @param readHeader reads the first record, the header row (it may throw: no such column). */
  constructor(readHeader: (text: string) => CsvHeader) {
    this.readHeader = readHeader;
  }

  /** The next line of the file, without its line break: the pieces it completes, in order. */
  push(text: string, number: number): CsvPiece[] {
    const out: CsvPiece[] = [];
    this.run([{ text, number }], out);
    return out;
  }

  /** The end of the file: a record still open there gives up its first line, and so on. */
  end(): CsvPiece[] {
    const out: CsvPiece[] = [];
    while (this.pending.length > 0) {
      const { field } = this.scan;
      this.run(this.giveUp(`Quote Not Closed: field ${field + 1} opens a quote that the file never closes`, out), out);
    }
    return out;
  }

  private run(queue: Line[], out: CsvPiece[]): void {
    for (let line = queue.shift(); line !== undefined; line = queue.shift()) {
      // csv-parse skips an empty line between records (skip_empty_lines).
      if (this.pending.length === 0 && line.text === '') continue;
      this.pending.push(line);
      scanLine(this.scan, line.text);
      const problem =
        this.scan.problem ??
        this.strayQuote(line) ??
        this.takesInRecord(line) ??
        (this.scan.quoted ? this.openTooLong() : this.shapeProblem());
      if (problem !== null) queue.unshift(...this.giveUp(problem, out));
      else if (!this.scan.quoted) this.complete(out);
    }
  }

  /** A line that leaves a quote open, and without that quote would be a whole record: a stray quote in a row. */
  private strayQuote(line: Line): string | null {
    const { header, scan } = this;
    if (header === null || this.pending.length !== 1 || !scan.quoted) return null;
    const without = line.text.slice(0, scan.opened) + line.text.slice(scan.opened + 1);
    if (!isRecord(without, header.fields)) return null;
    return `Quote Not Closed: a stray quote in field ${scan.field + 1} (the line is a whole record without it)`;
  }

  /** A line taken into an open quoted field that is a whole record by itself: a row a stray quote took in. */
  private takesInRecord(line: Line): string | null {
    if (this.header === null || this.pending.length === 1 || !isRecord(line.text, this.header.fields)) return null;
    return `Quote Not Closed: a quoted field runs from this line over line ${line.number}, a record of its own`;
  }

  private openTooLong(): string | null {
    if (this.pending.length < MAX_RECORD_LINES) return null;
    return `Quote Not Closed: field ${this.scan.field + 1} opens a quote still open ${MAX_RECORD_LINES} lines on`;
  }

  /** A record spanning lines that is not the header's shape: a stray quote took in lines that are rows. */
  private shapeProblem(): string | null {
    const { header, pending } = this;
    const last = pending.at(-1);
    if (header === null || pending.length === 1 || last === undefined) return null;
    const fields = this.scan.field + 1;
    const span = `a quoted field runs from this line to line ${last.number}`;
    if (fields !== header.fields)
      return `${span}, making a record of ${fields} fields; the header has ${header.fields}`;
    for (const field of this.scan.spanning) {
      const name = header.read.get(field);
      if (name !== undefined) return `${span} in column "${name}", which holds no line breaks`;
    }
    return null;
  }

  private complete(out: CsvPiece[]): void {
    const [first] = this.pending;
    const text = this.pending.map((l) => l.text).join('\n');
    const lines = this.pending.length;
    this.pending = [];
    this.scan = freshScan();
    if (first === undefined) return;
    if (this.header === null) this.header = this.readHeader(text);
    else out.push({ kind: 'record', text, line: first.number, lines });
  }

  /** The pending record's first line is reported; the lines after it are to be read again. */
  private giveUp(reason: string, out: CsvPiece[]): Line[] {
    const [first, ...rest] = this.pending;
    this.pending = [];
    this.scan = freshScan();
    if (first === undefined) return rest;
    if (this.header === null) throw new Error(`the header row (line ${first.number}) cannot be read: ${reason}`);
    out.push({ kind: 'unreadable', line: first.number, reason });
    return rest;
  }
}

/** Whether a line, read alone, is a whole record of `fields` fields. */
function isRecord(text: string, fields: number): boolean {
  const scan = freshScan();
  scanLine(scan, text);
  return scan.problem === null && !scan.quoted && scan.field + 1 === fields;
}

function freshScan(): Scan {
  return { quoted: false, opened: -1, fieldStart: true, field: 0, spanning: new Set(), problem: null };
}

/**
 * Follows one line through csv-parse's rules: a quote opens a field only at its start; inside
 * one, `""` is a quote and a quote closes it only before a comma or the line's end (csv-parse
 * would otherwise read on in the field: the record is unreadable). A quote inside an unquoted
 * field is an error in csv-parse too.
 */
function scanLine(scan: Scan, text: string): void {
  for (let i = 0; i < text.length && scan.problem === null; i++) {
    const c = text.charCodeAt(i);
    if (scan.quoted) {
      if (c !== QUOTE) continue;
      const next = text.charCodeAt(i + 1);
      if (next === QUOTE) i += 1;
      else if (next === COMMA || i + 1 === text.length) scan.quoted = false;
      else scan.problem = `Invalid Closing Quote: a quote in field ${scan.field + 1} is followed by "${text[i + 1]}"`;
    } else if (c === COMMA) {
      scan.field += 1;
      scan.fieldStart = true;
    } else if (c === QUOTE && !scan.fieldStart) {
      scan.problem = `Invalid Opening Quote: a quote inside the unquoted field ${scan.field + 1}`;
    } else if (c === QUOTE) {
      scan.quoted = true;
      scan.opened = i;
      scan.fieldStart = false;
    } else {
      scan.fieldStart = false;
    }
  }
  if (scan.quoted) scan.spanning.add(scan.field);
}
