/**
 * Recursive-descent parser of the `where` language. Precedence, loosest first:
 * OR, AND, NOT, predicates (comparison, [NOT] IN, IS [NOT] NULL, OVERLAPS; not chainable),
 * `+ -`, `* / %`, unary minus, primaries (literals, names, binds, parentheses).
 */

import type {
  ArithOp,
  BindExpr,
  CompareOp,
  Expr,
  InItem,
  RangeItem,
  RegionCall,
  RegionShape,
  Span,
} from './ast.ts';
import { WhereSyntaxError } from './errors.ts';
import { type Keyword, type Token, tokenize } from './lexer.ts';
import { recordSource } from './walk.ts';

/** Number of arguments each region constructor takes (polygon: at least 6, an even count). */
const REGION_ARITY: Readonly<Record<RegionShape, { count: number; names: string }>> = {
  point: { count: 2, names: 'ra, dec' },
  circle: { count: 3, names: 'ra, dec, radius' },
  box: { count: 4, names: 'ra, dec, width, height' },
  polygon: { count: 6, names: 'ra1, dec1, ra2, dec2, ra3, dec3, ...' },
};

/**
 * Parse a `where` expression. Returns null for empty or all-whitespace text; throws
 * {@link WhereSyntaxError} (with the offending span) for anything that does not parse.
 */
export function parseWhere(text: string): Expr | null {
  const tokens = tokenize(text);
  if (tokens.length === 1) return null;
  const expr = new Parser(text, tokens).parseAll();
  recordSource(expr, text);
  return expr;
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of expression';
    case 'lparen':
      return "'('";
    case 'rparen':
      return "')'";
    case 'comma':
      return "','";
    case 'dotdot':
      return "'..'";
    case 'colon':
      return "':'";
    case 'keyword':
      return t.value;
    case 'op':
      return `'${t.value}'`;
    case 'ident':
      return `name '${t.path.join('.')}'`;
    case 'bind':
      return `bind ':${t.name}'`;
    case 'string':
      return `string ${JSON.stringify(t.value)}`;
    case 'time':
      return `time T'${t.text}'`;
    case 'int':
    case 'float':
      return `number ${t.value}`;
  }
}

const COMPARE_OPS: ReadonlySet<string> = new Set(['=', '!=', '<>', '<', '<=', '>', '>=']);

