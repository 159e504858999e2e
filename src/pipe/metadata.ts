/**
 * Task metadata: the `<label>_metadata` dataset (storage class `TaskMetadata`) written for every
 * quantum. A tree of scopes holding scalars and arrays of scalars: timings (UTC ISO timestamps,
 * CPU seconds, max resident set size in bytes), counts, and whatever the task (or the compute
 * backend adapter) adds, e.g. `metadata.scope('backend').set('adapter', 'llvmpipe')`.
 *
 * Keys with dots address nested scopes (`set('quantum.inputCount', 3)` equals
 * `scope('quantum').set('inputCount', 3)`), as in LSST's TaskMetadata.
 */

import { PipeError } from './errors.ts';

/** A metadata leaf value. */
export type MetadataScalar = string | number | boolean | null;

/** JSON form of a metadata tree. */
export interface NestedMetadataDict {
  readonly [key: string]: MetadataScalar | readonly MetadataScalar[] | NestedMetadataDict;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function badKey(key: string): PipeError {
  return new PipeError(
    'PIPE_INVALID_QUANTUM',
    `metadata key '${key}' is invalid: use identifiers (letters, digits, _ and -) separated by dots.`,
  );
}

function isScalar(v: unknown): v is MetadataScalar {
  return (
    v === null ||
    typeof v === 'string' ||
    typeof v === 'boolean' ||
    (typeof v === 'number' && Number.isFinite(v))
  );
}

/** A scope of task metadata (the root or a nested scope). Mutable while the quantum runs. */
export class TaskMetadata {
  private readonly entries = new Map<string, MetadataScalar | MetadataScalar[] | TaskMetadata>();

  private split(key: string): { scope: TaskMetadata; leaf: string } {
    const parts = key.split('.');
    for (const p of parts) if (!KEY.test(p)) throw badKey(key);
    let scope: TaskMetadata = this;
    for (const p of parts.slice(0, -1)) scope = scope.scope(p);
    return { scope, leaf: parts[parts.length - 1]! };
  }

  /** The nested scope `name` (dotted paths allowed), created when missing. */
  scope(name: string): TaskMetadata {
    const parts = name.split('.');
    let cur: TaskMetadata = this;
    for (const p of parts) {
      if (!KEY.test(p)) throw badKey(name);
      const e = cur.entries.get(p);
      if (e instanceof TaskMetadata) cur = e;
      else if (e === undefined) {
        const made = new TaskMetadata();
        cur.entries.set(p, made);
        cur = made;
      } else {
        throw new PipeError(
          'PIPE_INVALID_QUANTUM',
          `metadata key '${name}': '${p}' holds a value, not a scope.`,
        );
      }
    }
    return cur;
  }

  /**
   * Sets a value (a finite number, string, boolean, null, or an array of those); replaces what
   * was there. Non-finite numbers are refused (JSON cannot hold them).
   */
  set(key: string, value: MetadataScalar | readonly MetadataScalar[]): this {
    const { scope, leaf } = this.split(key);
    if (Array.isArray(value)) {
      for (const v of value) if (!isScalar(v)) throw badValue(key, v);
      scope.entries.set(leaf, [...value]);
    } else {
      if (!isScalar(value)) throw badValue(key, value);
      scope.entries.set(leaf, value as MetadataScalar);
    }
    return this;
  }

  /**
   * Replaces `key` with a nested scope built from a plain nested object (scalars, arrays of
   * scalars, nested objects), as LSST's `set_dict`.
   */
  setDict(key: string, dict: object): this {
    const { scope, leaf } = this.split(key);
    const made = new TaskMetadata();
    for (const [k, v] of Object.entries(dict)) {
      if (v === undefined) continue;
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        made.setDict(k, v);
      } else made.set(k, v as MetadataScalar | readonly MetadataScalar[]);
    }
    scope.entries.set(leaf, made);
    return this;
  }

  /** Appends a value to the array at `key` (a scalar there becomes the array's first element). */
  add(key: string, value: MetadataScalar): this {
    if (!isScalar(value)) throw badValue(key, value);
    const { scope, leaf } = this.split(key);
    const cur = scope.entries.get(leaf);
    if (cur === undefined) scope.entries.set(leaf, [value]);
    else if (Array.isArray(cur)) cur.push(value);
    else if (cur instanceof TaskMetadata) {
      throw new PipeError(
        'PIPE_INVALID_QUANTUM',
        `metadata key '${key}' is a scope; cannot add a value to it.`,
      );
    } else scope.entries.set(leaf, [cur, value]);
    return this;
  }

  /** Adds `delta` (default 1) to the number at `key` (missing counts as 0). */
  increment(key: string, delta = 1): this {
    const cur = this.get(key);
    if (cur !== undefined && typeof cur !== 'number') {
      throw new PipeError(
        'PIPE_INVALID_QUANTUM',
        `metadata key '${key}' holds a non-number; cannot increment it.`,
      );
    }
    return this.set(key, (cur ?? 0) + delta);
  }

