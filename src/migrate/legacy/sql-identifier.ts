import { invalid } from '../../core/errors.ts';

const PLAIN = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/**
 * A table or column name given on the command line, quoted for SQL. Only plain identifiers
 * are accepted (and `schema.table` where allowed), so nothing typed into an option can
 * become SQL.
 */
export function quoteIdentifier(option: string, name: string, allowSchema = false): string {
  const parts = allowSchema ? name.split('.') : [name];
  if (parts.length > 2 || !parts.every((p) => PLAIN.test(p))) {
    throw invalid(
      option,
      `"${name}" is not a plain SQL name (letters, digits and _; ${allowSchema ? 'schema.table at most' : 'no dots'})`,
    );
  }
  return parts.map((p) => `"${p}"`).join('.');
}

/** The table name without its schema. */
export function bareName(name: string): string {
  return name.split('.').at(-1) ?? name;
}
