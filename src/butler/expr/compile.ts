/**
 * Validation of `where` trees against a {@link WhereSchema} and compilation to parameterized
 * SQL. Literal and bind values always travel as fragment values; the SQL text holds only
 * resolver-provided column SQL, the schema's overlap SQL, operators, parentheses and the
 * constants `(1=1)` / `(1=0)` / `NULL` / `0`.
 *
 * The SQL is plain enough for both SQLite and PostgreSQL: `<>` for not-equal, BETWEEN, IN lists,
 * `%` only between integers, and `/` between integers truncating toward zero (written
 * `CAST(a / b AS BIGINT)`, so it holds even where the driver binds JS numbers as floats).
 */

import type {
  BindExpr,
  CompareExpr,
  Expr,
  IdentExpr,
  InExpr,
  Node,
  RegionCall,
  Span,
} from './ast.ts';
import { WhereBindError, WhereNameError, WhereTypeError } from './errors.ts';
import { formatExpr, quoteString } from './format.ts';
import { parseWhere } from './parser.ts';
import type {
  ColumnType,
  CompiledWhere,
  RegionLiteral,
  ResolvedColumn,
  SqlFragment,
  WhereSchema,
} from './schema.ts';
import { closestNames } from './suggest.ts';
import { normalizeDate, normalizeIsoTime } from './time.ts';
import { sourceOf } from './walk.ts';

/** A range in an IN list expands to a value list when it has at most this many values. */
export const RANGE_EXPAND_LIMIT = 1000;

/** Type of a compiled expression: a column type, or 'null' for NULL. */
type ValueType = ColumnType | 'null';

/** SQL binding strength of compiled text, loosest first (same order in SQLite and PostgreSQL). */
const SqlPrec = {
  Or: 1,
  And: 2,
  Not: 3,
  Compare: 4,
  Additive: 5,
  Multiplicative: 6,
  Unary: 7,
  Atom: 8,
} as const;
type SqlPrec = (typeof SqlPrec)[keyof typeof SqlPrec];

type Piece = string | { readonly value: unknown };

interface Compiled {
  readonly pieces: readonly Piece[];
  readonly type: ValueType;
  readonly prec: SqlPrec;
  /**
   * Set when the expression is one literal or scalar bind value: its SQL is one placeholder,
   * or a CAST of one (see {@link typedPlaceholder}).
   */
  readonly value?: { readonly v: unknown };
  /** The column, when the expression is a bare name. */
  readonly column?: ResolvedColumn;
}

const TYPE_WORDS: Readonly<Record<ValueType, string>> = {
  int: 'integers',
  float: 'floating-point numbers',
  string: 'strings',
  bool: 'booleans (TRUE / FALSE)',
  timestamp: "times (T'2026-01-02T03:04:05')",
  region: 'sky regions',
  null: 'NULL',
};

function isNumeric(t: ValueType): boolean {
  return t === 'int' || t === 'float';
}

function wrap(c: Compiled, min: SqlPrec): readonly Piece[] {
  return c.prec < min ? ['(', ...c.pieces, ')'] : c.pieces;
}

function boundValue(v: unknown, type: ValueType): Compiled {
  return { pieces: [{ value: v }], type, prec: SqlPrec.Atom, value: { v } };
}

/**
 * A numeric placeholder with its type spelled out: `CAST(? AS BIGINT)` or
 * `CAST(? AS DOUBLE PRECISION)`. PostgreSQL infers a parameter's type from the other operand,
 * so `"visit"."id" = $1` would read 1.5 as a bigint (an error) and `$1 + $2` has no type at
 * all; SQLite reads the cast type names as INTEGER and REAL affinity.
 */
function typedPlaceholder(c: Compiled): Compiled {
  if (c.value === undefined || !isNumeric(c.type) || c.prec !== SqlPrec.Atom) return c;
  if (c.pieces.length !== 1 || typeof c.pieces[0] === 'string') return c;
  const sqlType = c.type === 'int' ? ' AS BIGINT)' : ' AS DOUBLE PRECISION)';
  return { ...c, pieces: ['CAST(', ...c.pieces, sqlType] };
}

/** True when `c` is a bare placeholder (one value, no cast yet). */
function isPlaceholder(c: Compiled): boolean {
  return c.value !== undefined && c.pieces.length === 1 && typeof c.pieces[0] !== 'string';
}

/**
 * `c` ready to meet `other` in a comparison, arithmetic or IN list: a numeric placeholder is
 * cast unless the other operand gives it a type that holds its value (a float never takes an
 * integer's type).
 */
