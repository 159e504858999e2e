/**
 * Errors of the PipelineTask framework: definition-time errors (connections, configs, pipeline
 * YAML, contracts, pipeline graphs, task lookup) and the typed outcomes a task may raise while
 * running one quantum (no work, unprocessable data, repeatable failures, partial outputs,
 * transient failures).
 *
 * Every error has a stable `code` (callers and CLIs branch on it, never on the message) and a
 * message that says what to do next. Quantum outcomes also say whether retrying the quantum can
 * help (`retryable`) and whether the outcome counts as a failure at all (`isFailure`), so the
 * executor and the workflow layer classify them without string matching.
 */

/** Stable codes of {@link PipeError}. New codes may be added; none changes meaning. */
export type PipeErrorCode =
  /** A connections definition is malformed or inconsistent with the task's dimensions. */
  | 'PIPE_INVALID_CONNECTIONS'
  /** A config override names an unknown field, has a bad value, or cannot be parsed. */
  | 'PIPE_CONFIG'
  /** A pipeline YAML document (or one it imports) is malformed. */
  | 'PIPE_DEFINITION'
  /** A contract expression is malformed or cannot be evaluated. */
  | 'PIPE_CONTRACT_EXPRESSION'
  /** A contract evaluated to false. */
  | 'PIPE_CONTRACT_FAILED'
  /** Tasks of a pipeline disagree about a dataset type (storage class, dimensions, producers). */
  | 'PIPE_DATASET_TYPE_CONFLICT'
  /** The tasks of a pipeline form a cycle. */
  | 'PIPE_CYCLE'
  /** A task class string names nothing registered or importable. */
  | 'PIPE_TASK_NOT_FOUND'
  /** A task received refs or returned outputs that do not match its connections. */
  | 'PIPE_INVALID_QUANTUM'
  /** Quantum outcome: nothing to do (not a failure). */
  | 'PIPE_NO_WORK'
  /** Quantum outcome: the data cannot be processed by this algorithm (not a failure, no retry). */
  | 'PIPE_UNPROCESSABLE_DATA'
  /** Quantum outcome: a failure that will repeat on retry. */
  | 'PIPE_REPEATABLE_FAILURE'
  /** Quantum outcome: a failure after some outputs were written and annotated. */
  | 'PIPE_PARTIAL_OUTPUTS'
  /** Quantum outcome: a failure that may succeed when retried (I/O hiccup, lost device). */
  | 'PIPE_TRANSIENT_FAILURE';

/** Base class of every error of `src/pipe`. */
export class PipeError extends Error {
  /** Stable machine-readable code. */
  readonly code: PipeErrorCode;
  constructor(code: PipeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PipeError';
    this.code = code;
  }
}

/**
 * A connections definition is malformed: a bad dimension list, an output with dimensions outside
 * the task's, a non-`multiple` input with dimensions outside the task's, a template without a
 * default, an invalid dataset type name. Names the task label (or class) and the connection.
 */
export class InvalidConnectionsError extends PipeError {
  /** Task label, or the task class name when no label is known yet. */
  readonly task: string;
  /** Connection field name, or null when the problem is about the whole definition. */
  readonly connection: string | null;
  constructor(task: string, connection: string | null, problem: string, hint: string) {
    const where = connection === null ? `task '${task}'` : `connection '${task}.${connection}'`;
    super('PIPE_INVALID_CONNECTIONS', `${where}: ${problem}. ${hint}`);
    this.name = 'InvalidConnectionsError';
    this.task = task;
    this.connection = connection;
  }
}

/** A config override is invalid (unknown key, bad value, unreadable file). */
export class ConfigError extends PipeError {
  /** Task label the config belongs to, or null. */
  readonly label: string | null;
  /** Dotted key path of the offending field, or null. */
  readonly key: string | null;
  /** Where the offending override came from (file path, `-c` string, pipeline file), or null. */
  readonly source: string | null;
  constructor(
    message: string,
    context: { label?: string | null; key?: string | null; source?: string | null } = {},
    options?: { cause?: unknown },
  ) {
    super('PIPE_CONFIG', message, options);
    this.name = 'ConfigError';
    this.label = context.label ?? null;
    this.key = context.key ?? null;
    this.source = context.source ?? null;
  }
}

