import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { openCsvLegacySource } from '../../src/migrate/legacy/csv-legacy-source.ts';
import { type LegacyItem, SEED_COLUMNS } from '../../src/migrate/legacy/legacy-source.ts';
import { type ExportLine, exportWith, HEADER_LINE, layout } from './legacy-csv-gen.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-csv-source-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let files = 0;

async function read(content: string | Buffer): Promise<LegacyItem[]> {
  files += 1;
  const file = path.join(dir, `users-${files}.csv`);
  fs.writeFileSync(file, content);
  const source = openCsvLegacySource(file, SEED_COLUMNS);
  const items: LegacyItem[] = [];
  try {
    for await (const item of source.items()) items.push(item);
  } finally {
    await source.close();
  }
  return items;
}

/** What the source must give for the generated lines: each row with its values, each malformed line reported. */
function expected(lines: readonly ExportLine[], starts: readonly number[]): unknown[] {
  const out: unknown[] = [];
  lines.forEach((l, i) => {
    const line = starts[i];
    if (l.kind === 'row') {
      const [id, , balance, used, plan] = l.values;
      out.push({ kind: 'row', place: { row: out.length + 1, line }, row: { id, balance, used, plan } });
    } else if (l.kind === 'malformed') {
      out.push({ kind: 'unreadable', line });
    }
  });
  return out;
}

const shape = (items: LegacyItem[]) =>
  items.map((item) => (item.kind === 'row' ? item : { kind: item.kind, line: item.place.line }));

describe('the CSV legacy source: malformed records anywhere', () => {
  for (const [name, breaks, eol] of [
    ['one-line records, \\n', false, '\n'],
    ['quoted line breaks, \\n', true, '\n'],
    ['quoted line breaks, \\r\\n', true, '\r\n'],
  ] as const) {
    it(`reads every well-formed row and reports every malformed one by its own line (${name})`, async () => {
      await fc.assert(
        fc.asyncProperty(exportWith(breaks), async (lines) => {
          const { text, starts } = layout(lines, eol);
          const items = await read(text);
          assert.deepEqual(shape(items), expected(lines, starts));
          assert.deepEqual(
            items.map((item) => item.place.row),
            items.map((_, i) => i + 1),
          );
        }),
        { numRuns: 150 },
      );
    });
  }
});

describe('the CSV legacy source: regressions', () => {
  it('an unclosed quote: the record at its line alone is reported; the rows after it are read', async () => {
    const items = await read(
      [
        'id,tokens_balance,tokens_used_this_month,token_package',
        '1,10,0,free',
        '2,"20,0,free',
        '3,30,0,free',
        '4,40,0,free',
        '5,500,0,free',
        '',
      ].join('\n'),
    );
    assert.deepEqual(
      items.map((i) => (i.kind === 'row' ? [i.place.row, i.place.line, i.row.id, i.row.balance] : [i.place, i.reason])),
      [
        [1, 2, '1', '10'],
        [{ row: 2, line: 3 }, 'Quote Not Closed: a stray quote in field 2 (the line is a whole record without it)'],
        [3, 4, '3', '30'],
        [4, 5, '4', '40'],
        [5, 6, '5', '500'],
      ],
    );
  });

  it('a quoted field over several lines is one row, numbered by its first line', async () => {
    const items = await read(`${HEADER_LINE}\r\n7,"seven\r\n@example.com",70,1,pro\r\n8,e,80,,\r\n`);
    assert.deepEqual(
      items.map((i) => (i.kind === 'row' ? [i.place.line, i.row.id, i.row.balance, i.row.plan] : i.reason)),
      [
        [2, '7', '70', 'pro'],
        [4, '8', '80', ''],
      ],
    );
  });

  it('drops a UTF-8 or UTF-16LE byte-order mark, like csv-parse', async () => {
    const text = `${HEADER_LINE}\n7,e,70,1,pro\n`;
    for (const content of [`\uFEFF${text}`, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])]) {
      const items = await read(content);
      assert.deepEqual(
        items.map((i) => (i.kind === 'row' ? i.row : i.reason)),
        [{ id: '7', balance: '70', used: '1', plan: 'pro' }],
      );
    }
  });

  it('a header row it cannot read fails the import, naming the file', async () => {
    await assert.rejects(read('id,"tokens_balance\n1,2\n'), /cannot read the CSV file .*the header row \(line 1\)/);
  });
});
