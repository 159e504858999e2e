/**
 * Pipeline contracts: boolean expressions over task configs that must hold for a pipeline to be
 * valid, e.g. `assembleCoadd.statistic == detect.statistic` or
 * `makeWarp.connections.coaddName == assembleCoadd.connections.coaddName`.
 *
 * LSST writes contracts in Python and evaluates them with `eval`; here they are a small, safe
 * language with a hand-written tokenizer, recursive-descent parser and tree-walking evaluator.
 * No host code is ever run: names resolve only to task labels (and `len`), attribute access
 * reads only own properties of config objects, and the only callable is `len()`. So
 * `__import__('os')` and `a.constructor.constructor('...')` are errors, not code.
 *
 * Grammar (Python precedence, lowest first):
 *
 *     expr       := and ('or' and)*
 *     and        := not ('and' not)*
 *     not        := 'not' not | comparison
 *     comparison := sum (compop sum)*          compop: == != < <= > >= in, not in, is, is not
 *     sum        := term (('+' | '-') term)*
 *     term       := unary (('*' | '/' | '//' | '%') unary)*
 *     unary      := ('-' | '+') unary | power
 *     power      := postfix ('**' unary)?
 *     postfix    := atom ('.' NAME | '[' expr ']' | '(' args ')')*
 *     atom       := NAME | NUMBER | STRING | True | False | None | '[' list ']' | '(' expr ')'
 *
 * Values follow Python: `1 == 1.0`, `True == 1`, chained comparisons (`0 < x <= 5`), `and`/`or`
 * return an operand, `in` tests list membership, substrings and mapping keys, `//` floors and
 * `%` takes the divisor's sign. Errors are {@link ContractExpressionError}s with the 0-based
 * character position of the offending token.
 */

import { ContractError, ContractExpressionError } from './errors.ts';
import { suggestNames } from './suggest.ts';

type TokenKind = 'name' | 'number' | 'string' | 'op' | 'end';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly pos: number;
  readonly value?: number | string;
}

/** A node of a parsed contract expression; `pos` is the 0-based offset of its token. */
export type ContractNode =
  | { readonly type: 'literal'; readonly value: ContractValue; readonly pos: number }
  | { readonly type: 'name'; readonly name: string; readonly pos: number }
  | { readonly type: 'list'; readonly items: readonly ContractNode[]; readonly pos: number }
  | {
      readonly type: 'attr';
      readonly object: ContractNode;
      readonly name: string;
      readonly pos: number;
    }
  | {
      readonly type: 'index';
      readonly object: ContractNode;
      readonly index: ContractNode;
      readonly pos: number;
    }
  | {
      readonly type: 'call';
      readonly callee: 'len';
      readonly args: readonly ContractNode[];
      readonly pos: number;
    }
  | {
      readonly type: 'unary';
      readonly op: '-' | '+' | 'not';
      readonly operand: ContractNode;
      readonly pos: number;
    }
  | {
      readonly type: 'binary';
      readonly op: '+' | '-' | '*' | '/' | '//' | '%' | '**';
      readonly left: ContractNode;
      readonly right: ContractNode;
      readonly pos: number;
    }
  | {
      readonly type: 'logic';
      readonly op: 'and' | 'or';
      readonly left: ContractNode;
      readonly right: ContractNode;
      readonly pos: number;
    }
  | {
      readonly type: 'compare';
      readonly first: ContractNode;
      readonly rest: readonly {
        readonly op: CompareOp;
        readonly right: ContractNode;
        readonly pos: number;
      }[];
      readonly pos: number;
    };

type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in' | 'is' | 'is not';

/** A value in a contract: JSON data (configs are JSON data). */
export type ContractValue =
  | null
  | boolean
  | number
  | string
  | readonly ContractValue[]
  | { readonly [key: string]: ContractValue };

