/**
 * The dimensions configuration file (configs/dimensions.yaml): its schema and loader.
 * The file format is documented at the top of configs/dimensions.yaml.
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DimensionConfigError } from './errors.ts';

const IDENT = /^[a-z][a-z0-9_]*$/;

const identifier = z
  .string()
  .regex(IDENT, 'must be lower-case letters, digits and underscores, starting with a letter');

/** Types of a record field. Timestamps are ISO-8601 text; regions are convex polygons. */
export const FIELD_TYPES = ['int', 'float', 'string', 'bool', 'timestamp', 'region'] as const;

const fieldSchema = z.strictObject({
  name: identifier,
  type: z.enum(FIELD_TYPES),
  length: z.number().int().positive().optional(),
  doc: z.string().optional(),
});

const elementSchema = z.strictObject({
  doc: z.string().optional(),
  key: z
    .strictObject({
      name: identifier,
      type: z.enum(['int', 'string']),
      length: z.number().int().positive().optional(),
    })
    .optional(),
  dimension: z.boolean().optional(),
  governor: z.boolean().optional(),
  requires: z.array(identifier).optional(),
  implies: z.array(identifier).optional(),
  spatial: identifier.optional(),
  populated_from_implied: z.boolean().optional(),
  fields: z.array(fieldSchema).optional(),
});

/** The validated shape of a dimensions configuration. */
export const DimensionsConfigSchema = z.strictObject({
  namespace: z.string().min(1),
  version: z.number().int().nonnegative(),
  skypix: z.strictObject({
    system: z.literal('htm'),
    level: z.number().int().min(1).max(20),
  }),
  elements: z.record(identifier, elementSchema),
});

/** A dimensions configuration as read from YAML (element order is significant). */
export type DimensionsConfig = z.infer<typeof DimensionsConfigSchema>;

/** One element's configuration. */
export type ElementConfig = z.infer<typeof elementSchema>;

/**
 * Path of the shipped configs/dimensions.yaml. Works from the sources
 * (src/butler/dimensions/config.ts, three levels below the root) and from the compiled
 * tree (dist/src/butler/dimensions/config.js, four levels below).
 *
 * @throws DimensionConfigError when neither location holds the file.
 */
export function defaultDimensionsConfigPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    resolve(here, '../../../configs/dimensions.yaml'),
    resolve(here, '../../../../configs/dimensions.yaml'),
  ];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new DimensionConfigError(
    `configs/dimensions.yaml not found (looked at ${candidates.join(', ')}); ` +
      'reinstall gpu-drp with its configs/ directory or pass a universe file explicitly',
    null,
  );
}

/**
 * Validates a parsed configuration object.
 *
 * @param path file name for messages, or null.
 * @throws DimensionConfigError listing every invalid field.
 */
export function parseDimensionsConfig(value: unknown, path: string | null): DimensionsConfig {
  const parsed = DimensionsConfigSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new DimensionConfigError(`invalid: ${issues.join('; ')}`, path);
  }
  return parsed.data;
}

/**
 * Reads and validates a dimensions YAML file (default: the shipped configs/dimensions.yaml).
 *
 * @throws DimensionConfigError when unreadable or invalid.
 */
export function readDimensionsConfig(
  path: string = defaultDimensionsConfigPath(),
): DimensionsConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DimensionConfigError(`cannot read the file (${(e as Error).message})`, path, {
      cause: e,
    });
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e) {
    throw new DimensionConfigError(`not valid YAML (${(e as Error).message})`, path, { cause: e });
  }
  return parseDimensionsConfig(value, path);
}