/** A pipeline YAML document (or an import of it) is malformed; names the file. */
export class PipelineDefinitionError extends PipeError {
  /** The pipeline file (or `<string>` for YAML given as text), or null. */
  readonly file: string | null;
  constructor(message: string, file: string | null = null, options?: { cause?: unknown }) {
    super('PIPE_DEFINITION', file === null ? message : `${file}: ${message}`, options);
    this.name = 'PipelineDefinitionError';
    this.file = file;
  }
}

/**
 * A contract expression cannot be parsed or evaluated (syntax, unknown name, attribute missing,
 * unsupported operation). `position` is the 0-based character offset of the offending token.
 */
export class ContractExpressionError extends PipeError {
  /** The expression text. */
  readonly expression: string;
  /** 0-based character offset into `expression`. */
  readonly position: number;
  /** The problem in one line, without position. */
  readonly detail: string;
  constructor(expression: string, position: number, detail: string, hint: string) {
    const caret = `${' '.repeat(Math.max(0, position))}^`;
    super(
      'PIPE_CONTRACT_EXPRESSION',
      `contract expression error at column ${position + 1}: ${detail}\n  ${expression}\n  ${caret}\n${hint}`,
    );
    this.name = 'ContractExpressionError';
    this.expression = expression;
    this.position = position;
    this.detail = detail;
  }
}

/** A contract evaluated to false; the message is the contract's `msg` when it has one. */
export class ContractError extends PipeError {
  /** The contract expression. */
  readonly contract: string;
  /** The contract's own message, or null. */
  readonly msg: string | null;
  constructor(contract: string, msg: string | null) {
    super(
      'PIPE_CONTRACT_FAILED',
      `${msg ?? 'pipeline contract failed'} (contract: ${contract}). ` +
        'Change the configs so that the contract holds, or drop the task that needs it.',
    );
    this.name = 'ContractError';
    this.contract = contract;
    this.msg = msg;
  }
}

/** Two tasks disagree about a dataset type, or two tasks produce the same dataset type. */
export class DatasetTypeConflictError extends PipeError {
  /** The dataset type name. */
  readonly datasetType: string;
  /** The two task labels involved (the earlier definition first). */
  readonly tasks: readonly [string, string];
  constructor(datasetType: string, tasks: readonly [string, string], problem: string) {
    super(
      'PIPE_DATASET_TYPE_CONFLICT',
      `dataset type '${datasetType}': ${problem} (tasks '${tasks[0]}' and '${tasks[1]}'). ` +
        'Make the connections agree, or rename one of them through config (connections.<field>).',
    );
    this.name = 'DatasetTypeConflictError';
    this.datasetType = datasetType;
    this.tasks = tasks;
  }
}

/** The tasks of a pipeline form a cycle; `cycle` lists the labels, the first repeated last. */
export class PipelineCycleError extends PipeError {
  /** Task labels along the cycle, e.g. `['a', 'b', 'a']`. */
  readonly cycle: readonly string[];
  constructor(cycle: readonly string[], datasetTypes: readonly string[]) {
    const steps = cycle
      .slice(0, -1)
      .map((label, i) => `${label} -(${datasetTypes[i] ?? '?'})-> `)
      .join('');
    super(
      'PIPE_CYCLE',
      `the pipeline has a cycle: ${steps}${cycle[cycle.length - 1]}. ` +
        'Rename one of the dataset types through config (connections.<field>) or drop a task.',
    );
    this.name = 'PipelineCycleError';
    this.cycle = cycle;
  }
}

/** A task class string names nothing registered, and nothing importable. */
export class TaskNotFoundError extends PipeError {
  /** The class string as written in the pipeline. */
  readonly taskName: string;
  constructor(taskName: string, message: string, options?: { cause?: unknown }) {
    super('PIPE_TASK_NOT_FOUND', message, options);
    this.name = 'TaskNotFoundError';
    this.taskName = taskName;
  }
}

/**
 * A quantum's refs or a task's outputs do not match its connections (e.g. two refs for a
 * non-`multiple` connection, a missing output, a missing non-optional prerequisite). This is a
 * bug or a broken graph, not a data problem: it is not retryable.
 */