const KEYWORDS = new Set([
  'and',
  'or',
  'not',
  'in',
  'is',
  'True',
  'False',
  'None',
  'if',
  'else',
  'lambda',
  'for',
]);
const OPERATORS = [
  '**',
  '//',
  '==',
  '!=',
  '<=',
  '>=',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '(',
  ')',
  '[',
  ']',
  ',',
  '.',
];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const err = (pos: number, detail: string, hint: string): ContractExpressionError =>
    new ContractExpressionError(text, pos, detail, hint);
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      let j = i + 1;
      while (j < text.length && /[A-Za-z0-9_]/.test(text[j]!)) j++;
      tokens.push({ kind: 'name', text: text.slice(i, j), pos: i });
      i = j;
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^(?:[0-9][0-9_]*)?(?:\.[0-9][0-9_]*|\.)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i));
      const lit = m?.[0] ?? '';
      const after = text[i + lit.length];
      if (lit === '' || (after !== undefined && /[A-Za-z_]/.test(after))) {
        throw err(
          i,
          `malformed number '${text.slice(i, i + lit.length + 1)}'`,
          'Write numbers like 3, 2.5 or 1e-3.',
        );
      }
      const value = Number(lit.replaceAll('_', ''));
      if (!Number.isFinite(value) || lit.includes('__') || lit.endsWith('_')) {
        throw err(i, `malformed number '${lit}'`, 'Write numbers like 3, 2.5 or 1e-3.');
      }
      tokens.push({ kind: 'number', text: lit, pos: i, value });
      i += lit.length;
      continue;
    }
    if (ch === '"' || ch === "'") {
      let j = i + 1;
      let out = '';
      for (;;) {
        if (j >= text.length) throw err(i, 'unterminated string', `Close the string with ${ch}.`);
        const c = text[j]!;
        if (c === ch) break;
        if (c === '\n')
          throw err(i, 'unterminated string', `Close the string with ${ch} on the same line.`);
        if (c === '\\') {
          const e = text[j + 1];
          const simple: Record<string, string> = {
            n: '\n',
            t: '\t',
            r: '\r',
            '\\': '\\',
            "'": "'",
            '"': '"',
            '0': '\0',
          };
          if (e !== undefined && e in simple) {
            out += simple[e];
            j += 2;
            continue;
          }
          const hex = e === 'x' ? 2 : e === 'u' ? 4 : 0;
          const digits = text.slice(j + 2, j + 2 + hex);
          if (hex > 0 && digits.length === hex && /^[0-9A-Fa-f]+$/.test(digits)) {
            out += String.fromCharCode(Number.parseInt(digits, 16));
            j += 2 + hex;
            continue;
          }
          throw err(
            j,
            `unknown escape '\\${e ?? ''}'`,
            'Use \\n, \\t, \\\\, \\\', \\", \\xNN or \\uNNNN.',
          );
        }
        out += c;
        j++;
      }
      tokens.push({ kind: 'string', text: text.slice(i, j + 1), pos: i, value: out });
      i = j + 1;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op !== undefined) {
      tokens.push({ kind: 'op', text: op, pos: i });
      i += op.length;
      continue;
    }
    throw err(
      i,
      `unexpected character '${ch}'`,
      ch === '=' ? 'Use == to compare.' : ch === '&' || ch === '|' ? 'Use and / or.' : 'Remove it.',
    );
  }
  tokens.push({ kind: 'end', text: '', pos: text.length });
  return tokens;
}

