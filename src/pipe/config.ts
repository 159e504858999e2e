/**
 * Task configs: a zod object schema with defaults per task, plus a generated `connections` group
 * (one string field per connection holding its dataset type name, one per name template).
 *
 * Overrides come, in increasing precedence, from the pipeline YAML's `config:` blocks (in the
 * order written, imported pipelines first), then from the command line in the order given:
 * `-C label:file.yaml` ({@link parseConfigFileOption}) and `-c label:key.path=value`
 * ({@link parseConfigOption}; the value is parsed as YAML, so `3`, `true`, `[1, 2]`, `'x'`).
 * Keys are dotted paths (`stack.clip.nSigma`) or nested mappings. Unknown keys are errors with
 * "did you mean" suggestions; bad values are errors naming the key and where the value came from.
 *
 * The resolved config is deep-frozen and serialisable to JSON ({@link configToJson}) for the
 * automatic `<label>_config` dataset (storage class `Config`); {@link parseConfigJson} reads it
 * back.
 */

import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type ConnectionsDefinition, connectionConfigDefaults } from './connections.ts';
import { ConfigError } from './errors.ts';
import { didYouMean } from './suggest.ts';

/** Recursively readonly view of a value. */
export type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends readonly (infer E)[]
    ? readonly DeepReadonly<E>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/** A resolved, frozen task config: the task's fields plus `connections` (names and templates). */
export type TaskConfig<T = Record<string, unknown>> = DeepReadonly<T> & {
  readonly connections: Readonly<Record<string, string>>;
};

/** Any zod object schema (a task's `ConfigSchema`). */
export type AnyConfigSchema = z.ZodObject;

/**
 * One source of config overrides:
 * - `values`: a mapping (nested or dotted keys), e.g. a pipeline `config:` block;
 * - `file`: a YAML (or `.json`) file holding such a mapping, relative to `baseDir` or the cwd;
 * - `assign`: one key path and an already-parsed value (what `-c key=value` becomes).
 * `source` says where it came from, for error messages.
 */
export type ConfigOverride =
  | {
      readonly kind: 'values';
      readonly values: Readonly<Record<string, unknown>>;
      readonly source: string;
    }
  | { readonly kind: 'file'; readonly path: string; readonly baseDir?: string }
  | {
      readonly kind: 'assign';
      readonly key: string;
      readonly value: unknown;
      readonly source: string;
    };

/** A config override for one task label (or for `parameters`, the pipeline parameters). */
export interface LabeledConfigOverride {
  /** Task label, or `parameters` for pipeline parameters. */
  readonly label: string;
  /** The override. */
  readonly override: ConfigOverride;
}

/**
 * Parses a `-c` option: `label:key.path=value`. The value is parsed as YAML (numbers, booleans,
 * null, quoted strings, `[lists]`); an empty value is the empty string.
 *
 * @throws ConfigError when the text lacks `label:` or `=`.
 */
export function parseConfigOption(text: string): LabeledConfigOverride {
  const colon = text.indexOf(':');
  const eq = text.indexOf('=');
  if (colon <= 0 || eq < 0 || eq < colon) {
    throw new ConfigError(
      `config option '${text}' is not of the form label:key=value. Write e.g. -c assembleCoadd:statistic=MEDIAN.`,
      { source: '-c' },
    );
  }
  const label = text.slice(0, colon).trim();
  const key = text.slice(colon + 1, eq).trim();
  const raw = text.slice(eq + 1);
  if (key === '') {
    throw new ConfigError(`config option '${text}' has no key before '='. Write label:key=value.`, {
      label,
      source: '-c',
    });
  }
  let value: unknown = raw;
  if (raw.trim() !== '') {
    try {
      value = parseYaml(raw);
    } catch (err) {
      throw new ConfigError(
        `config option '${text}': the value '${raw}' is not valid YAML (${(err as Error).message.split('\n')[0]}). Quote strings with special characters.`,
        { label, key, source: '-c' },
      );
    }
  }
  return { label, override: { kind: 'assign', key, value, source: `-c ${text}` } };
}

/**
 * Parses a `-C` option: `label:path/to/overrides.yaml` (YAML or JSON mapping of keys to values).
 *
 * @throws ConfigError when the text lacks `label:` or a path.
 */
export function parseConfigFileOption(text: string, baseDir?: string): LabeledConfigOverride {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) {
    throw new ConfigError(
      `config file option '${text}' is not of the form label:file. Write e.g. -C assembleCoadd:coadd.yaml.`,
      { source: '-C' },
    );
  }
  const label = text.slice(0, colon).trim();
  const path = text.slice(colon + 1).trim();
  return {
    label,
    override: baseDir === undefined ? { kind: 'file', path } : { kind: 'file', path, baseDir },
  };
}

/**
 * The full config schema of a task: its own schema plus a `connections` group whose fields are
 * the connection fields (default: the declared dataset type name) and the template names
 * (default: the declared default).
 *
 * @throws ConfigError when the task's schema already has a `connections` field.
 */