export class InvalidQuantumError extends PipeError {
  /** Exit code batch systems see for this outcome (LSST's InvalidQuantumError uses 21). */
  readonly exitCode = 21;
  /** Retrying cannot help. */
  readonly retryable = false;
  /** This outcome is a failure. */
  readonly isFailure = true;
  constructor(message: string) {
    super('PIPE_INVALID_QUANTUM', message);
    this.name = 'InvalidQuantumError';
  }
}

/** Codes of the quantum outcomes (see {@link QuantumOutcomeError}). */
export type QuantumOutcomeCode =
  | 'PIPE_NO_WORK'
  | 'PIPE_UNPROCESSABLE_DATA'
  | 'PIPE_REPEATABLE_FAILURE'
  | 'PIPE_PARTIAL_OUTPUTS'
  | 'PIPE_TRANSIENT_FAILURE';

/**
 * Base of the typed outcomes a task raises from `run`/`runQuantum`. `isFailure` false means the
 * quantum counts as done (with no or partial outputs); `retryable` says whether running the same
 * quantum again can help.
 */
export abstract class QuantumOutcomeError extends PipeError {
  /** Whether the outcome counts as a failure of the quantum. */
  abstract readonly isFailure: boolean;
  /** Whether retrying the quantum can help. */
  abstract readonly retryable: boolean;
  constructor(code: QuantumOutcomeCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * There is no work for this quantum (e.g. fewer inputs than a connection's `minimum`, or a
 * predicted overlap that does not exist). Not a failure: the quantum is skipped, its outputs are
 * simply absent, and downstream quanta that need them get `NoWorkFound` in turn.
 */
export class NoWorkFound extends QuantumOutcomeError {
  readonly isFailure: boolean = false;
  readonly retryable: boolean = false;
  constructor(message: string, options?: { cause?: unknown; code?: 'PIPE_UNPROCESSABLE_DATA' }) {
    super(options?.code ?? 'PIPE_NO_WORK', message, options);
    this.name = 'NoWorkFound';
  }
}

/**
 * The data cannot (and should not) be processed by this algorithm, e.g. a detector ruined by a
 * bright star. A kind of {@link NoWorkFound}: not a failure, and retrying will not help.
 */
export class UnprocessableDataError extends NoWorkFound {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'PIPE_UNPROCESSABLE_DATA' });
    this.name = 'UnprocessableDataError';
  }
}

/**
 * A failure that will happen again when the quantum is retried (the algorithm and this data do
 * not get along: a fit that does not converge, too few stars). Downstream quanta are blocked.
 * Exit code 20, as LSST's RepeatableQuantumError. `metadata` may carry numbers about the failure
 * (e.g. `{ nStars: 3, minStars: 5 }`) that the executor records in the task metadata.
 */
export class RepeatableQuantumError extends QuantumOutcomeError {
  readonly isFailure = true;
  readonly retryable = false;
  /** Exit code batch systems see for this outcome. */
  readonly exitCode = 20;
  /** Numbers or strings about the failure, recorded in the task metadata. */
  readonly metadata: Readonly<Record<string, string | number | boolean | null>>;
  constructor(
    message: string,
    options?: {
      cause?: unknown;
      metadata?: Readonly<Record<string, string | number | boolean | null>>;
      code?: 'PIPE_PARTIAL_OUTPUTS';
    },
  ) {
    super(options?.code ?? 'PIPE_REPEATABLE_FAILURE', message, options);
    this.name = 'RepeatableQuantumError';
    this.metadata = options?.metadata ?? {};
  }
}

/**
 * A task failed after writing some of its outputs, and those outputs say so (a `failure` entry
 * in their metadata). Raise it from `runQuantum` with the original error as `cause`, built with
 * {@link AnnotatedPartialOutputsError.annotate}. The executor reports the original error; it
 * may count the quantum as a qualified success (the written outputs stay) or as a failure.
 */