class Parser {
  private i = 0;
  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
  ) {}

  private peek(): Token {
    return this.tokens[this.i]!;
  }
  private next(): Token {
    const t = this.tokens[this.i]!;
    if (t.kind !== 'end') this.i++;
    return t;
  }
  private isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === text;
  }
  private isWord(text: string): boolean {
    const t = this.peek();
    return t.kind === 'name' && t.text === text;
  }
  private fail(t: Token, detail: string, hint: string): never {
    throw new ContractExpressionError(this.text, t.pos, detail, hint);
  }
  private describe(t: Token): string {
    return t.kind === 'end' ? 'end of expression' : `'${t.text}'`;
  }
  private expectOp(text: string, hint: string): Token {
    const t = this.peek();
    if (!this.isOp(text)) this.fail(t, `expected '${text}' but found ${this.describe(t)}`, hint);
    return this.next();
  }

  parse(): ContractNode {
    if (this.peek().kind === 'end')
      this.fail(this.peek(), 'empty contract', 'Write a boolean expression.');
    const node = this.orExpr();
    const t = this.peek();
    if (t.kind !== 'end') {
      this.fail(
        t,
        `unexpected ${this.describe(t)}`,
        'Join conditions with and / or; compare with ==.',
      );
    }
    return node;
  }

  private orExpr(): ContractNode {
    let left = this.andExpr();
    while (this.isWord('or')) {
      const t = this.next();
      left = { type: 'logic', op: 'or', left, right: this.andExpr(), pos: t.pos };
    }
    return left;
  }

  private andExpr(): ContractNode {
    let left = this.notExpr();
    while (this.isWord('and')) {
      const t = this.next();
      left = { type: 'logic', op: 'and', left, right: this.notExpr(), pos: t.pos };
    }
    return left;
  }

  private notExpr(): ContractNode {
    if (this.isWord('not')) {
      const t = this.next();
      return { type: 'unary', op: 'not', operand: this.notExpr(), pos: t.pos };
    }
    return this.comparison();
  }

  private compareOp(): { op: CompareOp; pos: number } | null {
    const t = this.peek();
    if (t.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.text)) {
      this.next();
      return { op: t.text as CompareOp, pos: t.pos };
    }
    if (this.isWord('in')) {
      this.next();
      return { op: 'in', pos: t.pos };
    }
    if (this.isWord('is')) {
      this.next();
      if (this.isWord('not')) {
        this.next();
        return { op: 'is not', pos: t.pos };
      }
      return { op: 'is', pos: t.pos };
    }
    if (
      this.isWord('not') &&
      this.tokens[this.i + 1]?.kind === 'name' &&
      this.tokens[this.i + 1]?.text === 'in'
    ) {
      this.next();
      this.next();
      return { op: 'not in', pos: t.pos };
    }
    return null;
  }

  private comparison(): ContractNode {
    const first = this.sum();
    const rest: { op: CompareOp; right: ContractNode; pos: number }[] = [];
    for (let op = this.compareOp(); op !== null; op = this.compareOp()) {
      rest.push({ op: op.op, right: this.sum(), pos: op.pos });
    }
    return rest.length === 0 ? first : { type: 'compare', first, rest, pos: first.pos };
  }

  private sum(): ContractNode {
    let left = this.term();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next();
      left = { type: 'binary', op: t.text as '+' | '-', left, right: this.term(), pos: t.pos };
    }
    return left;
  }

  private term(): ContractNode {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('//') || this.isOp('%')) {
      const t = this.next();
      left = {
        type: 'binary',
        op: t.text as '*' | '/' | '//' | '%',
        left,
        right: this.unary(),
        pos: t.pos,
      };
    }
    return left;
  }

  private unary(): ContractNode {
    if (this.isOp('-') || this.isOp('+')) {
      const t = this.next();
      return { type: 'unary', op: t.text as '-' | '+', operand: this.unary(), pos: t.pos };
    }
    return this.power();
  }

  private power(): ContractNode {
    const base = this.postfix();
    if (this.isOp('**')) {
      const t = this.next();
      return { type: 'binary', op: '**', left: base, right: this.unary(), pos: t.pos };
    }
    return base;
  }

  private postfix(): ContractNode {
    let node = this.atom();
    for (;;) {
      if (this.isOp('.')) {
        this.next();
        const t = this.peek();
        if (t.kind !== 'name' || KEYWORDS.has(t.text)) {
          this.fail(
            t,
            `expected an attribute name after '.' but found ${this.describe(t)}`,
            'Write label.field.',
          );
        }
        this.next();
        node = { type: 'attr', object: node, name: t.text, pos: t.pos };
      } else if (this.isOp('[')) {
        const t = this.next();
        const index = this.orExpr();
        this.expectOp(']', 'Close the subscript with ].');
        node = { type: 'index', object: node, index, pos: t.pos };
      } else if (this.isOp('(')) {
        const t = this.peek();
        if (node.type !== 'name' || node.name !== 'len') {
          this.fail(
            t,
            'only len() may be called in a contract',
            'Contracts compare config values; they cannot call functions or methods.',
          );
        }
        this.next();
        const args: ContractNode[] = [];
        if (!this.isOp(')')) {
          args.push(this.orExpr());
          while (this.isOp(',')) {
            this.next();
            if (this.isOp(')')) break;
            args.push(this.orExpr());
          }
        }
        this.expectOp(')', 'Close the call with ).');
        if (args.length !== 1)
          this.fail(t, `len() takes exactly one argument (${args.length} given)`, 'Write len(x).');
        node = { type: 'call', callee: 'len', args, pos: node.pos };
      } else {
        return node;
      }
    }
  }

  private atom(): ContractNode {
    const t = this.peek();
    if (t.kind === 'number' || t.kind === 'string') {
      this.next();
      return { type: 'literal', value: t.value as number | string, pos: t.pos };
    }
    if (t.kind === 'name') {
      if (t.text === 'True' || t.text === 'False' || t.text === 'None') {
        this.next();
        return { type: 'literal', value: t.text === 'None' ? null : t.text === 'True', pos: t.pos };
      }
      if (KEYWORDS.has(t.text))
        this.fail(t, `unexpected keyword '${t.text}'`, 'Contracts are single expressions.');
      this.next();
      return { type: 'name', name: t.text, pos: t.pos };
    }
    if (this.isOp('[')) {
      this.next();
      const items: ContractNode[] = [];
      if (!this.isOp(']')) {
        items.push(this.orExpr());
        while (this.isOp(',')) {
          this.next();
          if (this.isOp(']')) break;
          items.push(this.orExpr());
        }
      }
      this.expectOp(']', 'Close the list with ].');
      return { type: 'list', items, pos: t.pos };
    }
    if (this.isOp('(')) {
      this.next();
      const first = this.orExpr();
      if (this.isOp(',')) {
        // A tuple: evaluated as a list.
        const items = [first];
        while (this.isOp(',')) {
          this.next();
          if (this.isOp(')')) break;
          items.push(this.orExpr());
        }
        this.expectOp(')', 'Close the parenthesis.');
        return { type: 'list', items, pos: t.pos };
      }
      this.expectOp(')', 'Close the parenthesis.');
      return first;
    }
    this.fail(
      t,
      `unexpected ${this.describe(t)}`,
      'Expected a value: a label, a number, a string, True, False, None or a list.',
    );
  }
}