export function taskConfigSchema(
  schema: AnyConfigSchema,
  connections: ConnectionsDefinition,
): AnyConfigSchema {
  if ('connections' in schema.shape) {
    throw new ConfigError(
      "a task ConfigSchema must not declare 'connections': it is generated from the task's connections. Rename the field.",
    );
  }
  const shape: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(connectionConfigDefaults(connections))) {
    shape[k] = z.string().min(1).default(v);
  }
  return schema.extend({ connections: z.strictObject(shape).prefault({}) });
}

interface Assignment {
  readonly path: readonly string[];
  readonly value: unknown;
  readonly source: string;
}

/**
 * Resolves a task config: defaults from `schema` (the task's ConfigSchema), `connections` from
 * the connections definition, then `overrides` in order (later wins). The result is validated,
 * checked to be JSON-serialisable, and deep-frozen.
 *
 * @param options.label task label, for messages.
 * @throws ConfigError for unknown keys (with suggestions), bad values, unreadable files.
 */
export function resolveConfig<S extends AnyConfigSchema>(
  schema: S,
  connections: ConnectionsDefinition,
  overrides: readonly ConfigOverride[] = [],
  options: { readonly label?: string } = {},
): TaskConfig<z.output<S>> {
  const label = options.label ?? null;
  const full = taskConfigSchema(schema, connections);
  const raw: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  for (const ov of overrides) {
    for (const a of assignmentsOf(ov, full, label)) {
      setPath(raw, a.path, a.value);
      sources.set(a.path.join('.'), a.source);
    }
  }
  const parsed = full.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.');
      const source = sourceFor(sources, issue.path.map(String));
      return `  ${key === '' ? '(root)' : key}: ${issue.message}${source === null ? '' : ` (value from ${source})`}`;
    });
    const first = parsed.error.issues[0];
    throw new ConfigError(
      `${label === null ? 'config' : `config of '${label}'`} is invalid:\n${lines.join('\n')}\nFix the override(s) named above.`,
      {
        label,
        key: first ? first.path.map(String).join('.') : null,
        source: first ? sourceFor(sources, first.path.map(String)) : null,
      },
    );
  }
  checkSerialisable(parsed.data, [], label);
  return deepFreeze(parsed.data) as TaskConfig<z.output<S>>;
}

function sourceFor(sources: ReadonlyMap<string, string>, path: readonly string[]): string | null {
  for (let n = path.length; n > 0; n--) {
    const s = sources.get(path.slice(0, n).join('.'));
    if (s !== undefined) return s;
  }
  return null;
}

function assignmentsOf(ov: ConfigOverride, schema: z.ZodType, label: string | null): Assignment[] {
  switch (ov.kind) {
    case 'assign': {
      const path = splitKey(ov.key, label, ov.source);
      return flatten(path, ov.value, schema, label, ov.source);
    }
    case 'values':
      return flattenMapping([], ov.values, schema, label, ov.source);
    case 'file': {
      const values = readConfigFile(ov.path, ov.baseDir, label);
      return flattenMapping([], values, schema, label, ov.path);
    }
  }
}

