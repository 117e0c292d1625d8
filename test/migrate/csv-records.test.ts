import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { type CsvPiece, CsvRecordSplitter, MAX_RECORD_LINES } from '../../src/migrate/legacy/csv-records.ts';
import { exportWith, HEADER, HEADER_LINE, layout, wellFormed } from './legacy-csv-gen.ts';

/** The seed's columns read (email is not). */
const READ = new Map([
  [0, 'id'],
  [2, 'tokens_balance'],
  [3, 'tokens_used_this_month'],
  [4, 'token_package'],
]);

/** Every piece of a file's text, the header row first. */
function split(text: string): CsvPiece[] {
  const splitter = new CsvRecordSplitter(() => ({ fields: HEADER.length, read: READ }));
  const pieces = text.split('\n').flatMap((line, i) => splitter.push(line, i + 1));
  return [...pieces, ...splitter.end()];
}

const unreadable = (pieces: CsvPiece[]) => pieces.filter((p) => p.kind === 'unreadable');
const recordLines = (pieces: CsvPiece[]) => pieces.flatMap((p) => (p.kind === 'record' ? [p.line] : []));

describe('CsvRecordSplitter: well-formed CSV', () => {
  it('cuts it into the records csv-parse reads, quoted commas, quotes and line breaks included', () => {
    fc.assert(
      fc.property(exportWith(true), (lines) => {
        const rows = lines.filter((l) => l.kind === 'row');
        const { text, starts } = layout(rows);
        const pieces = split(text);
        assert.deepEqual(unreadable(pieces), []);
        assert.deepEqual(recordLines(pieces), starts);
        pieces.forEach((piece, i) => {
          assert.ok(piece.kind === 'record');
          assert.deepEqual(parse(piece.text), [rows[i]?.values], piece.text);
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('CsvRecordSplitter: any text', () => {
  const junk = fc.string({ unit: fc.constantFrom('a', ',', '"', ' '), maxLength: 12 });
  const lines = fc
    .array(
      fc.oneof(
        junk,
        wellFormed(true).map((row) => row.text),
      ),
      { maxLength: 30 },
    )
    .map((texts) => texts.join('\n').split('\n'));

  it('gives csv-parse only records it reads whole, and accounts for every line', () => {
    fc.assert(
      fc.property(lines, (lines) => {
        const pieces = split([HEADER_LINE, ...lines].join('\n'));
        const seen = new Map<number, string>();
        for (const piece of pieces) {
          if (piece.kind === 'unreadable') {
            assert.equal(seen.get(piece.line), undefined, `line ${piece.line} twice`);
            seen.set(piece.line, 'reported');
            continue;
          }
          // Strict csv-parse: any error throws; one record, ending on the piece's last line.
          const records = parse(piece.text, { relax_column_count: true, info: true }) as unknown as {
            info: { lines: number };
          }[];
          assert.equal(records.length, 1, piece.text);
          assert.equal(records[0]?.info.lines, piece.lines, piece.text);
          for (let k = 0; k < piece.lines; k++) {
            assert.equal(seen.get(piece.line + k), undefined, `line ${piece.line + k} twice`);
            seen.set(piece.line + k, 'record');
          }
        }
        lines.forEach((text, i) => {
          if (text !== '') assert.ok(seen.has(i + 2), `line ${i + 2} (${JSON.stringify(text)}) lost`);
        });
      }),
      { numRuns: 500 },
    );
  });
});

describe('CsvRecordSplitter: a record it cannot read gives up its first line alone', () => {
  it('an unclosed quote (the review case): its line is reported, the rows after it are records', () => {
    const pieces = split(
      [HEADER_LINE, '1,a,10,0,free', '2,b,"20,0,free', '3,c,30,0,free', '4,d,40,0,free', '5,e,500,0,free'].join('\n'),
    );
    assert.deepEqual(recordLines(pieces), [2, 4, 5, 6]);
    assert.deepEqual(
      unreadable(pieces).map((p) => p.line),
      [3],
    );
    assert.match(unreadable(pieces)[0]?.reason ?? '', /^Quote Not Closed: a stray quote in field 3 \(/);
  });

  it('on the last line, and inside a field or after a closing quote', () => {
    const pieces = split(
      [HEADER_LINE, '1,a"b,10,0,free', '2,"b"c,20,0,free', '3,c,30,0,free', '4,d,"40,0,free'].join('\n'),
    );
    assert.deepEqual(recordLines(pieces), [4]);
    assert.deepEqual(
      unreadable(pieces).map((p) => [p.line, p.reason.split(':')[0]]),
      [
        [2, 'Invalid Opening Quote'],
        [3, 'Invalid Closing Quote'],
        [5, 'Quote Not Closed'],
      ],
    );
  });

  it('a stray quote in a short row: the rows it would take in, up to a closing quote, are still rows', () => {
    const pieces = split([HEADER_LINE, '1,"a,10', '2,b,20,0,free', '3,"c",30,0,free'].join('\n'));
    assert.deepEqual(recordLines(pieces), [3, 4]);
    assert.deepEqual(
      unreadable(pieces).map((p) => [p.line, p.reason]),
      [[2, 'Quote Not Closed: a quoted field runs from this line over line 3, a record of its own']],
    );
  });

  it('a quoted field may span lines, but not in a column read, nor with the wrong field count', () => {
    const pieces = split(
      [HEADER_LINE, '1,"a', 'b",10,0,free', '2,b,"20', '",0,free', '3,"c', 'd",30,0', '4,d,40,0,free'].join('\n'),
    );
    assert.deepEqual(
      pieces.filter((p) => p.kind === 'record').map((p) => [p.line, p.lines]),
      [
        [2, 2],
        [8, 1],
      ],
    );
    assert.deepEqual(
      unreadable(pieces).map((p) => p.line),
      [4, 5, 6, 7],
    );
    assert.match(unreadable(pieces)[0]?.reason ?? '', /in column "tokens_balance", which holds no line breaks/);
    assert.match(unreadable(pieces)[2]?.reason ?? '', /making a record of 4 fields; the header has 5/);
  });

  it(`a quote still open ${MAX_RECORD_LINES} lines on is given up, and those lines read again`, () => {
    const filler = Array.from({ length: MAX_RECORD_LINES + 20 }, (_, i) => `note ${i}`);
    const pieces = split([HEADER_LINE, '1,"a', ...filler, '2,b,20,0,free'].join('\n'));
    assert.deepEqual(
      unreadable(pieces).map((p) => [p.line, p.reason]),
      [[2, `Quote Not Closed: field 2 opens a quote still open ${MAX_RECORD_LINES} lines on`]],
    );
    assert.equal(recordLines(pieces).length, filler.length + 1);
  });

  it('a header row it cannot read stops the import', () => {
    assert.throws(() => split('id,"email,tokens_balance\n1,a,10'), /the header row \(line 1\) cannot be read/);
  });
});
