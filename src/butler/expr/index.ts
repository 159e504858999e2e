/**
 * The Butler `where` language: a SQL-WHERE subset (after LSST daf_butler's query expressions)
 * with a hand-written lexer and recursive-descent parser, validation against the registry's
 * names and types, and compilation to parameterized SQL for SQLite and PostgreSQL.
 *
 * ```ts
 * const { fragment, elements } = where("visit IN (10..20:2) AND band = :b", schema, { b: 'r' });
 * db.prepare(`SELECT ... WHERE ${renderSql(fragment, () => '?')}`).all(...fragment.values);
 * ```
 */

export type {
  ArithExpr,
  ArithOp,
  BindExpr,
  BoolLiteral,
  CompareExpr,
  CompareOp,
  Expr,
  FloatLiteral,
  IdentExpr,
  InExpr,
  InItem,
  IntLiteral,
  IsNullExpr,
  LogicalExpr,
  NegExpr,
  Node,
  NotExpr,
  NullLiteral,
  OverlapsExpr,
  RangeItem,
  RegionCall,
  RegionShape,
  Span,
  StringLiteral,
  TimeLiteral,
} from './ast.ts';
export { compileWhere, RANGE_EXPAND_LIMIT, where } from './compile.ts';
export {
  caretLines,
  ExprError,
  positionOf,
  type SourcePosition,
  WhereBindError,
  WhereNameError,
  WhereSyntaxError,
  WhereTypeError,
} from './errors.ts';
export { formatExpr, formatNode, quoteString } from './format.ts';
export { joinFragments, renderSql, sqlText, sqlValue } from './fragment.ts';
export { isKeyword, KEYWORDS, type Token, tokenize } from './lexer.ts';
export { parseWhere } from './parser.ts';
export type {
  ColumnType,
  CompiledWhere,
  RegionLiteral,
  ResolvedColumn,
  SqlFragment,
  WhereSchema,
} from './schema.ts';
export { normalizeDate, normalizeIsoTime } from './time.ts';
export { childNodes, walkNodes } from './walk.ts';
