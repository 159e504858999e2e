/** Tree traversal for `where` syntax trees. */

import type { Node } from './ast.ts';

/** The direct children of a node, left to right as they appear in the source. */
export function childNodes(n: Node): Node[] {
  switch (n.kind) {
    case 'logical':
    case 'compare':
    case 'arith':
      return [n.left, n.right];
    case 'not':
    case 'neg':
    case 'isNull':
      return [n.operand];
    case 'in':
      return [n.operand, ...n.items];
    case 'overlaps':
      return [n.operand, n.region];
    case 'regionCall':
      return [...n.args];
    default:
      return [];
  }
}

/** Calls `visit` on `root` and every node below it, parents before children. */
export function walkNodes(root: Node, visit: (n: Node) => void): void {
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    visit(n);
    const kids = childNodes(n);
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
}

const sources = new WeakMap<Node, string>();

/** Remembers that `root` and every node below it were parsed from `text` (their spans index it). */
export function recordSource(root: Node, text: string): void {
  walkNodes(root, (n) => {
    sources.set(n, text);
  });
}

/** The text a node was parsed from, when it came from `parseWhere` unchanged. */
export function sourceOf(n: Node): string | undefined {
  return sources.get(n);
}