class Parser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
  ) {}

  parseAll(): Expr {
    const expr = this.parseOr();
    const t = this.peek();
    if (t.kind !== 'eof') {
      if (t.kind === 'rparen') {
        this.fail(`unexpected ')'`, t, "there is no '(' open for this ')' to close");
      }
      if (t.kind === 'op' && COMPARE_OPS.has(t.value)) {
        this.fail(
          `unexpected ${describe(t)}`,
          t,
          'comparisons do not chain; combine them with AND: 1 < x AND x < 5',
        );
      }
      this.fail(
        `unexpected ${describe(t)}`,
        t,
        "combine conditions with AND or OR; strings need single quotes: band = 'r'",
      );
    }
    return expr;
  }

  // ---- token access -------------------------------------------------------------------------

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.pos + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  /** End offset of the last consumed token (start of the text when none). */
  private lastEnd(): number {
    return this.pos === 0 ? 0 : this.tokens[this.pos - 1]!.end;
  }

  private spanFrom(start: number): Span {
    return { start, end: this.lastEnd() };
  }

  private isKeyword(t: Token, word: Keyword): boolean {
    return t.kind === 'keyword' && t.value === word;
  }

  private fail(detail: string, at: Span, hint: string | null = null): never {
    throw new WhereSyntaxError(detail, this.text, { start: at.start, end: at.end }, hint);
  }

  /** Fails because an operand is missing at the current token (which follows `after`). */
  private failMissingOperand(after: Token, what: string): never {
    const t = this.peek();
    if (t.kind === 'eof') {
      this.fail(
        `unexpected end of expression after ${describe(after)}`,
        after,
        `${describe(after)} needs ${what} after it`,
      );
    }
    this.fail(`unexpected ${describe(t)}`, t, `expected ${what} after ${describe(after)}`);
  }

  // ---- grammar ------------------------------------------------------------------------------

  private parseOr(): Expr {
    const start = this.peek().start;
    let left = this.parseAnd();
    while (this.isKeyword(this.peek(), 'OR')) {
      const op = this.next();
      const right = this.parseOperandOf(op, () => this.parseAnd(), 'a condition');
      left = { kind: 'logical', op: 'OR', left, right, span: this.spanFrom(start) };
    }
    return left;
  }

  private parseAnd(): Expr {
    const start = this.peek().start;
    let left = this.parseNot();
    while (this.isKeyword(this.peek(), 'AND')) {
      const op = this.next();
      const right = this.parseOperandOf(op, () => this.parseNot(), 'a condition');
      left = { kind: 'logical', op: 'AND', left, right, span: this.spanFrom(start) };
    }
    return left;
  }

  private parseNot(): Expr {
    const t = this.peek();
    if (this.isKeyword(t, 'NOT')) {
      this.next();
      const operand = this.parseOperandOf(t, () => this.parseNot(), 'a condition');
      return { kind: 'not', operand, span: this.spanFrom(t.start) };
    }
    return this.parsePredicate();
  }

  /** Parses the operand following operator token `op`, with a clear error when there is none. */
  private parseOperandOf(op: Token, parse: () => Expr, what: string): Expr {
    if (!this.startsOperand(this.peek())) this.failMissingOperand(op, what);
    return parse();
  }

  private startsOperand(t: Token): boolean {
    switch (t.kind) {
      case 'int':
      case 'float':
      case 'string':
      case 'time':
      case 'ident':
      case 'bind':
      case 'lparen':
        return true;
      case 'keyword':
        return t.value === 'NOT' || t.value === 'TRUE' || t.value === 'FALSE' || t.value === 'NULL';
      case 'op':
        return t.value === '-' || t.value === '+';
      default:
        return false;
    }
  }

  private parsePredicate(): Expr {
    const start = this.peek().start;
    const left = this.parseAdditive();
    const t = this.peek();
    if (t.kind === 'op' && COMPARE_OPS.has(t.value)) {
      this.next();
      const right = this.parseOperandOf(t, () => this.parseAdditive(), 'a value');
      const op: CompareOp = t.value === '<>' ? '!=' : (t.value as CompareOp);
      const after = this.peek();
      if (after.kind === 'op' && COMPARE_OPS.has(after.value)) {
        this.fail(`comparisons cannot be chained`, after, 'combine them with AND: 1 < x AND x < 5');
      }
      if (after.kind === 'dotdot') this.failRangeOutsideIn(after);
      return { kind: 'compare', op, left, right, span: this.spanFrom(start) };
    }
    if (this.isKeyword(t, 'IN')) {
      this.next();
      return this.parseInList(start, left, false, t);
    }
    if (this.isKeyword(t, 'NOT')) {
      const t2 = this.peek(1);
      if (this.isKeyword(t2, 'IN')) {
        this.next();
        this.next();
        return this.parseInList(start, left, true, t2);
      }
      this.fail(
        `unexpected NOT`,
        t,
        'NOT goes before a condition (NOT visit = 12) or before IN (visit NOT IN (1, 2))',
      );
    }
    if (this.isKeyword(t, 'IS')) {
      this.next();
      const negated = this.isKeyword(this.peek(), 'NOT');
      if (negated) this.next();
      const n = this.peek();
      if (!this.isKeyword(n, 'NULL')) {
        this.fail(
          n.kind === 'eof' ? `unexpected end of expression after IS` : `unexpected ${describe(n)}`,
          n.kind === 'eof' ? t : n,
          'IS is only used as IS NULL or IS NOT NULL',
        );
      }
      this.next();
      return { kind: 'isNull', negated, operand: left, span: this.spanFrom(start) };
    }
    if (this.isKeyword(t, 'OVERLAPS')) {
      this.next();
      const region = this.parseRegion(t);
      return { kind: 'overlaps', operand: left, region, span: this.spanFrom(start) };
    }
    if (t.kind === 'dotdot') this.failRangeOutsideIn(t);
    return left;
  }

  private failRangeOutsideIn(t: Token): never {
    this.fail(`a range is only allowed inside IN (...)`, t, 'write visit IN (10..20)');
  }

  private parseInList(start: number, operand: Expr, negated: boolean, inToken: Token): Expr {
    const open = this.peek();
    if (open.kind !== 'lparen') {
      if (open.kind === 'eof') {
        this.fail(
          `unexpected end of expression after IN`,
          inToken,
          'IN needs a parenthesised list: visit IN (1, 2, 10..20)',
        );
      }
      this.fail(
        `unexpected ${describe(open)}`,
        open,
        'IN needs a parenthesised list: visit IN (1, 2, 10..20)',
      );
    }
    this.next();
    if (this.peek().kind === 'rparen') {
      const close = this.next();
      this.fail(
        `empty IN list`,
        { start: open.start, end: close.end },
        'put at least one value inside IN (...); an empty list matches nothing',
      );
    }
    const items: InItem[] = [];
    for (;;) {
      const t = this.peek();
      if (!this.startsOperand(t) || this.isKeyword(t, 'NOT')) {
        if (t.kind === 'eof') this.failUnclosed(open);
        this.fail(
          `unexpected ${describe(t)} in IN list`,
          t,
          'IN lists hold values, :binds and ranges separated by commas: (1, 5..9, :ids)',
        );
      }
      items.push(this.parseInItem());
      const sep = this.peek();
      if (sep.kind === 'comma') {
        this.next();
        continue;
      }
      if (sep.kind === 'rparen') {
        this.next();
        break;
      }
      if (sep.kind === 'eof') this.failUnclosed(open);
      this.fail(
        `expected ',' or ')' in IN list, found ${describe(sep)}`,
        sep,
        'separate IN list entries with commas: (1, 2, 10..20)',
      );
    }
    return { kind: 'in', negated, operand, items, span: this.spanFrom(start) };
  }

  private failUnclosed(open: Token): never {
    this.fail(`unclosed '('`, open, "add the missing ')'");
  }

  private parseInItem(): InItem {
    const start = this.peek().start;
    const first = this.parseAdditive();
    const dd = this.peek();
    if (dd.kind !== 'dotdot') return first;
    if (first.kind !== 'int') {
      this.fail(
        `a range must start with an integer`,
        first.span,
        'ranges are integer literals: 10..20 or 10..20:2',
      );
    }
    this.next();
    const endTok = this.peek();
    const negative = endTok.kind === 'op' && endTok.value === '-' && this.peek(1).kind === 'int';
    const numberTok = negative ? this.peek(1) : endTok;
    if (numberTok.kind !== 'int') {
      if (numberTok.kind === 'float') {
        this.fail(
          `a range must end with an integer`,
          numberTok,
          'ranges are integer literals: 10..20',
        );
      }
      this.fail(
        `range '${this.text.slice(start, dd.end)}' has no end`,
        { start, end: dd.end },
        'write both ends of an inclusive range: 10..20',
      );
    }
    if (negative) this.next();
    this.next();
    const end = negative ? -numberTok.value || 0 : numberTok.value;
    let stride: number | null = null;
    const after = this.peek();
    if (after.kind === 'bind' && after.start === this.lastEnd()) {
      // `1..10:n` lexes as a range then a bind.
      this.fail(
        `a range stride must be a positive integer`,
        after,
        'strides are integer literals (10..20:2); a :bind cannot be a stride',
      );
    }
    if (after.kind === 'colon') {
      const colon = this.next();
      const s = this.peek();
      if (s.kind !== 'int') {
        this.fail(
          `a range stride must be a positive integer`,
          s.kind === 'eof' || s.kind === 'rparen' || s.kind === 'comma' ? colon : s,
          'write the stride after the colon: 10..20:2',
        );
      }
      this.next();
      stride = s.value;
      if (stride <= 0) {
        this.fail(`a range stride must be a positive integer`, s, 'write e.g. 10..20:2');
      }
    }
    const span = this.spanFrom(start);
    if (end < first.value) {
      this.fail(
        `range ${first.value}..${end} is empty (its end is before its start)`,
        span,
        `write the smaller number first: ${end}..${first.value}`,
      );
    }
    const range: RangeItem = { kind: 'range', start: first.value, end, stride, span };
    return range;
  }

  private parseRegion(overlaps: Token): RegionCall | BindExpr {
    const t = this.peek();
    const hint =
      'OVERLAPS takes POINT(ra, dec), CIRCLE(ra, dec, r), BOX(ra, dec, w, h), POLYGON(ra1, dec1, ...) in degrees, or a :bind';
    if (t.kind === 'bind') {
      this.next();
      return { kind: 'bind', name: t.name, span: { start: t.start, end: t.end } };
    }
    if (t.kind === 'eof') this.fail(`unexpected end of expression after OVERLAPS`, overlaps, hint);
    const shape = t.kind === 'ident' && t.path.length === 1 ? t.path[0]!.toLowerCase() : '';
    if (!(shape in REGION_ARITY) || this.peek(1).kind !== 'lparen') {
      this.fail(`unexpected ${describe(t)} after OVERLAPS`, t, hint);
    }
    const regionShape = shape as RegionShape;
    this.next();
    const open = this.next();
    const args: Expr[] = [];
    if (this.peek().kind !== 'rparen') {
      for (;;) {
        const a = this.peek();
        if (!this.startsOperand(a) || this.isKeyword(a, 'NOT')) {
          if (a.kind === 'eof') this.failUnclosed(open);
          this.fail(
            `unexpected ${describe(a)} in ${regionShape.toUpperCase()}(...)`,
            a,
            'region arguments are numbers in degrees or :binds, separated by commas',
          );
        }
        args.push(this.parseAdditive());
        const sep = this.peek();
        if (sep.kind === 'comma') {
          this.next();
          continue;
        }
        if (sep.kind === 'rparen') break;
        if (sep.kind === 'eof') this.failUnclosed(open);
        this.fail(
          `expected ',' or ')' in ${regionShape.toUpperCase()}(...), found ${describe(sep)}`,
          sep,
          'separate region arguments with commas',
        );
      }
    }
    this.next();
    const span = this.spanFrom(t.start);
    const arity = REGION_ARITY[regionShape];
    const name = regionShape.toUpperCase();
    if (regionShape === 'polygon') {
      if (args.length < arity.count || args.length % 2 !== 0) {
        this.fail(
          `POLYGON needs an even number (at least 6) of arguments, got ${args.length}`,
          span,
          'POLYGON(ra1, dec1, ra2, dec2, ra3, dec3, ...) lists vertices in degrees',
        );
      }
    } else if (args.length !== arity.count) {
      this.fail(
        `${name} takes ${arity.count} arguments, got ${args.length}`,
        span,
        `write ${name}(${arity.names}) in degrees`,
      );
    }
    return { kind: 'regionCall', shape: regionShape, args, span };
  }

  private parseAdditive(): Expr {
    const start = this.peek().start;
    let left = this.parseMultiplicative();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || (t.value !== '+' && t.value !== '-')) return left;
      this.next();
      const right = this.parseOperandOf(t, () => this.parseMultiplicative(), 'a number');
      left = { kind: 'arith', op: t.value, left, right, span: this.spanFrom(start) };
    }
  }

  private parseMultiplicative(): Expr {
    const start = this.peek().start;
    let left = this.parseUnary();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || (t.value !== '*' && t.value !== '/' && t.value !== '%')) return left;
      this.next();
      const right = this.parseOperandOf(t, () => this.parseUnary(), 'a number');
      const op: ArithOp = t.value;
      left = { kind: 'arith', op, left, right, span: this.spanFrom(start) };
    }
  }

  private parseUnary(): Expr {
    const t = this.peek();
    if (t.kind === 'op' && (t.value === '-' || t.value === '+')) {
      this.next();
      const n = this.peek();
      if (t.value === '-' && (n.kind === 'int' || n.kind === 'float')) {
        // A minus written directly before a number is part of the literal: -5 is an int.
        this.next();
        const value = -n.value || 0;
        return { kind: n.kind, value, span: this.spanFrom(t.start) };
      }
      const operand = this.parseOperandOf(t, () => this.parseUnary(), 'a number');
      if (t.value === '+') return operand;
      return { kind: 'neg', operand, span: this.spanFrom(t.start) };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    const span = { start: t.start, end: t.end };
    switch (t.kind) {
      case 'int':
      case 'float':
        this.next();
        return { kind: t.kind, value: t.value, span };
      case 'string':
        this.next();
        return { kind: 'string', value: t.value, span };
      case 'time':
        this.next();
        return { kind: 'time', text: t.text, iso: t.iso, span };
      case 'ident':
        this.next();
        return { kind: 'ident', path: t.path, span };
      case 'bind':
        this.next();
        return { kind: 'bind', name: t.name, span };
      case 'keyword':
        if (t.value === 'TRUE' || t.value === 'FALSE') {
          this.next();
          return { kind: 'bool', value: t.value === 'TRUE', span };
        }
        if (t.value === 'NULL') {
          this.next();
          return { kind: 'null', span };
        }
        break;
      case 'lparen': {
        this.next();
        if (this.peek().kind === 'rparen') {
          const close = this.next();
          this.fail(
            `empty parentheses`,
            { start: t.start, end: close.end },
            'put a condition or value inside ( )',
          );
        }
        const inner = this.parseOperandOf(t, () => this.parseOr(), 'a condition or value');
        const close = this.peek();
        if (close.kind === 'rparen') {
          this.next();
          return inner;
        }
        if (close.kind === 'eof') this.failUnclosed(t);
        this.fail(
          `expected ')' to close the '(' at column ${t.start + 1}, found ${describe(close)}`,
          close,
          "combine conditions with AND or OR; strings need single quotes: band = 'r'",
        );
      }
    }
    if (t.kind === 'eof') {
      const prev = this.pos > 0 ? this.tokens[this.pos - 1] : undefined;
      if (prev !== undefined) this.failMissingOperand(prev, 'a value');
      this.fail(`unexpected end of expression`, t);
    }
    this.fail(
      `unexpected ${describe(t)}`,
      t,
      "expected a value here: a number, a 'string', a name such as visit.exposure_time, or a :bind",
    );
  }
}
