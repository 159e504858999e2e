/** Building and joining parameterized SQL fragments ({@link SqlFragment}). */

import type { SqlFragment } from './schema.ts';

/** A fragment with SQL text only and no values. */
export function sqlText(text: string): SqlFragment {
  return { text: [text], values: [] };
}

/** A fragment holding one value placeholder and no text. */
export function sqlValue(value: unknown): SqlFragment {
  return { text: ['', ''], values: [value] };
}

/**
 * Concatenates fragments, putting `sep` (plain SQL text such as ' AND ' or ', ') between them.
 * Parts are not parenthesised: compiled where-conditions already are, where needed.
 * No parts gives the empty fragment `{ text: [''], values: [] }`.
 */
export function joinFragments(parts: readonly SqlFragment[], sep: string): SqlFragment {
  const text: string[] = [''];
  const values: unknown[] = [];
  parts.forEach((part, k) => {
    if (part.text.length !== part.values.length + 1) {
      throw new RangeError(
        `joinFragments: part ${k} has ${part.text.length} text pieces for ${part.values.length} values (needs values + 1)`,
      );
    }
    if (k > 0) text[text.length - 1] += sep;
    text[text.length - 1] += part.text[0]!;
    for (let i = 0; i < part.values.length; i++) {
      values.push(part.values[i]);
      text.push(part.text[i + 1]!);
    }
  });
  return { text, values };
}

/**
 * SQL text of a fragment with the placeholder `placeholder(i)` (0-based value index) for each
 * value: `renderSql(f, () => '?')` for SQLite, `renderSql(f, (i) => `$${i + 1}`)` for PostgreSQL.
 */
export function renderSql(fragment: SqlFragment, placeholder: (index: number) => string): string {
  let sql = fragment.text[0] ?? '';
  for (let i = 0; i < fragment.values.length; i++) {
    sql += placeholder(i) + (fragment.text[i + 1] ?? '');
  }
  return sql;
}
