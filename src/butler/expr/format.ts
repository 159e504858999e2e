/**
 * Printing syntax trees back to `where` text. The output parses back to the same tree
 * (spans aside): parentheses are added exactly where precedence or associativity needs them.
 */

import type { Expr, InItem, Node, RegionCall } from './ast.ts';

/** Binding strength of printed nodes, loosest first. */
const Prec = {
  Or: 1,
  And: 2,
  Not: 3,
  Predicate: 4,
  Additive: 5,
  Multiplicative: 6,
  Unary: 7,
  Primary: 8,
} as const;
type Prec = (typeof Prec)[keyof typeof Prec];

function precedence(e: Expr): Prec {
  switch (e.kind) {
    case 'logical':
      return e.op === 'OR' ? Prec.Or : Prec.And;
    case 'not':
      return Prec.Not;
    case 'compare':
    case 'in':
    case 'isNull':
    case 'overlaps':
      return Prec.Predicate;
    case 'arith':
      return e.op === '+' || e.op === '-' ? Prec.Additive : Prec.Multiplicative;
    case 'neg':
      return Prec.Unary;
    default:
      return Prec.Primary;
  }
}

/** `e` printed, in parentheses when it binds looser than `min`. */
function operand(e: Expr, min: Prec): string {
  const text = formatExpr(e);
  return precedence(e) < min ? `(${text})` : text;
}

function formatNumber(kind: 'int' | 'float', value: number): string {
  const text = String(value);
  // A float must stay a float when read back: 2 would read as an int.
  return kind === 'float' && !/[.eE]/.test(text) ? `${text}.0` : text;
}

function formatItem(item: InItem): string {
  if (item.kind === 'range') {
    const range = `${item.start}..${item.end}`;
    return item.stride === null ? range : `${range}:${item.stride}`;
  }
  return operand(item, Prec.Additive);
}

function formatRegion(r: RegionCall): string {
  return `${r.shape.toUpperCase()}(${r.args.map((a) => operand(a, Prec.Additive)).join(', ')})`;
}

/** A quoted `where` string literal for `value` (single quotes, a quote doubled). */
export function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * `where` text for a tree; `parseWhere(formatExpr(e))` gives back `e` up to spans. Keywords
 * are upper-case, binary operators have one space either side, `<>` prints as `!=`.
 */
export function formatExpr(e: Expr): string {
  switch (e.kind) {
    case 'logical': {
      const p = precedence(e);
      return `${operand(e.left, p)} ${e.op} ${operand(e.right, (p + 1) as Prec)}`;
    }
    case 'not':
      return `NOT ${operand(e.operand, Prec.Not)}`;
    case 'compare':
      return `${operand(e.left, Prec.Additive)} ${e.op} ${operand(e.right, Prec.Additive)}`;
    case 'in':
      return `${operand(e.operand, Prec.Additive)} ${e.negated ? 'NOT IN' : 'IN'} (${e.items.map(formatItem).join(', ')})`;
    case 'isNull':
      return `${operand(e.operand, Prec.Additive)} IS ${e.negated ? 'NOT NULL' : 'NULL'}`;
    case 'overlaps':
      return `${operand(e.operand, Prec.Additive)} OVERLAPS ${e.region.kind === 'bind' ? `:${e.region.name}` : formatRegion(e.region)}`;
    case 'arith': {
      const p = precedence(e);
      return `${operand(e.left, p)} ${e.op} ${operand(e.right, (p + 1) as Prec)}`;
    }
    case 'neg': {
      const inner = e.operand;
      // -(5) stays a negation (-5 would read as a literal); -(-x) avoids '--'.
      const wrap =
        inner.kind === 'int' || inner.kind === 'float' || inner.kind === 'neg'
          ? `(${formatExpr(inner)})`
          : operand(inner, Prec.Unary);
      return `-${wrap}`;
    }
    case 'ident':
      return e.path.join('.');
    case 'bind':
      return `:${e.name}`;
    case 'int':
    case 'float':
      return formatNumber(e.kind, e.value);
    case 'string':
      return quoteString(e.value);
    case 'time':
      return `T'${e.text}'`;
    case 'bool':
      return e.value ? 'TRUE' : 'FALSE';
    case 'null':
      return 'NULL';
  }
}

/** Text for any node, including IN-list ranges and region constructors. */
export function formatNode(n: Node): string {
  if (n.kind === 'range') return formatItem(n);
  if (n.kind === 'regionCall') return formatRegion(n);
  return formatExpr(n);
}