function typedAgainst(c: Compiled, other: Compiled): Compiled {
  if (!isPlaceholder(c) || !isNumeric(c.type)) return c;
  if (
    !isPlaceholder(other) &&
    isNumeric(other.type) &&
    !(c.type === 'float' && other.type === 'int')
  ) {
    return c;
  }
  return typedPlaceholder(c);
}

/** Hints in one line: after a question a space, otherwise a semicolon. */
function joinHints(hints: readonly string[]): string {
  return hints.reduce(
    (acc, h) => (acc === '' ? h : `${acc}${acc.endsWith('?') ? ' ' : '; '}${h}`),
    '',
  );
}

function boolConstant(v: boolean): Compiled {
  return { pieces: [v ? '(1=1)' : '(1=0)'], type: 'bool', prec: SqlPrec.Atom };
}

function toFragment(pieces: readonly Piece[]): SqlFragment {
  const text: string[] = [''];
  const values: unknown[] = [];
  for (const p of pieces) {
    if (typeof p === 'string') text[text.length - 1] += p;
    else {
      values.push(p.value);
      text.push('');
    }
  }
  return { text, values };
}

function fromFragment(f: SqlFragment): Piece[] {
  const pieces: Piece[] = [f.text[0] ?? ''];
  f.values.forEach((v, i) => {
    pieces.push({ value: v }, f.text[i + 1] ?? '');
  });
  return pieces;
}

function joinPieces(parts: readonly (readonly Piece[])[], sep: string): Piece[] {
  const out: Piece[] = [];
  parts.forEach((p, i) => {
    if (i > 0) out.push(sep);
    out.push(...p);
  });
  return out;
}

/**
 * Validate names and types against the schema and compile to parameterized SQL. Values are
 * NEVER spliced into SQL text; only resolver-provided column SQL, operators and parentheses are.
 *
 * Throws {@link WhereNameError} for names the schema does not know, {@link WhereTypeError} for
 * mismatched operands (a string column compared with a number, arithmetic on strings, a
 * non-condition at the top), {@link WhereBindError} for `:name` binds that are missing or hold
 * a value of the wrong kind. Bind values may be numbers, bigints, strings, booleans, Dates,
 * null (only with IS NULL), arrays of those (only in IN lists) and {@link RegionLiteral}s
 * (only after OVERLAPS). An array bound to an IN list may be empty: `x IN (:empty)` is false.
 */
export function compileWhere(
  expr: Expr,
  schema: WhereSchema,
  bind: Readonly<Record<string, unknown>> = {},
): CompiledWhere {
  // Error carets need the text the spans index; a tree built by hand (or copied) has none,
  // so print it and parse that: the same tree, with spans into the printed text.
  let source = sourceOf(expr);
  let tree = expr;
  if (source === undefined) {
    source = formatExpr(expr);
    tree = parseWhere(source) ?? expr;
  }
  return new Compiler(source, schema, bind).compileRoot(tree);
}

/** Convenience: parse + compile; empty text -> fragment {text:['1=1'], values:[]}. */
export function where(
  text: string,
  schema: WhereSchema,
  bind?: Readonly<Record<string, unknown>>,
): CompiledWhere {
  const expr = parseWhere(text);
  if (expr === null) return { fragment: { text: ['1=1'], values: [] }, elements: new Set() };
  return compileWhere(expr, schema, bind);
}

class Compiler {
  private readonly elements = new Set<string>();

  constructor(
    private readonly source: string,
    private readonly schema: WhereSchema,
    private readonly bind: Readonly<Record<string, unknown>>,
  ) {}

  compileRoot(expr: Expr): CompiledWhere {
    const c = this.compile(expr);
    if (c.type !== 'bool') {
      this.typeError(
        `the where-expression must be a condition, but this is ${this.describeType(c.type)} value`,
        expr.span,
        "write a condition such as visit = 12 or band IN ('g', 'r')",
      );
    }
    // Parenthesise a top-level AND / OR so that the fragment can be ANDed with others.
    const pieces = c.prec <= SqlPrec.And ? ['(', ...c.pieces, ')'] : c.pieces;
    return { fragment: toFragment(pieces), elements: this.elements };
  }

  // ---- errors -------------------------------------------------------------------------------

  private typeError(detail: string, span: Span, hint: string | null = null): never {
    throw new WhereTypeError(detail, this.source, span, hint);
  }

  private bindError(detail: string, span: Span, hint: string | null = null): never {
    throw new WhereBindError(detail, this.source, span, hint);
  }