export class AnnotatedPartialOutputsError extends RepeatableQuantumError {
  /** The failure description written into each annotated output. */
  readonly failure: Readonly<FailureAnnotation>;
  constructor(failure: FailureAnnotation, options?: { cause?: unknown }) {
    super(`task failed and wrote partial outputs: ${failure.type}: ${failure.message}`, {
      ...options,
      code: 'PIPE_PARTIAL_OUTPUTS',
    });
    this.name = 'AnnotatedPartialOutputsError';
    this.failure = failure;
  }

  /**
   * Writes a `failure` entry (`{ type, message, metadata? }`) into the `metadata` of each holder
   * (a task, an output object with a metadata map; null holders are skipped) and returns the
   * error to throw, with `error` as its cause.
   */
  static annotate(
    error: unknown,
    ...holders: (MetadataHolder | null | undefined)[]
  ): AnnotatedPartialOutputsError {
    const failure: FailureAnnotation = {
      type: error instanceof Error ? error.name : typeof error,
      message: error instanceof Error ? error.message : String(error),
      ...(error instanceof RepeatableQuantumError && Object.keys(error.metadata).length > 0
        ? { metadata: error.metadata }
        : {}),
    };
    for (const holder of holders) {
      if (holder === null || holder === undefined) continue;
      const md = holder.metadata as unknown;
      if (md instanceof Map) md.set('failure', failure);
      else if (typeof (md as { setDict?: unknown }).setDict === 'function') {
        // TaskMetadata (and anything like it): a nested scope, as LSST's set_dict.
        (md as { setDict(key: string, value: FailureAnnotation): void }).setDict(
          'failure',
          failure,
        );
      } else (md as Record<string, unknown>).failure = failure;
    }
    return new AnnotatedPartialOutputsError(failure, { cause: error });
  }
}

/** What {@link AnnotatedPartialOutputsError.annotate} writes into each output's metadata. */
export interface FailureAnnotation {
  /** Error class name of the original error. */
  readonly type: string;
  /** Message of the original error. */
  readonly message: string;
  /** Metadata of the original error, when it had any. */
  readonly metadata?: Readonly<Record<string, string | number | boolean | null>>;
}

/**
 * Anything with a mutable `metadata`: a Map, a TaskMetadata (anything with `setDict`), or a
 * plain record.
 */
export interface MetadataHolder {
  readonly metadata:
    | Map<string, unknown>
    | { setDict(key: string, value: FailureAnnotation): unknown }
    | Record<string, unknown>;
}

/**
 * A failure that may not happen again: a dropped network connection, a lost GPU device, a
 * storage timeout. The workflow layer may retry the quantum.
 */
export class TransientQuantumError extends QuantumOutcomeError {
  readonly isFailure = true;
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super('PIPE_TRANSIENT_FAILURE', message, options);
    this.name = 'TransientQuantumError';
  }
}

/** How the executor should treat an error thrown by a quantum. */
export interface QuantumErrorClassification {
  /** `no-work`: skipped, not a failure; `partial`: failed with annotated outputs; `failure`. */
  readonly outcome: 'no-work' | 'partial' | 'failure';
  /** Whether retrying the quantum can help. */
  readonly retryable: boolean;
  /** Stable code (an unknown error is classed `PIPE_TRANSIENT_FAILURE`-like: may retry). */
  readonly code: string;
}

/**
 * Classifies anything thrown by a task. Errors that are not {@link QuantumOutcomeError}s nor
 * definition errors (plain `Error`s: I/O, out of memory, device loss) are treated as failures
 * that may be retried, as LSST does for exceptions that are not RepeatableQuantumError.
 */
export function classifyQuantumError(error: unknown): QuantumErrorClassification {
  if (error instanceof NoWorkFound) {
    return { outcome: 'no-work', retryable: false, code: error.code };
  }
  if (error instanceof AnnotatedPartialOutputsError) {
    return { outcome: 'partial', retryable: false, code: error.code };
  }
  if (error instanceof QuantumOutcomeError) {
    return { outcome: 'failure', retryable: error.retryable, code: error.code };
  }
  if (error instanceof PipeError) {
    // Definition and invalid-quantum errors repeat on retry.
    return { outcome: 'failure', retryable: false, code: error.code };
  }
  return { outcome: 'failure', retryable: true, code: 'UNCLASSIFIED' };
}
