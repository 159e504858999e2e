/** Test helpers: compact S-expressions for `where` trees, and trees without spans. */

import type { Node } from '../../../src/butler/expr/index.ts';

/**
 * A compact, span-free rendering of a tree, e.g. `(OR (= visit 12) (NOT (IN band 'r')))`,
 * so tests can state a whole tree's shape in one line.
 */
export function sexpr(n: Node): string {
  switch (n.kind) {
    case 'logical':
      return `(${n.op} ${sexpr(n.left)} ${sexpr(n.right)})`;
    case 'not':
      return `(NOT ${sexpr(n.operand)})`;
    case 'compare':
    case 'arith':
      return `(${n.op} ${sexpr(n.left)} ${sexpr(n.right)})`;
    case 'neg':
      return `(neg ${sexpr(n.operand)})`;
    case 'in':
      return `(${n.negated ? 'NOTIN' : 'IN'} ${sexpr(n.operand)} ${n.items.map(sexpr).join(' ')})`;
    case 'range':
      return `[${n.start}..${n.end}${n.stride === null ? '' : `:${n.stride}`}]`;
    case 'isNull':
      return `(${n.negated ? 'ISNOTNULL' : 'ISNULL'} ${sexpr(n.operand)})`;
    case 'overlaps':
      return `(OVERLAPS ${sexpr(n.operand)} ${sexpr(n.region)})`;
    case 'regionCall':
      return `(${n.shape} ${n.args.map(sexpr).join(' ')})`;
    case 'ident':
      return n.path.join('.');
    case 'bind':
      return `:${n.name}`;
    case 'int':
      return `${n.value}`;
    case 'float':
      return `${n.value}f`;
    case 'string':
      return `'${n.value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
    case 'time':
      return `T(${n.iso})`;
    case 'bool':
      return n.value ? 'TRUE' : 'FALSE';
    case 'null':
      return 'NULL';
  }
}

/** A deep copy of a tree with every `span` removed, for structural comparison. */
export function stripSpans(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSpans);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k !== 'span') out[k] = stripSpans(v);
    }
    return out;
  }
  return value;
}