/** Reads a YAML or JSON config override file (a mapping). */
export function readConfigFile(
  path: string,
  baseDir: string | undefined,
  label: string | null,
): Record<string, unknown> {
  const full = resolvePath(baseDir ?? process.cwd(), path);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `cannot read config file '${full}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}. Check the path (relative paths are relative to ${baseDir ?? 'the working directory'}).`,
      { label, source: path },
      { cause: err },
    );
  }
  let value: unknown;
  try {
    value = full.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `config file '${full}' is not valid ${full.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
      { label, source: path },
      { cause: err },
    );
  }
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) {
    throw new ConfigError(`config file '${full}' must hold a mapping of keys to values.`, {
      label,
      source: path,
    });
  }
  return value;
}

function splitKey(key: string, label: string | null, source: string): string[] {
  const parts = key.split('.');
  if (parts.some((p) => p === '')) {
    throw new ConfigError(`config key '${key}' has an empty part. Write dotted paths like a.b.c.`, {
      label,
      key,
      source,
    });
  }
  return parts;
}

function flattenMapping(
  prefix: readonly string[],
  values: Readonly<Record<string, unknown>>,
  schema: z.ZodType,
  label: string | null,
  source: string,
): Assignment[] {
  const out: Assignment[] = [];
  for (const [k, v] of Object.entries(values)) {
    out.push(...flatten([...prefix, ...splitKey(k, label, source)], v, schema, label, source));
  }
  return out;
}

/** Assignments for `value` at `path`: a mapping assigned to an object group is split per field. */
function flatten(
  path: readonly string[],
  value: unknown,
  root: z.ZodType,
  label: string | null,
  source: string,
): Assignment[] {
  const target = schemaAt(root, path, label, source);
  if (isPlainObject(value) && unwrap(target) instanceof z.ZodObject) {
    return flattenMapping(path, value, root, label, source);
  }
  return [{ path, value, source }];
}

/** Strips default/optional/nullable/readonly/catch/pipe wrappers. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  for (let i = 0; i < 32; i++) {
    const def = s._zod.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
    if (def.innerType !== undefined) s = def.innerType;
    else if (def.type === 'pipe' && def.in !== undefined) s = def.in;
    else return s;
  }
  return s;
}

/** The schema of the field at `path`; unknown keys are ConfigErrors with suggestions. */
function schemaAt(
  root: z.ZodType,
  path: readonly string[],
  label: string | null,
  source: string,
): z.ZodType {
  let s = root;
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    const u = unwrap(s);
    const here = path.slice(0, i).join('.');
    if (u instanceof z.ZodObject) {
      const shape = u.shape as Record<string, z.ZodType>;
      const next = shape[key];
      if (next === undefined || !Object.hasOwn(shape, key)) {
        const full = path.slice(0, i + 1).join('.');
        const known = Object.keys(shape);
        throw new ConfigError(
          `${label === null ? '' : `${label}: `}unknown config key '${full}' (from ${source}).${didYouMean(key, known)}` +
            ` Known keys${here === '' ? '' : ` of '${here}'`}: ${known.join(', ')}.`,
          { label, key: full, source },
        );
      }
      s = next;
    } else if (u instanceof z.ZodRecord) {
      s = (u._zod.def as unknown as { valueType: z.ZodType }).valueType;
    } else {
      throw new ConfigError(
        `${label === null ? '' : `${label}: `}config key '${path.join('.')}' (from ${source}) goes inside '${here}', which is not a group of fields. Set '${here}' itself.`,
        { label, key: path.join('.'), source },
      );
    }
  }
  return s;
}

function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    const next = cur[k];
    if (isPlainObject(next)) cur = next;
    else {
      const made: Record<string, unknown> = {};
      cur[k] = made;
      cur = made;
    }
  }
  cur[path[path.length - 1]!] = cloneValue(value);
}

function cloneValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(cloneValue);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = cloneValue(x);
    return out;
  }
  return v;
}

/** True for `{}`-style objects (not arrays, maps, class instances or null). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function checkSerialisable(v: unknown, path: string[], label: string | null): void {
  const where = (): string => (path.length === 0 ? '(root)' : path.join('.'));
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) {
      throw new ConfigError(
        `config field '${where()}' is ${v}, which JSON cannot hold. Use a finite number (or null where the schema allows it).`,
        { label, key: where() },
      );
    }
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      checkSerialisable(x, [...path, String(i)], label);
    });
    return;
  }
  if (isPlainObject(v)) {
    for (const [k, x] of Object.entries(v))
      if (x !== undefined) checkSerialisable(x, [...path, k], label);
    return;
  }
  throw new ConfigError(
    `config field '${where()}' holds a ${typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v}, which cannot be written to the <label>_config dataset. Config values must be JSON data.`,
    { label, key: where() },
  );
}

/** Freezes an object and everything reachable from it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The JSON text of a resolved config (the `<label>_config` dataset, storage class `Config`). */
export function configToJson(config: Readonly<Record<string, unknown>>): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

/**
 * Reads a config back from its JSON (as written by {@link configToJson}) and re-validates it
 * against the task's schema; the result equals the config that was written.
 *
 * @throws ConfigError for invalid JSON, unknown keys or bad values.
 */
export function parseConfigJson<S extends AnyConfigSchema>(
  text: string,
  schema: S,
  connections: ConnectionsDefinition,
  options: { readonly label?: string; readonly source?: string } = {},
): TaskConfig<z.output<S>> {
  let values: unknown;
  const source = options.source ?? '<config JSON>';
  try {
    values = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${source} is not valid JSON: ${(err as Error).message}`, {
      label: options.label ?? null,
      source,
    });
  }
  if (!isPlainObject(values)) {
    throw new ConfigError(`${source} must hold a JSON object.`, {
      label: options.label ?? null,
      source,
    });
  }
  return resolveConfig(schema, connections, [{ kind: 'values', values, source }], options);
}

/** A reference to a pipeline parameter: a config value that is exactly `parameters.<name>`. */
const PARAMETER_REF = /^parameters\.(.+)$/;

/**
 * Replaces every string value that is exactly `parameters.<name>` (at any depth) with the
 * parameter's value, as LSST pipelines do.
 *
 * @throws ConfigError for a reference to an unknown parameter (with suggestions).
 */
export function substituteParameters(
  value: unknown,
  parameters: Readonly<Record<string, unknown>>,
  context: { readonly label: string; readonly source: string },
): unknown {
  if (typeof value === 'string') {
    const m = PARAMETER_REF.exec(value);
    if (m === null) return value;
    const name = m[1]!;
    if (!Object.hasOwn(parameters, name)) {
      throw new ConfigError(
        `${context.label}: config value '${value}' (from ${context.source}) refers to pipeline parameter '${name}', which is not defined.${didYouMean(name, Object.keys(parameters))} Define it under 'parameters:' or set it with -c parameters:${name}=value.`,
        { label: context.label, source: context.source },
      );
    }
    return parameters[name];
  }
  if (Array.isArray(value)) return value.map((v) => substituteParameters(v, parameters, context));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = substituteParameters(v, parameters, context);
    return out;
  }
  return value;
}
