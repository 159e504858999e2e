/**
 * Errors of the `where` language: syntax, unknown names, type mismatches and bind values.
 * Each message quotes the expression with a caret line under the offending span and ends with
 * a hint that says what to write instead.
 */

import type { Span } from './ast.ts';

/** Where a span starts, as people count: 1-based line and column (UTF-16 code units). */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** 1-based line and column of a 0-based offset into `text`. */
export function positionOf(text: string, offset: number): SourcePosition {
  let line = 1;
  let lineStart = 0;
  const stop = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < stop; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: stop - lineStart + 1 };
}

/**
 * The source line holding `span.start` and a caret line under the span (at least one caret;
 * a span that runs past the line's end is cut there). Tabs in the prefix are kept so the caret
 * lines up in a terminal. Each line is indented by `indent`.
 */
export function caretLines(text: string, span: Span, indent = '  '): string {
  const start = Math.min(Math.max(span.start, 0), text.length);
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const newline = text.indexOf('\n', start);
  const lineEnd = newline < 0 ? text.length : newline;
  const line = text.slice(lineStart, lineEnd).replace(/\r$/, '');
  const prefix = text.slice(lineStart, start).replace(/[^\t]/g, ' ');
  const width = Math.max(1, Math.min(span.end, lineEnd) - start);
  return `${indent}${line}\n${indent}${prefix}${'^'.repeat(width)}`;
}

/** Base class of all `where`-expression errors; `code` is stable, the message is for people. */
export class ExprError extends Error {
  /** Stable machine-readable code, e.g. 'WHERE_SYNTAX'. */
  readonly code: string;
  /** The full expression text the error is about. */
  readonly expression: string;
  /** The offending part of `expression` (0-based, end exclusive), or null if it is the whole. */
  readonly span: Span | null;
  /** The problem in one line, without position or caret (e.g. "unexpected ')'"). */
  readonly detail: string;
  /** What to write instead, or null when there is nothing more specific to say. */
  readonly hint: string | null;

  constructor(
    code: string,
    detail: string,
    expression: string,
    span: Span | null,
    hint: string | null,
    options?: { cause?: unknown },
  ) {
    super(composeMessage(detail, expression, span, hint), options);
    this.name = 'ExprError';
    this.code = code;
    this.expression = expression;
    this.span = span;
    this.detail = detail;
    this.hint = hint;
  }
}

/** The expression does not parse: bad token, missing operand, unclosed parenthesis, ... */
export class WhereSyntaxError extends ExprError {
  constructor(detail: string, expression: string, span: Span | null, hint: string | null = null) {
    super('WHERE_SYNTAX', detail, expression, span, hint);
    this.name = 'WhereSyntaxError';
  }
}

/** A name (dimension, record field, region) that the schema does not know. */
export class WhereNameError extends ExprError {
  constructor(detail: string, expression: string, span: Span | null, hint: string | null = null) {
    super('WHERE_UNKNOWN_NAME', detail, expression, span, hint);
    this.name = 'WhereNameError';
  }
}

/** Operands of the wrong type: a string compared with a number, arithmetic on strings, ... */
export class WhereTypeError extends ExprError {
  constructor(detail: string, expression: string, span: Span | null, hint: string | null = null) {
    super('WHERE_TYPE', detail, expression, span, hint);
    this.name = 'WhereTypeError';
  }
}

/** A `:name` bind parameter with no value in the bind map, or with a value it cannot use. */
export class WhereBindError extends ExprError {
  constructor(detail: string, expression: string, span: Span | null, hint: string | null = null) {
    super('WHERE_BIND', detail, expression, span, hint);
    this.name = 'WhereBindError';
  }
}

function composeMessage(
  detail: string,
  expression: string,
  span: Span | null,
  hint: string | null,
): string {
  const lines: string[] = [];
  if (span === null) {
    lines.push(`where-expression: ${detail}`);
    if (expression.length > 0) lines.push(`  ${expression}`);
  } else {
    const pos = positionOf(expression, span.start);
    const where = expression.includes('\n')
      ? `line ${pos.line}, column ${pos.column}`
      : `column ${pos.column}`;
    lines.push(`where-expression: ${detail} at ${where}`);
    lines.push(caretLines(expression, span));
  }
  if (hint !== null) lines.push(`  hint: ${hint}`);
  return lines.join('\n');
}