  /** A value of the wrong type: the bind map's fault for a :bind, the expression's otherwise. */
  private valueError(n: Expr, detail: string, hint: string | null): never {
    if (n.kind === 'bind') this.bindError(detail, n.span, hint);
    this.typeError(detail, n.span, hint);
  }

  private describeType(t: ValueType): string {
    switch (t) {
      case 'int':
        return 'an integer';
      case 'float':
        return 'a floating-point';
      case 'string':
        return 'a string';
      case 'bool':
        return 'a boolean';
      case 'timestamp':
        return 'a time';
      case 'region':
        return 'a region';
      case 'null':
        return 'a NULL';
    }
  }

  private text(n: Node): string {
    return this.source.slice(n.span.start, n.span.end);
  }

  // ---- expressions --------------------------------------------------------------------------

  private compileCondition(e: Expr, context: string): Compiled {
    const c = this.compile(e);
    if (c.type !== 'bool') {
      this.typeError(
        `${context} needs a condition, but '${this.text(e)}' is ${this.describeType(c.type)} value`,
        e.span,
        'write a comparison such as visit = 12',
      );
    }
    return c;
  }

  private compile(e: Expr, counterpart?: string): Compiled {
    switch (e.kind) {
      case 'logical': {
        const l = this.compileCondition(e.left, e.op);
        const r = this.compileCondition(e.right, e.op);
        const p = e.op === 'AND' ? SqlPrec.And : SqlPrec.Or;
        return {
          pieces: [...wrap(l, p), ` ${e.op} `, ...wrap(r, p)],
          type: 'bool',
          prec: p,
        };
      }
      case 'not': {
        const o = this.compileCondition(e.operand, 'NOT');
        return { pieces: ['NOT ', ...wrap(o, SqlPrec.Compare)], type: 'bool', prec: SqlPrec.Not };
      }
      case 'compare':
        return this.compileCompare(e);
      case 'in':
        return this.compileIn(e);
      case 'isNull': {
        const o = this.compile(e.operand);
        return {
          pieces: [...wrap(o, SqlPrec.Additive), e.negated ? ' IS NOT NULL' : ' IS NULL'],
          type: 'bool',
          prec: SqlPrec.Compare,
        };
      }
      case 'overlaps':
        return this.compileOverlaps(e.operand, e.region);
      case 'arith': {
        const l = this.compile(e.left);
        const r = this.compile(e.right);
        for (const [c, n] of [
          [l, e.left],
          [r, e.right],
        ] as const) {
          if (!isNumeric(c.type)) {
            this.typeError(
              `'${e.op}' needs numbers, but '${this.text(n)}' is ${this.describeType(c.type)} value`,
              n.span,
              'arithmetic (+ - * / %) works on integer and floating-point values only',
            );
          }
          if (e.op === '%' && c.type !== 'int') {
            this.typeError(
              `'%' needs integers, but '${this.text(n)}' is ${this.describeType(c.type)} value`,
              n.span,
              'the remainder operator % takes integer operands only',
            );
          }
        }
        const p = e.op === '+' || e.op === '-' ? SqlPrec.Additive : SqlPrec.Multiplicative;
        const type: ValueType = l.type === 'int' && r.type === 'int' ? 'int' : 'float';
        const right = wrap(typedAgainst(r, l), (p + 1) as SqlPrec);
        const pieces = [...wrap(typedAgainst(l, r), p), ` ${e.op} `, ...right];
        if (e.op === '/' && type === 'int') {
          // Drivers may bind JS numbers as floating point (better-sqlite3 does), which would
          // make 7 / 2 give 3.5; the cast keeps integer division truncating in every dialect.
          return { pieces: ['CAST(', ...pieces, ' AS BIGINT)'], type, prec: SqlPrec.Atom };
        }
        return { pieces, type, prec: p };
      }
      case 'neg': {
        const o = this.compile(e.operand);
        if (!isNumeric(o.type)) {
          this.typeError(
            `unary '-' needs a number, but '${this.text(e.operand)}' is ${this.describeType(o.type)} value`,
            e.operand.span,
            'unary minus works on integer and floating-point values only',
          );
        }
        // The operand is parenthesised unless atomic, so the text never holds '--' (a comment).
        return {
          pieces: ['-', ...wrap(typedPlaceholder(o), SqlPrec.Atom)],
          type: o.type,
          prec: SqlPrec.Unary,
        };
      }
      case 'ident':
        return this.compileIdent(e, counterpart);
      case 'bind':
        return this.compileScalarBind(e);
      case 'int':
        return boundValue(e.value, 'int');
      case 'float':
        return boundValue(e.value, 'float');
      case 'string':
        return boundValue(e.value, 'string');
      case 'time':
        return boundValue(e.iso, 'timestamp');
      case 'bool':
        return boolConstant(e.value);
      case 'null':
        return { pieces: ['NULL'], type: 'null', prec: SqlPrec.Atom };
    }
  }