/** A parsed contract expression. */
export interface ParsedContract {
  /** The expression text. */
  readonly text: string;
  /** Its syntax tree. */
  readonly ast: ContractNode;
  /** Root names it refers to (task labels), e.g. `{'assembleCoadd', 'detect'}`. */
  readonly names: ReadonlySet<string>;
}

/**
 * Parses a contract expression.
 *
 * @throws ContractExpressionError with the position of the offending token.
 */
export function parseContract(text: string): ParsedContract {
  const ast = new Parser(text, tokenize(text)).parse();
  const names = new Set<string>();
  collectNames(ast, names);
  return { text, ast, names };
}

function collectNames(node: ContractNode, out: Set<string>): void {
  switch (node.type) {
    case 'literal':
      return;
    case 'name':
      out.add(node.name);
      return;
    case 'list':
      for (const i of node.items) collectNames(i, out);
      return;
    case 'attr':
      collectNames(node.object, out);
      return;
    case 'index':
      collectNames(node.object, out);
      collectNames(node.index, out);
      return;
    case 'call':
      for (const a of node.args) collectNames(a, out);
      return;
    case 'unary':
      collectNames(node.operand, out);
      return;
    case 'binary':
    case 'logic':
      collectNames(node.left, out);
      collectNames(node.right, out);
      return;
    case 'compare':
      collectNames(node.first, out);
      for (const r of node.rest) collectNames(r.right, out);
      return;
  }
}

function isMapping(v: unknown): v is { readonly [key: string]: ContractValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: ContractValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  return 'config group';
}

function truthy(v: ContractValue): boolean {
  if (v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  return Object.keys(v).length > 0;
}

function numeric(v: ContractValue): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

function equal(a: ContractValue, b: ContractValue): boolean {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== null && nb !== null) return na === nb;
  if (a === null || b === null) return a === b;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => equal(x, (b as readonly ContractValue[])[i]!));
  }
  if (isMapping(a) && isMapping(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && equal(a[k]!, b[k]!));
  }
  return false;
}

class Evaluator {
  constructor(
    private readonly text: string,
    private readonly env: Readonly<Record<string, ContractValue>>,
  ) {}

  private fail(pos: number, detail: string, hint: string): never {
    throw new ContractExpressionError(this.text, pos, detail, hint);
  }

