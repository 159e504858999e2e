/**
 * Task logs: the `<label>_log` dataset (storage class `ButlerLogRecords`) holds the log records
 * of one quantum as JSON lines, one object per record, as LSST's ButlerLogRecords do:
 * `{ name, levelname, levelno, message, asctime, created, process, MDC }` with `asctime` an
 * ISO 8601 UTC timestamp and `created` seconds since the Unix epoch.
 */

/** Severity names and their numeric levels (Python logging's numbers). */
export const LOG_LEVELS = {
  DEBUG: 10,
  VERBOSE: 15,
  INFO: 20,
  WARNING: 30,
  ERROR: 40,
  CRITICAL: 50,
} as const;

/** A severity name. */
export type LogLevelName = keyof typeof LOG_LEVELS;

/** One log record. */
export interface LogRecord {
  /** Logger name, e.g. `gpu_drp.assembleCoadd`. */
  readonly name: string;
  /** Severity name. */
  readonly levelname: LogLevelName;
  /** Severity number (10 DEBUG ... 50 CRITICAL). */
  readonly levelno: number;
  /** The message. */
  readonly message: string;
  /** Time of the record, ISO 8601 UTC. */
  readonly asctime: string;
  /** Time of the record, seconds since the Unix epoch. */
  readonly created: number;
  /** Process id. */
  readonly process: number;
  /** Mapped diagnostic context: `LABEL`, `RUN`, data ID string, and what the caller adds. */
  readonly MDC: Readonly<Record<string, string>>;
  /** Extra structured fields given with the message. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** The logger a task sees (`this.log`, `ctx.log`). */
export interface TaskLogger {
  debug(message: string, extra?: Readonly<Record<string, unknown>>): void;
  verbose(message: string, extra?: Readonly<Record<string, unknown>>): void;
  info(message: string, extra?: Readonly<Record<string, unknown>>): void;
  warn(message: string, extra?: Readonly<Record<string, unknown>>): void;
  error(message: string, extra?: Readonly<Record<string, unknown>>): void;
}

/**
 * A logger that keeps its records (for the `<label>_log` dataset) and optionally forwards each
 * to a sink (a console printer, a structured log stream). Records below `level` are dropped.
 */
export class ButlerLogRecords implements TaskLogger {
  /** Records kept so far, oldest first. */
  readonly records: LogRecord[] = [];
  /** Logger name. */
  readonly name: string;
  /** Lowest level kept. */
  level: number;
  private readonly mdc: Record<string, string>;
  private readonly sink: ((record: LogRecord) => void) | null;

  constructor(
    name: string,
    options: {
      readonly level?: LogLevelName;
      readonly mdc?: Readonly<Record<string, string>>;
      readonly sink?: (record: LogRecord) => void;
    } = {},
  ) {
    this.name = name;
    this.level = LOG_LEVELS[options.level ?? 'VERBOSE'];
    this.mdc = { ...(options.mdc ?? {}) };
    this.sink = options.sink ?? null;
  }

  /** Sets a mapped-diagnostic-context entry on later records (e.g. `LABEL`, `RUN`). */
  setMdc(key: string, value: string): void {
    this.mdc[key] = value;
  }

  /** Records a message at `levelname`. */
  log(levelname: LogLevelName, message: string, extra?: Readonly<Record<string, unknown>>): void {
    const levelno = LOG_LEVELS[levelname];
    if (levelno < this.level) return;
    const now = Date.now();
    const record: LogRecord = {
      name: this.name,
      levelname,
      levelno,
      message,
      asctime: new Date(now).toISOString(),
      created: now / 1000,
      process: process.pid,
      MDC: { ...this.mdc },
      ...(extra === undefined ? {} : { extra }),
    };
    this.records.push(record);
    this.sink?.(record);
  }

  debug(message: string, extra?: Readonly<Record<string, unknown>>): void {
    this.log('DEBUG', message, extra);
  }
  verbose(message: string, extra?: Readonly<Record<string, unknown>>): void {
    this.log('VERBOSE', message, extra);
  }
  info(message: string, extra?: Readonly<Record<string, unknown>>): void {
    this.log('INFO', message, extra);
  }
  warn(message: string, extra?: Readonly<Record<string, unknown>>): void {
    this.log('WARNING', message, extra);
  }
  error(message: string, extra?: Readonly<Record<string, unknown>>): void {
    this.log('ERROR', message, extra);
  }

  /** The records as JSON lines (the `<label>_log` dataset's bytes), newline-terminated. */
  toJsonLines(): string {
    return this.records.map((r) => `${JSON.stringify(r)}\n`).join('');
  }

  /** Parses JSON lines written by {@link toJsonLines}; blank lines are skipped. */
  static parseJsonLines(text: string): LogRecord[] {
    const out: LogRecord[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      out.push(JSON.parse(line) as LogRecord);
    }
    return out;
  }
}