  private compileIdent(e: IdentExpr, counterpart: string | undefined): Compiled {
    const column = this.schema.column(e.path);
    if (column === undefined) this.unknownName(e, counterpart);
    this.elements.add(column.element);
    return { pieces: [column.sql], type: column.type, prec: SqlPrec.Atom, column };
  }

  /**
   * Throws the WhereNameError for an unresolved name. `counterpart` is the text of the
   * expression as it would read with the name quoted as a string (for the quoting hint).
   */
  private unknownName(e: IdentExpr, counterpart: string | undefined): never {
    const names = this.schema.knownNames();
    const full = e.path.join('.');
    const first = e.path[0]!;
    const start = e.span.start;
    if (e.path.length === 1) {
      const hints: string[] = [];
      const close = closestNames(first, names);
      if (close.length > 0) hints.push(`did you mean ${close.join(' or ')}?`);
      hints.push(
        counterpart === undefined
          ? `strings need single quotes: ${quoteString(first)}`
          : `strings need single quotes: ${counterpart}`,
      );
      throw new WhereNameError(`unknown name '${first}'`, this.source, e.span, joinHints(hints));
    }
    const prefix = `${first}.`;
    const fields = names.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length));
    const elementKnown =
      fields.length > 0 || names.includes(first) || this.schema.column([first]) !== undefined;
    if (!elementKnown) {
      const close = closestNames(
        first,
        names.map((n) => n.split('.')[0]!),
      );
      throw new WhereNameError(
        `unknown name '${first}' in '${full}'`,
        this.source,
        { start, end: start + first.length },
        close.length > 0
          ? `did you mean ${close.map((c) => `${c}.${e.path.slice(1).join('.')}`).join(' or ')}?`
          : null,
      );
    }
    const rest = e.path.slice(1).join('.');
    const fieldStart = start + prefix.length;
    const hints: string[] = [];
    const close = closestNames(rest, fields);
    if (close.length > 0) hints.push(`did you mean ${close.map((c) => prefix + c).join(' or ')}?`);
    hints.push(
      fields.length > 0
        ? `fields of ${first}: ${[...new Set(fields)].sort().join(', ')}`
        : `no fields of ${first} are known`,
    );
    throw new WhereNameError(
      `${first} has no field '${rest}'`,
      this.source,
      { start: fieldStart, end: e.span.end },
      joinHints(hints),
    );
  }

  // ---- comparisons --------------------------------------------------------------------------

  /** Text of `compare` with the unknown bare name `side` quoted, for the quoting hint. */
  private quotedVariant(e: CompareExpr, side: 'left' | 'right'): string | undefined {
    const target = e[side];
    if (target.kind !== 'ident' || target.path.length !== 1) return undefined;
    const quoted = quoteString(target.path[0]!);
    return side === 'right'
      ? `${this.text(e.left)} ${e.op} ${quoted}`
      : `${quoted} ${e.op} ${this.text(e.right)}`;
  }

  private compileCompare(e: CompareExpr): Compiled {
    let l = this.compile(e.left, this.quotedVariant(e, 'left'));
    let r = this.compile(e.right, this.quotedVariant(e, 'right'));
    for (const [c, n] of [
      [l, e.left],
      [r, e.right],
    ] as const) {
      if (c.type === 'null') {
        this.typeError(
          `NULL cannot be compared with '${e.op}'`,
          n.span,
          e.op === '!='
            ? `use IS NOT NULL: ${this.text(n === e.left ? e.right : e.left)} IS NOT NULL`
            : `use IS NULL: ${this.text(n === e.left ? e.right : e.left)} IS NULL`,
        );
      }
      if (c.type === 'region') {
        this.typeError(
          `regions cannot be compared with '${e.op}'`,
          n.span,
          'use OVERLAPS: visit.region OVERLAPS POINT(ra, dec)',
        );
      }
    }
    if (l.type === 'bool' || r.type === 'bool') {
      if (l.type !== r.type) this.mismatch(e, l, r);
      if (e.op !== '=' && e.op !== '!=') {
        this.typeError(
          `booleans can only be compared with = or !=`,
          e.span,
          'test a boolean directly: visit.is_good, NOT visit.is_good, or visit.is_good = TRUE',
        );
      }
    }
    // A string compared with a time must itself be a time; compare it in the normal form.
    if (l.type === 'timestamp' && r.type === 'string') r = this.asTime(r, e.right);
    if (r.type === 'timestamp' && l.type === 'string') l = this.asTime(l, e.left);
    const ok =
      (isNumeric(l.type) && isNumeric(r.type)) ||
      l.type === r.type ||
      (l.type === 'timestamp' && r.type === 'timestamp');
    if (!ok) this.mismatch(e, l, r);
    const op = e.op === '!=' ? '<>' : e.op;
    const lt = typedAgainst(l, r);
    const rt = typedAgainst(r, l);
    return {
      pieces: [...wrap(lt, SqlPrec.Additive), ` ${op} `, ...wrap(rt, SqlPrec.Additive)],
      type: 'bool',
      prec: SqlPrec.Compare,
    };
  }

  /** A string value (literal or bind) compared with a time: it must read as an ISO time. */
  private asTime(c: Compiled, n: Expr): Compiled {
    const v = c.value?.v;
    if (typeof v !== 'string') {
      this.typeError(
        `'${this.text(n)}' is a string expression compared with a time`,
        n.span,
        "compare times with time literals: T'2026-01-02T03:04:05'",
      );
    }
    const iso = normalizeIsoTime(v);
    if (iso === null) {
      const detail = `${JSON.stringify(v)} is not a time`;
      const hint = "write times in ISO-8601 form: T'2026-01-02T03:04:05'";
      if (n.kind === 'bind') this.bindError(detail, n.span, hint);
      this.typeError(detail, n.span, hint);
    }
    return boundValue(iso, 'timestamp');
  }

  /** Throws the WhereTypeError for `left op right` with incompatible types. */
  private mismatch(e: CompareExpr, l: Compiled, r: Compiled): never {
    // Point at the value side when the other side is a column.
    const [col, val, valNode] =
      l.column !== undefined && r.column === undefined
        ? [l, r, e.right]
        : r.column !== undefined && l.column === undefined
          ? [r, l, e.left]
          : [undefined, undefined, undefined];
    if (col === undefined || val === undefined || valNode === undefined) {
      this.typeError(
        `cannot compare ${this.describeType(l.type)} value with ${this.describeType(r.type)} value`,
        e.span,
        'both sides of a comparison need the same kind of value',
      );
    }
    const colText = this.text(col === l ? e.left : e.right);
    const rewrite = (valueText: string): string =>
      col === l ? `${colText} ${e.op} ${valueText}` : `${valueText} ${e.op} ${colText}`;
    let hint = `${colText} holds ${TYPE_WORDS[col.type]}`;
    const v = val.value?.v;
    if (col.type === 'string' && (typeof v === 'number' || typeof v === 'bigint')) {
      hint += `; strings need single quotes: ${rewrite(quoteString(String(v)))}`;
    } else if (isNumeric(col.type) && typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) {
      hint += `; write numbers without quotes: ${rewrite(v)}`;
    } else if (col.type === 'timestamp') {
      hint += `; write e.g. ${rewrite("T'2026-01-02T03:04:05'")}`;
    }
    this.valueError(
      valNode,
      `cannot compare ${colText} (${col.type}) with ${this.describeType(val.type)} value`,
      hint,
    );
  }

  // ---- IN -----------------------------------------------------------------------------------

  private compileIn(e: InExpr): Compiled {
    const o = this.compile(e.operand);
    if (o.type === 'null' || o.type === 'region') {
      this.typeError(
        `IN needs a value on its left, not ${this.describeType(o.type)} value`,
        e.operand.span,
      );
    }
    const operand = wrap(typedPlaceholder(o), SqlPrec.Additive);
    const listed: (readonly Piece[])[] = [];
    const conditions: Compiled[] = [];
    const checkItem = (c: Compiled, n: Expr): Compiled => {
      let item = c;
      if (o.type === 'timestamp' && c.type === 'string') item = this.asTime(c, n);
      const ok =
        (isNumeric(o.type) && isNumeric(item.type)) ||
        o.type === item.type ||
        (o.type === 'timestamp' && item.type === 'timestamp');
      if (!ok) {
        const operandText = this.text(e.operand);
        const v = item.value?.v;
        let hint = `${operandText} holds ${TYPE_WORDS[o.type]}`;
        if (o.type === 'string' && typeof v === 'number') {
          hint += `; strings need single quotes: ${quoteString(String(v))}`;
        } else if (isNumeric(o.type) && typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) {
          hint += `; write numbers without quotes: ${v}`;
        }
        this.valueError(
          n,
          `IN list entry ${this.text(n)} is ${this.describeType(item.type)} value, but ${operandText} is ${o.type}`,
          hint,
        );
      }
      return typedAgainst(item, o);
    };

    for (const item of e.items) {
      if (item.kind === 'range') {
        if (!isNumeric(o.type)) {
          this.typeError(
            `a range needs a numeric value on the left of IN, but '${this.text(e.operand)}' is ${o.type}`,
            item.span,
            o.type === 'string' ? "list strings one by one: band IN ('g', 'r')" : null,
          );
        }
        const stride = item.stride ?? 1;
        if (stride > 1 && o.type !== 'int') {
          this.typeError(
            `a range with a stride needs an integer value on the left of IN, but '${this.text(e.operand)}' is ${o.type}`,
            item.span,
            `drop the stride (${item.start}..${item.end}) or list the values one by one`,
          );
        }
        const count = Math.floor((item.end - item.start) / stride) + 1;
        if (count <= RANGE_EXPAND_LIMIT) {
          for (let v = item.start; v <= item.end; v += stride) listed.push([{ value: v }]);
        } else if (stride === 1) {
          conditions.push({
            pieces: [...operand, ' BETWEEN ', { value: item.start }, ' AND ', { value: item.end }],
            type: 'bool',
            prec: SqlPrec.Compare,
          });
        } else {
          conditions.push({
            pieces: [
              '(',
              ...operand,
              ' BETWEEN ',
              { value: item.start },
              ' AND ',
              { value: item.end },
              ' AND (',
              ...operand,
              ' - ',
              { value: item.start },
              ') % ',
              { value: stride },
              ' = 0)',
            ],
            type: 'bool',
            prec: SqlPrec.Atom,
          });
        }
        continue;
      }
      if (item.kind === 'bind') {
        const value = this.lookupBind(item);
        if (Array.isArray(value)) {
          for (const element of value) {
            const c = this.bindScalar(item, element, true);
            if (c.type === 'null') {
              this.bindError(
                `:${item.name} holds a null; NULL never matches in an IN list`,
                item.span,
                `drop the null, and test for it with ${this.text(e.operand)} IS NULL`,
              );
            }
            listed.push(wrap(checkItem(c, item), SqlPrec.Additive));
          }
          continue;
        }
      }
      const c = this.compile(item);
      if (c.type === 'null') {
        this.typeError(
          `NULL never matches in an IN list`,
          item.span,
          `test for it with ${this.text(e.operand)} IS NULL`,
        );
      }
      listed.push(wrap(checkItem(c, item), SqlPrec.Additive));
    }

    const parts: Compiled[] = [];
    if (listed.length > 0) {
      parts.push({
        pieces: [
          ...operand,
          e.negated && conditions.length === 0 ? ' NOT IN (' : ' IN (',
          ...joinPieces(listed, ', '),
          ')',
        ],
        type: 'bool',
        prec: SqlPrec.Compare,
      });
    }
    parts.push(...conditions);
    if (parts.length === 0) {
      // Only empty array binds: IN () matches nothing, NOT IN () everything.
      return { pieces: [e.negated ? '(1=1)' : '(1=0)'], type: 'bool', prec: SqlPrec.Atom };
    }
    if (parts.length === 1 && (!e.negated || conditions.length === 0)) return parts[0]!;
    const any: Compiled =
      parts.length === 1
        ? parts[0]!
        : {
            pieces: joinPieces(
              parts.map((p) => wrap(p, SqlPrec.Or)),
              ' OR ',
            ),
            type: 'bool',
            prec: SqlPrec.Or,
          };
    if (!e.negated) return any;
    return { pieces: ['NOT ', ...wrap(any, SqlPrec.Compare)], type: 'bool', prec: SqlPrec.Not };
  }

  // ---- binds --------------------------------------------------------------------------------

  private lookupBind(b: BindExpr): unknown {
    if (!Object.hasOwn(this.bind, b.name) || this.bind[b.name] === undefined) {
      const known = Object.keys(this.bind).filter((k) => this.bind[k] !== undefined);
      const close = closestNames(b.name, known);
      const hint =
        close.length > 0
          ? `did you mean :${close.join(' or :')}? `
          : known.length > 0
            ? `binds given: ${known.map((k) => `:${k}`).join(', ')}; `
            : '';
      this.bindError(
        `no value for bind :${b.name}`,
        b.span,
        `${hint}pass it in the bind map: { ${b.name}: ... }`,
      );
    }
    return this.bind[b.name];
  }

  private compileScalarBind(b: BindExpr): Compiled {
    const value = this.lookupBind(b);
    if (Array.isArray(value)) {
      this.bindError(
        `:${b.name} holds a list, which is only allowed in an IN list`,
        b.span,
        `write x IN (:${b.name})`,
      );
    }
    return this.bindScalar(b, value, false);
  }

  /** Compiled form of one scalar bind value (an element of a list when `inList`). */
  private bindScalar(b: BindExpr, value: unknown, inList: boolean): Compiled {
    const what = inList ? `an element of :${b.name}` : `:${b.name}`;
    switch (typeof value) {
      case 'number':
        if (!Number.isFinite(value)) {
          this.bindError(`${what} is ${value}`, b.span, 'bind finite numbers only');
        }
        return boundValue(value, Number.isInteger(value) ? 'int' : 'float');
      case 'bigint':
        return boundValue(value, 'int');
      case 'string':
        return boundValue(value, 'string');
      case 'boolean':
        return boolConstant(value);
      case 'object': {
        if (value === null) return { pieces: ['NULL'], type: 'null', prec: SqlPrec.Atom };
        if (value instanceof Date) {
          const iso = normalizeDate(value);
          if (iso === null) this.bindError(`${what} is an invalid Date`, b.span);
          return boundValue(iso, 'timestamp');
        }
        if (Array.isArray(value)) {
          this.bindError(`${what} is a nested list`, b.span, 'bind a flat list of values');
        }
        break;
      }
      default:
        break;
    }
    this.bindError(
      `${what} has an unsupported type (${value === null ? 'null' : typeof value})`,
      b.span,
      'bind numbers, bigints, strings, booleans, Dates, or lists of those for IN',
    );
  }

  // ---- OVERLAPS -----------------------------------------------------------------------------

  private compileOverlaps(operand: Expr, region: RegionCall | BindExpr): Compiled {
    if (operand.kind !== 'ident') {
      this.typeError(
        `OVERLAPS needs a region name on its left, not '${this.text(operand)}'`,
        operand.span,
        'write e.g. visit.region OVERLAPS POINT(150.1, 2.2) or patch OVERLAPS CIRCLE(150, 2, 0.1)',
      );
    }
    const literal = region.kind === 'bind' ? this.regionBind(region) : this.regionCall(region);
    const fragment = this.schema.overlaps(operand.path, literal);
    if (fragment === undefined) {
      const column = this.schema.column(operand.path);
      const name = operand.path.join('.');
      if (column !== undefined && operand.path.length > 1) {
        this.typeError(
          `${name} is ${this.describeType(column.type)} column, not a region`,
          operand.span,
          `name a region: ${operand.path[0]}.region, or a dimension with a region such as visit or patch`,
        );
      }
      const regions = this.schema.knownNames().filter((n) => n.endsWith('.region'));
      const close = closestNames(
        name,
        regions.flatMap((n) => [n, n.slice(0, -'.region'.length)]),
      );
      throw new WhereNameError(
        `'${name}' has no region`,
        this.source,
        operand.span,
        close.length > 0
          ? `did you mean ${close.join(' or ')}?`
          : regions.length > 0
            ? `regions: ${regions.join(', ')}`
            : null,
      );
    }
    if (fragment.text.length !== fragment.values.length + 1) {
      throw new RangeError(
        `WhereSchema.overlaps returned ${fragment.text.length} text pieces for ${fragment.values.length} values`,
      );
    }
    this.elements.add(operand.path[0]!);
    return { pieces: ['(', ...fromFragment(fragment), ')'], type: 'bool', prec: SqlPrec.Atom };
  }

  /** Value of a constant numeric region argument (degrees). */
  private constantNumber(e: Expr): number {
    switch (e.kind) {
      case 'int':
      case 'float':
        return e.value;
      case 'neg':
        return -this.constantNumber(e.operand);
      case 'arith': {
        const l = this.constantNumber(e.left);
        const r = this.constantNumber(e.right);
        switch (e.op) {
          case '+':
            return l + r;
          case '-':
            return l - r;
          case '*':
            return l * r;
          case '/':
            return l / r;
          case '%':
            return l % r;
        }
        break;
      }
      case 'bind': {
        const v = this.lookupBind(e);
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          this.bindError(
            `:${e.name} must be a finite number (degrees) here, got ${Array.isArray(v) ? 'a list' : typeof v}`,
            e.span,
          );
        }
        return v;
      }
      default:
        break;
    }
    this.typeError(
      `region arguments must be constant numbers in degrees, not '${this.text(e)}'`,
      e.span,
      'use numbers, :binds holding numbers, or arithmetic on them',
    );
  }

  private regionCall(r: RegionCall): RegionLiteral {
    const values = r.args.map((a) => {
      const v = this.constantNumber(a);
      if (!Number.isFinite(v)) this.typeError(`region argument is not finite (${v})`, a.span);
      return v;
    });
    const check = (index: number, ok: boolean, what: string): void => {
      if (ok) return;
      const arg = r.args[index]!;
      const detail = `invalid ${r.shape.toUpperCase()} ${what}: ${values[index]}`;
      if (arg.kind === 'bind') this.bindError(detail, arg.span);
      this.typeError(detail, arg.span, 'angles are in degrees; dec lies in [-90, 90]');
    };
    const v = (i: number): number => values[i]!;
    switch (r.shape) {
      case 'point':
        check(1, Math.abs(v(1)) <= 90, 'dec');
        return { kind: 'point', ra: v(0), dec: v(1) };
      case 'circle':
        check(1, Math.abs(v(1)) <= 90, 'dec');
        check(2, v(2) > 0 && v(2) <= 180, 'radius (needs 0 < radius <= 180)');
        return { kind: 'circle', ra: v(0), dec: v(1), radius: v(2) };
      case 'box':
        check(1, Math.abs(v(1)) <= 90, 'dec');
        check(2, v(2) > 0 && v(2) <= 360, 'width (needs 0 < width <= 360)');
        check(3, v(3) > 0 && v(3) <= 180, 'height (needs 0 < height <= 180)');
        return { kind: 'box', ra: v(0), dec: v(1), width: v(2), height: v(3) };
      case 'polygon': {
        const vertices: (readonly [number, number])[] = [];
        for (let i = 0; i < values.length; i += 2) {
          check(i + 1, Math.abs(v(i + 1)) <= 90, 'dec');
          vertices.push([v(i), v(i + 1)]);
        }
        return { kind: 'polygon', vertices };
      }
    }
  }

  private regionBind(b: BindExpr): RegionLiteral {
    const v = this.lookupBind(b);
    const bad = (why: string): never =>
      this.bindError(
        `:${b.name} is not a region (${why})`,
        b.span,
        "bind { kind: 'circle', ra, dec, radius } (or point / box / polygon), angles in degrees",
      );
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('not an object');
    const o = v as Record<string, unknown>;
    const num = (key: string): number => {
      const x = o[key];
      if (typeof x !== 'number' || !Number.isFinite(x)) return bad(`${key} is not a finite number`);
      return x;
    };
    const dec = (x: number): number =>
      Math.abs(x) <= 90 ? x : bad(`dec ${x} is outside [-90, 90]`);
    switch (o.kind) {
      case 'point':
        return { kind: 'point', ra: num('ra'), dec: dec(num('dec')) };
      case 'circle': {
        const radius = num('radius');
        if (!(radius > 0 && radius <= 180)) bad(`radius ${radius} is outside (0, 180]`);
        return { kind: 'circle', ra: num('ra'), dec: dec(num('dec')), radius };
      }
      case 'box': {
        const width = num('width');
        const height = num('height');
        if (!(width > 0 && width <= 360 && height > 0 && height <= 180)) {
          bad(`width ${width} / height ${height} out of range`);
        }
        return { kind: 'box', ra: num('ra'), dec: dec(num('dec')), width, height };
      }
      case 'polygon': {
        const raw = o.vertices;
        if (!Array.isArray(raw) || raw.length < 3)
          return bad('vertices must list at least 3 [ra, dec]');
        const vertices = raw.map((p: unknown): readonly [number, number] => {
          if (
            !Array.isArray(p) ||
            p.length !== 2 ||
            typeof p[0] !== 'number' ||
            typeof p[1] !== 'number' ||
            !Number.isFinite(p[0]) ||
            !Number.isFinite(p[1])
          ) {
            return bad('each vertex must be [ra, dec] in degrees');
          }
          return [p[0], dec(p[1])];
        });
        return { kind: 'polygon', vertices };
      }
      default:
        return bad(`unknown kind ${JSON.stringify(o.kind)}`);
    }
  }
}