  eval(node: ContractNode): ContractValue {
    switch (node.type) {
      case 'literal':
        return node.value;
      case 'name': {
        if (!Object.hasOwn(this.env, node.name)) {
          const close = suggestNames(node.name, Object.keys(this.env));
          this.fail(
            node.pos,
            `unknown name '${node.name}'`,
            `Names in contracts are task labels${close.length > 0 ? `; did you mean ${close.map((c) => `'${c}'`).join(' or ')}?` : ` (known: ${Object.keys(this.env).join(', ') || 'none'}).`}`,
          );
        }
        return this.env[node.name]!;
      }
      case 'list':
        return node.items.map((i) => this.eval(i));
      case 'attr': {
        const obj = this.eval(node.object);
        if (!isMapping(obj)) {
          this.fail(
            node.pos,
            `a ${typeName(obj)} has no attribute '${node.name}'`,
            'Attributes can only be read from configs and config groups.',
          );
        }
        if (!Object.hasOwn(obj, node.name)) {
          const close = suggestNames(node.name, Object.keys(obj));
          this.fail(
            node.pos,
            `no config field '${node.name}'`,
            close.length > 0
              ? `Did you mean ${close.map((c) => `'${c}'`).join(' or ')}?`
              : `Fields: ${Object.keys(obj).join(', ')}.`,
          );
        }
        return obj[node.name]!;
      }
      case 'index': {
        const obj = this.eval(node.object);
        const idx = this.eval(node.index);
        if (Array.isArray(obj) || typeof obj === 'string') {
          if (typeof idx !== 'number' || !Number.isInteger(idx)) {
            this.fail(
              node.index.pos,
              `${typeName(obj)} indices must be integers, not ${typeName(idx)}`,
              'Index with a whole number.',
            );
          }
          const n = obj.length;
          const k = idx < 0 ? n + idx : idx;
          if (k < 0 || k >= n)
            this.fail(
              node.index.pos,
              `index ${idx} out of range (length ${n})`,
              'Check the index.',
            );
          return (obj as readonly ContractValue[] | string)[k]!;
        }
        if (isMapping(obj)) {
          if (typeof idx !== 'string' || !Object.hasOwn(obj, idx)) {
            this.fail(
              node.index.pos,
              `key ${JSON.stringify(idx)} not found`,
              `Keys: ${Object.keys(obj).join(', ')}.`,
            );
          }
          return obj[idx]!;
        }
        return this.fail(
          node.pos,
          `a ${typeName(obj)} cannot be indexed`,
          'Index lists, strings and mappings only.',
        );
      }
      case 'call': {
        const v = this.eval(node.args[0]!);
        if (typeof v === 'string' || Array.isArray(v)) return v.length;
        if (isMapping(v)) return Object.keys(v).length;
        return this.fail(
          node.args[0]!.pos,
          `len() of a ${typeName(v)}`,
          'len() takes a list, string or mapping.',
        );
      }
      case 'unary': {
        const v = this.eval(node.operand);
        if (node.op === 'not') return !truthy(v);
        const n = numeric(v);
        if (n === null)
          this.fail(
            node.pos,
            `bad operand type for unary ${node.op}: ${typeName(v)}`,
            'Use a number.',
          );
        return node.op === '-' ? -n : n;
      }
      case 'logic': {
        const l = this.eval(node.left);
        if (node.op === 'and') return truthy(l) ? this.eval(node.right) : l;
        return truthy(l) ? l : this.eval(node.right);
      }
      case 'binary':
        return this.binary(node.op, this.eval(node.left), this.eval(node.right), node.pos);
      case 'compare': {
        let left = this.eval(node.first);
        for (const r of node.rest) {
          const right = this.eval(r.right);
          if (!this.compare(r.op, left, right, r.pos)) return false;
          left = right;
        }
        return true;
      }
    }
  }

