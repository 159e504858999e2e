/**
 * Syntax tree of the Butler `where` language (a SQL-WHERE subset, after LSST daf_butler's
 * `queries.rst`). Every node carries the span of source text it was parsed from.
 */

/** Source positions: 0-based UTF-16 offsets into the expression text, end exclusive. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** Comparison operators; `<>` in the source is read as `!=`. */
export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** Arithmetic operators on numbers. `/` between two integers divides as SQL does (truncating). */
export type ArithOp = '+' | '-' | '*' | '/' | '%';

/** `left AND right` or `left OR right`. */
export interface LogicalExpr {
  readonly kind: 'logical';
  readonly op: 'AND' | 'OR';
  readonly left: Expr;
  readonly right: Expr;
  readonly span: Span;
}

/** `NOT operand`. */
export interface NotExpr {
  readonly kind: 'not';
  readonly operand: Expr;
  readonly span: Span;
}

/** `left op right` with a comparison operator. */
export interface CompareExpr {
  readonly kind: 'compare';
  readonly op: CompareOp;
  readonly left: Expr;
  readonly right: Expr;
  readonly span: Span;
}

/**
 * An inclusive integer range inside an IN list: `start..end` or `start..end:stride`.
 * `stride` is null when the source wrote none (a stride of 1).
 */
export interface RangeItem {
  readonly kind: 'range';
  readonly start: number;
  readonly end: number;
  readonly stride: number | null;
  readonly span: Span;
}

/** One entry of an IN list: a value expression (literal, bind, name, ...) or a range. */
export type InItem = Expr | RangeItem;

/** `operand IN (items)` or `operand NOT IN (items)`; the list is never empty. */
export interface InExpr {
  readonly kind: 'in';
  readonly negated: boolean;
  readonly operand: Expr;
  readonly items: readonly InItem[];
  readonly span: Span;
}

/** `operand IS NULL` or `operand IS NOT NULL`. */
export interface IsNullExpr {
  readonly kind: 'isNull';
  readonly negated: boolean;
  readonly operand: Expr;
  readonly span: Span;
}

/** Region constructors; all arguments are in degrees (see {@link RegionCall}). */
export type RegionShape = 'point' | 'circle' | 'box' | 'polygon';

/**
 * A region constructor on the right of OVERLAPS: `POINT(ra, dec)`, `CIRCLE(ra, dec, radius)`,
 * `BOX(ra, dec, width, height)` or `POLYGON(ra1, dec1, ra2, dec2, ra3, dec3, ...)`, all in
 * degrees. Arguments are numeric expressions that must be constant (literals, binds, arithmetic).
 */
export interface RegionCall {
  readonly kind: 'regionCall';
  readonly shape: RegionShape;
  readonly args: readonly Expr[];
  readonly span: Span;
}

/**
 * `operand OVERLAPS region`: operand names a region (`visit.region`, or a bare dimension such
 * as `patch` meaning its region); the region is a constructor or a bind holding a region literal.
 */
export interface OverlapsExpr {
  readonly kind: 'overlaps';
  readonly operand: Expr;
  readonly region: RegionCall | BindExpr;
  readonly span: Span;
}

/** `left op right` with an arithmetic operator. */
export interface ArithExpr {
  readonly kind: 'arith';
  readonly op: ArithOp;
  readonly left: Expr;
  readonly right: Expr;
  readonly span: Span;
}

/** Unary minus on a non-literal (`-visit.exposure_time`); `-5` parses as an int literal. */
export interface NegExpr {
  readonly kind: 'neg';
  readonly operand: Expr;
  readonly span: Span;
}

/**
 * A name: `visit` (a dimension's key value) or a dotted path `visit.exposure_time` (a field of
 * a dimension record). Segments match `[A-Za-z_][A-Za-z0-9_]*`.
 */
export interface IdentExpr {
  readonly kind: 'ident';
  readonly path: readonly string[];
  readonly span: Span;
}

/** A bind parameter `:name`, whose value comes from the `bind` map at compile time. */
export interface BindExpr {
  readonly kind: 'bind';
  readonly name: string;
  readonly span: Span;
}

/** An integer literal (a safe JavaScript integer; negative when written `-5`). */
export interface IntLiteral {
  readonly kind: 'int';
  readonly value: number;
  readonly span: Span;
}

/** A floating-point literal: `1.5`, `1e-3`, `-0.25`. */
export interface FloatLiteral {
  readonly kind: 'float';
  readonly value: number;
  readonly span: Span;
}

/** A string literal in single (or double) quotes; a doubled quote stands for one. */
export interface StringLiteral {
  readonly kind: 'string';
  readonly value: string;
  readonly span: Span;
}

/**
 * A time literal `T'2026-01-02T03:04:05'`. `text` is what was written between the quotes;
 * `iso` is its normal form `YYYY-MM-DDTHH:MM:SS[.fff]` (no time zone), which is what the
 * compiled SQL compares against.
 */
export interface TimeLiteral {
  readonly kind: 'time';
  readonly text: string;
  readonly iso: string;
  readonly span: Span;
}

/** `TRUE` or `FALSE`. */
export interface BoolLiteral {
  readonly kind: 'bool';
  readonly value: boolean;
  readonly span: Span;
}

/** `NULL` (only meaningful in `IS NULL`; elsewhere the compiler refuses it). */
export interface NullLiteral {
  readonly kind: 'null';
  readonly span: Span;
}

/** Any expression node; discriminate on `kind`. */
export type Expr =
  | LogicalExpr
  | NotExpr
  | CompareExpr
  | InExpr
  | IsNullExpr
  | OverlapsExpr
  | ArithExpr
  | NegExpr
  | IdentExpr
  | BindExpr
  | IntLiteral
  | FloatLiteral
  | StringLiteral
  | TimeLiteral
  | BoolLiteral
  | NullLiteral;

/** Any node that can appear in a tree, including IN-list ranges and region constructors. */
export type Node = Expr | RangeItem | RegionCall;
