/**
 * A CHECK's `x IN ('a', 'b', 'c')` spelled as `(x = 'a' OR x = 'b' OR x = 'c')`, and `x NOT IN
 * (...)` as `(x <> 'a' AND ...)`: the same rule, for SQLite's sake.
 *
 * SQLite evaluates an IN list of three or more constants by first building a temporary B-tree
 * of its values. In a statement's WHERE it builds it once; in a CHECK (and a partial index's
 * WHERE) it builds it again for every row the statement writes. Counted with valgrind (a 256-row
 * INSERT of keyed debits into the ledger as version 18 left it, per row): 79,000 instructions
 * with the ledger's three lists, 43,200 with them spelled out; one grant's UPDATE 42,300
 * against 22,000. The comparisons stop at the first that decides, so the common kind or status
 * costs one or two.
 *
 * Equal on every value: the columns are STRICT TEXT compared with their own (binary) collation
 * either way, and a NULL makes both NULL, which a CHECK lets pass
 * (`test/store/sqlite-check-lists.test.ts` compares databases of both spellings row by row).
 */
export function withoutInLists(sql: string): string {
  return sql.replace(
    /\b([a-z_]+) (NOT )?IN \(('[^']*'(?:, '[^']*')*)\)/g,
    (_match, column: string, not: string | undefined, list: string) => {
      const values = list.split(', ');
      return not
        ? `(${values.map((v) => `${column} <> ${v}`).join(' AND ')})`
        : `(${values.map((v) => `${column} = ${v}`).join(' OR ')})`;
    },
  );
}
