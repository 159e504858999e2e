/**
 * Errors of quantum-graph building and graph files. Each has a stable `code` and a message that
 * says what to do next.
 */

/** Stable codes of {@link GraphError}. */
export type GraphErrorCode =
  /** The query found no quanta (nothing to do, or a wrong where-expression / collections). */
  | 'GRAPH_EMPTY'
  /** An init-input or a dataset type the pipeline needs is missing from the repository. */
  | 'GRAPH_MISSING_INPUT'
  /** The file is not a quantum graph, or is truncated or corrupt. */
  | 'GRAPH_BAD_FILE'
  /** A quantum id is not in the graph. */
  | 'GRAPH_UNKNOWN_QUANTUM'
  /** The graph's pipeline cannot be rebuilt (task class not importable, config invalid). */
  | 'GRAPH_PIPELINE';

/** Base class of the errors of `src/pipe/graph`. */
export class GraphError extends Error {
  /** Stable machine-readable code. */
  readonly code: GraphErrorCode;
  constructor(code: GraphErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GraphError';
    this.code = code;
  }
}

/** The graph query produced no quanta. */
export class EmptyGraphError extends GraphError {
  constructor(message: string) {
    super('GRAPH_EMPTY', message);
    this.name = 'EmptyGraphError';
  }
}

/** A graph file cannot be read. */
export class GraphFileError extends GraphError {
  /** The file. */
  readonly path: string;
  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super(
      'GRAPH_BAD_FILE',
      `${path}: ${problem}. Rebuild it with \`pipetask qgraph ... --save-qgraph ${path}\`.`,
      options,
    );
    this.name = 'GraphFileError';
    this.path = path;
  }
}