  private binary(op: string, a: ContractValue, b: ContractValue, pos: number): ContractValue {
    const na = numeric(a);
    const nb = numeric(b);
    if (na !== null && nb !== null) {
      switch (op) {
        case '+':
          return na + nb;
        case '-':
          return na - nb;
        case '*':
          return na * nb;
        case '/':
          if (nb === 0) this.fail(pos, 'division by zero', 'Check the divisor.');
          return na / nb;
        case '//':
          if (nb === 0) this.fail(pos, 'division by zero', 'Check the divisor.');
          return Math.floor(na / nb);
        case '%':
          if (nb === 0) this.fail(pos, 'modulo by zero', 'Check the divisor.');
          return ((na % nb) + nb) % nb;
        case '**':
          return na ** nb;
      }
    }
    if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
    if (op === '+' && Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
    if (op === '*') {
      const [seq, count] = typeof a === 'string' || Array.isArray(a) ? [a, nb] : [b, na];
      if (
        (typeof seq === 'string' || Array.isArray(seq)) &&
        count !== null &&
        Number.isInteger(count)
      ) {
        const n = Math.max(0, count);
        if (n * seq.length > 1_000_000)
          this.fail(
            pos,
            'repetition result too large',
            'Contracts compare configs; keep values small.',
          );
        if (typeof seq === 'string') return seq.repeat(n);
        return Array.from({ length: n }, () => seq).flat();
      }
    }
    this.fail(
      pos,
      `unsupported operand types for ${op}: ${typeName(a)} and ${typeName(b)}`,
      'Check the operands.',
    );
  }

  private compare(op: CompareOp, a: ContractValue, b: ContractValue, pos: number): boolean {
    switch (op) {
      case '==':
        return equal(a, b);
      case '!=':
        return !equal(a, b);
      case 'is':
        return a === b || (a === null && b === null);
      case 'is not':
        return !(a === b || (a === null && b === null));
      case 'in':
      case 'not in': {
        let found: boolean;
        if (Array.isArray(b)) found = b.some((x) => equal(a, x));
        else if (typeof b === 'string') {
          if (typeof a !== 'string')
            this.fail(
              pos,
              `'in <str>' requires a string on the left, not ${typeName(a)}`,
              'Compare strings.',
            );
          found = b.includes(a);
        } else if (isMapping(b)) found = typeof a === 'string' && Object.hasOwn(b, a);
        else
          this.fail(
            pos,
            `argument of type ${typeName(b)} is not a container`,
            "Use 'in' with a list, string or mapping.",
          );
        return op === 'in' ? found : !found;
      }
      default:
        return this.order(op, a, b, pos);
    }
  }

  private order(
    op: '<' | '<=' | '>' | '>=',
    a: ContractValue,
    b: ContractValue,
    pos: number,
  ): boolean {
    const c = this.cmp(a, b, op, pos);
    return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
  }

  private cmp(a: ContractValue, b: ContractValue, op: string, pos: number): number {
    const na = numeric(a);
    const nb = numeric(b);
    if (na !== null && nb !== null) return na < nb ? -1 : na > nb ? 1 : 0;
    if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
    if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = 0; i < Math.min(a.length, b.length); i++) {
        if (!equal(a[i]!, b[i]!)) return this.cmp(a[i]!, b[i]!, op, pos);
      }
      return a.length - b.length;
    }
    this.fail(
      pos,
      `'${op}' not supported between ${typeName(a)} and ${typeName(b)}`,
      'Compare numbers with numbers and strings with strings.',
    );
  }
}

/**
 * Evaluates a contract against an environment of label -> config and returns its value.
 *
 * @throws ContractExpressionError for syntax errors, unknown names or fields, type errors.
 */
export function evaluateContract(
  contract: string | ParsedContract,
  env: Readonly<Record<string, unknown>>,
): ContractValue {
  const parsed = typeof contract === 'string' ? parseContract(contract) : contract;
  return new Evaluator(parsed.text, env as Readonly<Record<string, ContractValue>>).eval(
    parsed.ast,
  );
}

/** A contract as written in a pipeline: the expression and an optional message. */
export interface ContractSpec {
  /** The expression. */
  readonly contract: string;
  /** Message shown when it fails. */
  readonly msg?: string;
}

/**
 * Checks every contract against the configs (label -> resolved config); the first one that is
 * false raises.
 *
 * @throws ContractError for a false contract (with its `msg`).
 * @throws ContractExpressionError for a malformed one.
 */
export function checkContracts(
  contracts: readonly ContractSpec[],
  configs:
    | ReadonlyMap<string, Readonly<Record<string, unknown>>>
    | Readonly<Record<string, unknown>>,
): void {
  const env: Record<string, unknown> =
    configs instanceof Map
      ? Object.fromEntries(configs)
      : { ...(configs as Readonly<Record<string, unknown>>) };
  for (const c of contracts) {
    if (!truthy(evaluateContract(c.contract, env)))
      throw new ContractError(c.contract, c.msg ?? null);
  }
}