  /** The value or scope at `key`, or undefined. */
  get(key: string): MetadataScalar | readonly MetadataScalar[] | TaskMetadata | undefined {
    const parts = key.split('.');
    let cur: TaskMetadata = this;
    for (const p of parts.slice(0, -1)) {
      const e = cur.entries.get(p);
      if (!(e instanceof TaskMetadata)) return undefined;
      cur = e;
    }
    return cur.entries.get(parts[parts.length - 1]!);
  }

  /** True when `key` holds a value or scope. */
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Names directly in this scope, in insertion order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Plain nested object (the JSON form). */
  toDict(): NestedMetadataDict {
    const out: Record<string, MetadataScalar | readonly MetadataScalar[] | NestedMetadataDict> = {};
    for (const [k, v] of this.entries)
      out[k] = v instanceof TaskMetadata ? v.toDict() : Array.isArray(v) ? [...v] : v;
    return out;
  }

  /** JSON.stringify support. */
  toJSON(): NestedMetadataDict {
    return this.toDict();
  }

  /** Rebuilds metadata from its JSON form. */
  static fromDict(dict: NestedMetadataDict): TaskMetadata {
    const md = new TaskMetadata();
    for (const [k, v] of Object.entries(dict)) {
      if (Array.isArray(v) || isScalar(v))
        md.set(k, v as MetadataScalar | readonly MetadataScalar[]);
      else md.entries.set(k, TaskMetadata.fromDict(v as NestedMetadataDict));
    }
    return md;
  }
}

function badValue(key: string, v: unknown): PipeError {
  return new PipeError(
    'PIPE_INVALID_QUANTUM',
    `metadata key '${key}': ${String(v)} is not a finite number, string, boolean or null.`,
  );
}

/** A snapshot of process resource use. */
export interface ResourceSnapshot {
  /** Wall-clock time, UTC ISO 8601 with milliseconds. */
  readonly utc: string;
  /** High-resolution monotonic time in milliseconds (for durations). */
  readonly monotonicMs: number;
  /** User CPU time of the process so far, seconds. */
  readonly userTime: number;
  /** System CPU time of the process so far, seconds. */
  readonly systemTime: number;
  /** Peak resident set size of the process so far, bytes. */
  readonly maxResidentSetSize: number;
}

/** The current resource use of this process. */
export function resourceSnapshot(): ResourceSnapshot {
  const usage = process.resourceUsage();
  return {
    utc: new Date().toISOString(),
    monotonicMs: performance.now(),
    userTime: usage.userCPUTime / 1e6,
    systemTime: usage.systemCPUTime / 1e6,
    // Node reports maxRSS in kibibytes on every platform.
    maxResidentSetSize: usage.maxRSS * 1024,
  };
}

/**
 * Records `<prefix>Start*` keys now and returns a function that records `<prefix>End*` keys and
 * the differences, in LSST's timeMethod naming:
 * `<prefix>StartUtc`/`EndUtc` (ISO UTC), `<prefix>StartCpuTime`/`EndCpuTime` (user+system
 * seconds since process start), `<prefix>StartUserTime`/`StartSystemTime` (and End),
 * `<prefix>StartMaxResidentSetSize`/`EndMaxResidentSetSize` (bytes), plus `<prefix>WallTime`
 * and `<prefix>CpuTime` (seconds spent between start and end).
 */
export function startTiming(metadata: TaskMetadata, prefix: string): () => void {
  const start = resourceSnapshot();
  write(metadata, prefix, 'Start', start);
  return () => {
    const end = resourceSnapshot();
    write(metadata, prefix, 'End', end);
    metadata.set(`${prefix}WallTime`, (end.monotonicMs - start.monotonicMs) / 1000);
    metadata.set(
      `${prefix}CpuTime`,
      end.userTime + end.systemTime - (start.userTime + start.systemTime),
    );
  };
}

function write(md: TaskMetadata, prefix: string, when: 'Start' | 'End', s: ResourceSnapshot): void {
  md.set(`${prefix}${when}Utc`, s.utc);
  md.set(`${prefix}${when}CpuTime`, s.userTime + s.systemTime);
  md.set(`${prefix}${when}UserTime`, s.userTime);
  md.set(`${prefix}${when}SystemTime`, s.systemTime);
  md.set(`${prefix}${when}MaxResidentSetSize`, s.maxResidentSetSize);
}

/** Runs `fn`, recording timings under `prefix` (see {@link startTiming}) even when it throws. */
export async function timed<T>(
  metadata: TaskMetadata,
  prefix: string,
  fn: () => Promise<T>,
): Promise<T> {
  const end = startTiming(metadata, prefix);
  try {
    return await fn();
  } finally {
    end();
  }
}
