/**
 * Parameterized SQL fragments: text pieces and bound values, the same shape as
 * src/butler/expr's SqlFragment (`text.length === values.length + 1`). Values are always
 * bound parameters; only identifiers quoted by {@link ident} and fixed SQL written in this
 * package are ever text. Fragments are executed through kysely (`toKysely`), which turns
 * them into `?` (SQLite) or `$n` (PostgreSQL) placeholders.
 */

import { type RawBuilder, sql } from 'kysely';

/** A parameterized SQL fragment. */
export interface Sql {
  readonly text: readonly string[];
  readonly values: readonly unknown[];
}

/** Marks SQL text to splice verbatim (identifiers, keywords) in {@link q}. */
export class RawSql {
  constructor(readonly sql: string) {}
}

function isSql(v: unknown): v is Sql {
  return (
    typeof v === 'object' &&
    v !== null &&
    Array.isArray((v as Sql).text) &&
    Array.isArray((v as Sql).values) &&
    (v as Sql).text.length === (v as Sql).values.length + 1
  );
}

/**
 * Tagged template building a fragment: `${Sql}` splices a fragment, `${RawSql}` splices its
 * text, anything else becomes a bound value.
 */
export function q(strings: TemplateStringsArray, ...parts: unknown[]): Sql {
  const text: string[] = [strings[0]!];
  const values: unknown[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const next = strings[i + 1]!;
    if (p instanceof RawSql) {
      text[text.length - 1] += p.sql + next;
    } else if (isSql(p)) {
      text[text.length - 1] += p.text[0]!;
      for (let k = 0; k < p.values.length; k++) {
        values.push(p.values[k]);
        text.push(p.text[k + 1]!);
      }
      text[text.length - 1] += next;
    } else {
      values.push(p);
      text.push(next);
    }
  }
  return { text, values };
}

/** Verbatim SQL text (never user input). */
export function raw(text: string): RawSql {
  return new RawSql(text);
}

/** A fragment with no values. */
export function rawSql(text: string): Sql {
  return { text: [text], values: [] };
}

/** A double-quoted identifier, or a dotted chain of them (`"t"."visit"`). */
export function ident(...names: string[]): RawSql {
  return new RawSql(names.map(quoteIdent).join('.'));
}

/** `name` in double quotes with embedded quotes doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A single bound value as a fragment. */
export function value(v: unknown): Sql {
  return { text: ['', ''], values: [v] };
}

/** Fragments joined with a separator (`, `, ` AND `); an empty list gives `empty`. */
export function join(parts: readonly Sql[], sep: string, empty = ''): Sql {
  if (parts.length === 0) return rawSql(empty);
  const text: string[] = [''];
  const values: unknown[] = [];
  parts.forEach((p, i) => {
    if (i > 0) text[text.length - 1] += sep;
    text[text.length - 1] += p.text[0]!;
    for (let k = 0; k < p.values.length; k++) {
      values.push(p.values[k]);
      text.push(p.text[k + 1]!);
    }
  });
  return { text, values };
}

/** `(?, ?, ...)` of the values. */
export function list(values: readonly unknown[]): Sql {
  return q`(${join(
    values.map((v) => value(v)),
    ', ',
  )})`;
}

/** AND of the conditions (`1=1` when none). */
export function and(conds: readonly Sql[]): Sql {
  if (conds.length === 0) return rawSql('1=1');
  return join(
    conds.map((c) => q`(${c})`),
    ' AND ',
  );
}

/** OR of the conditions (`1=0` when none). */
export function or(conds: readonly Sql[]): Sql {
  if (conds.length === 0) return rawSql('1=0');
  return join(
    conds.map((c) => q`(${c})`),
    ' OR ',
  );
}

/** The fragment's text with `?` for each value (for messages and tests). */
export function previewSql(f: Sql): string {
  return f.text.join('?');
}

/**
 * A kysely raw builder for the fragment, with each value passed through `bind`
 * (dialect-specific conversions such as booleans to 0/1 for SQLite).
 */
export function toKysely<R = Record<string, unknown>>(
  f: Sql,
  bind: (v: unknown) => unknown,
): RawBuilder<R> {
  const strings = f.text as unknown as TemplateStringsArray;
  return sql<R>(strings, ...f.values.map((v) => bind(v)));
}
