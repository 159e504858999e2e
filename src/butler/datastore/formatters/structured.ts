/**
 * Small structured objects (LSST's `StructuredDataDict`, `Config`, `TaskMetadata`,
 * `Packages`) as JSON (`.json`, the default) or YAML (`.yaml`, through the `yaml`
 * package). Objects must be plain data: null, booleans, finite numbers (YAML also takes
 * NaN and +-Infinity), strings, arrays and plain objects; anything else (undefined,
 * functions, bigints, class instances, cycles) is refused before writing, so what is read
 * back equals what was written.
 */

import { readFile } from 'node:fs/promises';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { FormatterError } from '../errors.ts';
import type { Formatter } from './types.ts';

/** Plain structured data (JSON-like). */
export type StructuredData =
  | null
  | boolean
  | number
  | string
  | readonly StructuredData[]
  | { readonly [key: string]: StructuredData };

/** Why `v` is not plain structured data (path to the first offending value), or null. */
export function structuredDataProblem(v: unknown, allowNonFinite: boolean): string | null {
  const seen = new Set<object>();
  const walk = (x: unknown, path: string): string | null => {
    if (x === null || typeof x === 'boolean' || typeof x === 'string') return null;
    if (typeof x === 'number') {
      return Number.isFinite(x) || allowNonFinite
        ? null
        : `${path} is ${x} (JSON has no NaN/Infinity; use YAML or null)`;
    }
    if (typeof x !== 'object') return `${path} is a ${typeof x}`;
    if (seen.has(x)) return `${path} is a cycle back to an enclosing object`;
    seen.add(x);
    try {
      if (Array.isArray(x)) {
        for (let i = 0; i < x.length; i++) {
          const p = walk(x[i], `${path}[${i}]`);
          if (p) return p;
        }
        return null;
      }
      const proto = Object.getPrototypeOf(x);
      if (proto !== Object.prototype && proto !== null) {
        return `${path} is a ${proto?.constructor?.name ?? 'class'} instance, not a plain object`;
      }
      for (const [k, val] of Object.entries(x)) {
        const p = walk(val, `${path}.${k}`);
        if (p) return p;
      }
      return null;
    } finally {
      seen.delete(x);
    }
  };
  return walk(v, '$');
}

function makeFormatter(
  name: string,
  extension: string,
  encode: (v: StructuredData) => string,
  decode: (text: string) => unknown,
  allowNonFinite: boolean,
): Formatter<StructuredData> {
  const fromText = (text: string, where: string): StructuredData => {
    let v: unknown;
    try {
      v = decode(text);
    } catch (e) {
      throw new FormatterError(
        'DATASTORE_BAD_FILE',
        name,
        `${where} is not valid ${extension.slice(1).toUpperCase()}: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    return v as StructuredData;
  };
  return {
    name,
    extension,
    parameters: [],
    recipes: [],
    accepted: `plain data (null, booleans, ${allowNonFinite ? 'numbers' : 'finite numbers'}, strings, arrays, plain objects)`,
    accepts: (obj: unknown): obj is StructuredData =>
      structuredDataProblem(obj, allowNonFinite) === null,
    problem: (obj: unknown): string | null => structuredDataProblem(obj, allowNonFinite),
    toBytes(obj: StructuredData): Uint8Array {
      const problem = structuredDataProblem(obj, allowNonFinite);
      if (problem) {
        throw new FormatterError(
          'DATASTORE_FORMATTER',
          name,
          `cannot write this object: ${problem}`,
        );
      }
      return new TextEncoder().encode(encode(obj));
    },
    fromBytes: async (bytes: Uint8Array): Promise<StructuredData> =>
      fromText(new TextDecoder('utf-8', { fatal: false }).decode(bytes), 'the file'),
    fromFile: async (path: string): Promise<StructuredData> =>
      fromText(await readFile(path, 'utf8'), path),
  };
}

/** JSON (2-space indented, trailing newline). */
export const jsonFormatter: Formatter<StructuredData> = makeFormatter(
  'JsonFormatter',
  '.json',
  (v) => `${JSON.stringify(v, null, 2)}\n`,
  (t) => JSON.parse(t),
  false,
);

/** YAML 1.2 (the `yaml` package; `.nan`, `.inf` for non-finite numbers). */
export const yamlFormatter: Formatter<StructuredData> = makeFormatter(
  'YamlFormatter',
  '.yaml',
  (v) => stringifyYaml(v),
  (t) => parseYaml(t) as unknown,
  true,
);
