/**
 * File templates: map a dataset (type, data ID, run) to a path relative to the datastore
 * root, as LSST's daf_butler does (`datastore/file_templates.py`).
 *
 * Syntax: literal text plus fields in braces.
 * - `{visit}`        required: the data ID's `visit`, or a special field (below)
 * - `{visit?}` or `{visit:?}`   optional: when absent the field is dropped together with
 *   the literal text just before it, except that text up to and including its last `/`
 *   is kept (so `_{visit?}` vanishes and `/{visit?}` leaves an empty directory level,
 *   which normalization removes)
 * - `{exposure|group}`  fallback: the first alternative the data ID has (may be optional)
 * - `{run:/}`        keeps slashes in the value (LSST keeps run names such as
 *   `u/alice/run1` as directories); without `/` slashes become `_`
 * - `{visit:08d}`    zero-padded integer width (Python's format spec, `d` only)
 * - `{detector.full_name}` a dotted name is looked up verbatim in the data ID and counts
 *   as a use of `detector` for validation
 *
 * Special fields: `run` (RUN collection name), `datasetType` (the parent dataset type
 * name), `component` (the part after the first `.` of a component dataset type name, or
 * an explicit component), `id` (dataset UUID).
 *
 * Values are sanitized: only `A-Z a-z 0-9 . _ -` are kept (every other character, unicode
 * included, becomes `_`), a value made only of dots becomes underscores, empty path
 * segments are dropped, and the file-name part has its dots replaced by `_` (so no value
 * can fake a file extension). A rendered path is never absolute and never has `.`/`..`
 * segments; the formatter's extension is appended by the datastore.
 *
 * Lookup order of {@link FileTemplates.select}: dataset type name (full, then parent) ->
 * dimension set (the entry whose dimensions are all in the dataset type's, most
 * dimensions first) -> storage class -> default.
 */

import type { DataId, DataIdValue, DatasetRef, DatasetType } from '../refs.ts';
import { TemplateError } from './errors.ts';

/**
 * LSST's default template: directories `{run}/{datasetType}[.component]/` then the
 * optional tract, patch, day_obs, band, physical_filter, visit; file name = the present
 * values among datasetType, component, instrument, tract, patch, band, physical_filter,
 * visit, exposure, detector, skymap, joined by `_`, ending with the run name.
 * (`exposure` is in the name so exposure-level datasets stay unique; LSST uses its obs_id.)
 */
export const DEFAULT_TEMPLATE =
  '{run:/}/{datasetType}.{component?}/{tract?}/{patch?}/{day_obs?}/{band?}/{physical_filter?}/{visit?}/' +
  '{datasetType}_{component?}_{instrument?}_{tract?}_{patch?}_{band?}_{physical_filter?}_{visit?}_{exposure?}_{detector?}_{skymap?}_{run}';

/**
 * Template for raw-like dataset types (dimensions include exposure and detector), as
 * LSST's `physical_filter+detector+exposure` entry: `{run}/{datasetType}/{day_obs}/{exposure}/...`.
 */
export const RAW_TEMPLATE =
  '{run:/}/{datasetType}.{component?}/{day_obs?}/{exposure}/' +
  '{datasetType}_{component?}_{instrument?}_{physical_filter?}_{exposure}_{detector}_{run}';

/** Template overrides. Keys are matched as described in the module comment. */
export interface TemplatesConfig {
  /** The fallback template; {@link DEFAULT_TEMPLATE} when absent. */
  readonly default?: string;
  /** Per dataset type name (`calexp`, or `calexp.wcs` for one component). */
  readonly datasetTypes?: Readonly<Record<string, string>>;
  /**
   * Per dimension set, keyed by dimension names joined with `+` (e.g. `exposure+detector`);
   * an entry applies when all its dimensions are among the dataset type's. Entries here
   * come before the built-in {@link RAW_TEMPLATE} entry `exposure+detector`.
   */
  readonly dimensions?: Readonly<Record<string, string>>;
  /** Per storage class name (`ExposureF`, `SourceCatalog`, ...). */
  readonly storageClasses?: Readonly<Record<string, string>>;
}

/** Field names the template machinery provides itself (not data ID dimensions). */
export const SPECIAL_FIELDS: ReadonlySet<string> = new Set([
  'run',
  'datasetType',
  'component',
  'id',
]);

/**
 * Implied dimensions of LSST's universe (a data ID holding the key also holds these):
 * used to know which template fields a dataset type's data IDs can fill and which of its
 * dimensions are redundant for uniqueness.
 */
export const IMPLIED_DIMENSIONS: Readonly<Record<string, readonly string[]>> = {
  physical_filter: ['band'],
  visit: ['physical_filter', 'band', 'day_obs'],
  exposure: ['physical_filter', 'band', 'day_obs', 'group'],
};

/** Longest path segment a template may produce (common file-system limit), characters. */
export const MAX_SEGMENT_LENGTH = 255;

/** One `{...}` field of a parsed template. */
export interface TemplateField {
  /** Alternatives in order (`{a|b}` gives ['a', 'b']). */
  readonly names: readonly string[];
  /** Absent values are allowed (the field and its leading separator are dropped). */
  readonly optional: boolean;
  /** Slashes in the value are kept as directory separators. */
  readonly keepSlashes: boolean;
  /** Zero-padded width for integer values (`08d` -> 8), or 0. */
  readonly width: number;
  /** Whether the field lies in the file-name part (after the last literal `/`). */
  readonly inFileName: boolean;
}

type Part = { readonly literal: string } | { readonly field: TemplateField };

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;
const LITERAL_RE = /^[A-Za-z0-9._/-]*$/;
const SAFE_CHAR = /[A-Za-z0-9._-]/;

/** The dimension a (possibly dotted) field name refers to: `detector.full_name` -> `detector`. */
function primaryOf(name: string): string {
  const dot = name.indexOf('.');
  return dot < 0 ? name : name.slice(0, dot);
}

/**
 * A parsed file template. Construct with {@link FileTemplate.parse}; throws
 * TemplateError DATASTORE_BAD_TEMPLATE on syntax errors or literal text that could
 * leave the datastore root (`..` segments, a leading `/`, characters outside
 * `A-Z a-z 0-9 . _ - /`).
 */
export class FileTemplate {
  /** The template text as given. */
  readonly text: string;
  private readonly parts: readonly Part[];

  private constructor(text: string, parts: readonly Part[]) {
    this.text = text;
    this.parts = parts;
  }

  /** Parse `text` (see the module comment for the syntax). */
  static parse(text: string): FileTemplate {
    const bad = (why: string): TemplateError =>
      new TemplateError('DATASTORE_BAD_TEMPLATE', text, `${why}; fix the template`);
    if (typeof text !== 'string' || text.trim() === '') throw bad('the template is empty');
    const parts: Part[] = [];
    let i = 0;
    let literal = '';
    const raw: Array<{ literal: string } | { body: string }> = [];
    while (i < text.length) {
      const ch = text[i]!;
      if (ch === '{') {
        const end = text.indexOf('}', i + 1);
        if (end < 0) throw bad(`unclosed '{' at character ${i}`);
        if (literal) raw.push({ literal });
        literal = '';
        raw.push({ body: text.slice(i + 1, end) });
        i = end + 1;
      } else if (ch === '}') {
        throw bad(`unmatched '}' at character ${i}`);
      } else {
        literal += ch;
        i++;
      }
    }
    if (literal) raw.push({ literal });
    const lastSlash = (() => {
      // Index in `raw` after which no literal holds a '/': fields beyond are in the file name.
      let k = -1;
      raw.forEach((p, j) => {
        if ('literal' in p && p.literal.includes('/')) k = j;
      });
      return k;
    })();
    raw.forEach((p, j) => {
      if ('literal' in p) {
        if (!LITERAL_RE.test(p.literal)) {
          throw bad(
            `literal text '${p.literal}' may hold only letters, digits, '.', '_', '-' and '/'`,
          );
        }
        parts.push({ literal: p.literal });
        return;
      }
      let body = p.body;
      let spec = '';
      const colon = body.indexOf(':');
      if (colon >= 0) {
        spec = body.slice(colon + 1);
        body = body.slice(0, colon);
      }
      let optional = false;
      if (body.endsWith('?')) {
        optional = true;
        body = body.slice(0, -1);
      }
      if (spec.includes('?')) optional = true;
      const keepSlashes = spec.includes('/');
      const fmt = spec.replace(/[?/]/g, '');
      const m = /^(0?(\d+))?d?$/.exec(fmt);
      if (!m)
        throw bad(`field {${p.body}}: unknown format '${fmt}' (use ?, / or a width like 08d)`);
      const names = body.split('|');
      for (const n of names) {
        if (!NAME_RE.test(n)) throw bad(`field {${p.body}}: '${n}' is not a field name`);
      }
      parts.push({
        field: {
          names,
          optional,
          keepSlashes,
          width: m[2] ? Number(m[2]) : 0,
          inFileName: j > lastSlash,
        },
      });
    });
    if (text.startsWith('/')) throw bad('a template must be relative (it starts with /)');
    for (const seg of text.split('/')) {
      if (seg === '..' || seg === '.') throw bad(`'${seg}' path segments are not allowed`);
    }
    if (!parts.some((p) => 'field' in p)) throw bad('the template has no fields');
    if (text.endsWith('/')) throw bad('the template ends with / (it must name a file)');
    return new FileTemplate(text, parts);
  }

  /** The fields in order. */
  get fields(): TemplateField[] {
    return this.parts.flatMap((p) => ('field' in p ? [p.field] : []));
  }

  /**
   * The relative path for these values (no extension). `values` maps field names to
   * values (data ID keys plus the special fields); a missing required field, or a value
   * that sanitizes to nothing, throws TemplateError DATASTORE_TEMPLATE_VALUE.
   */
  format(values: Readonly<Record<string, DataIdValue | undefined>>): string {
    let out = '';
    // The literal before the next field is held back until we know whether that field
    // is present: LSST drops it with an absent optional field (keeping any directory
    // levels it opens).
    let pending = '';
    // Set after an absent optional field left us at the start of a path segment: the
    // separators that would now lead the segment are dropped too.
    let trimLead = false;
    const take = (literal: string): string => {
      if (!trimLead) return literal;
      trimLead = false;
      return literal.replace(/^[_.-]+/, '');
    };
    for (const part of this.parts) {
      if ('literal' in part) {
        pending += part.literal;
        continue;
      }
      const f = part.field;
      const name = f.names.find((n) => present(values[n])) ?? f.names[0]!;
      const rendered = present(values[name]) ? renderValue(values[name]!, f) : '';
      if (rendered === '') {
        if (!f.optional) {
          throw new TemplateError(
            'DATASTORE_TEMPLATE_VALUE',
            this.text,
            `the data ID has no usable value for required field {${f.names.join('|')}} ` +
              `(got ${JSON.stringify(values[name] ?? null)}); give the data ID that key or make the field optional ({${f.names.join('|')}?})`,
          );
        }
        const slash = pending.lastIndexOf('/');
        if (slash >= 0) {
          out += take(pending.slice(0, slash + 1));
        }
        pending = '';
        if (out === '' || out.endsWith('/')) trimLead = true;
        continue;
      }
      out += take(pending) + rendered;
      pending = '';
      trimLead = false;
    }
    out += take(pending);
    const segments = out.split('/').filter((s) => s !== '');
    if (segments.length === 0) {
      throw new TemplateError('DATASTORE_TEMPLATE_VALUE', this.text, 'the path came out empty');
    }
    // Dots in the file name would look like extensions: LSST replaces them, so do we.
    const last = segments.length - 1;
    segments[last] = segments[last]!.replace(/\./g, '_');
    for (const s of segments) {
      if (s === '.' || s === '..') {
        throw new TemplateError(
          'DATASTORE_TEMPLATE_VALUE',
          this.text,
          `the path has a '${s}' segment; change the template's literal text`,
        );
      }
      if (s.length > MAX_SEGMENT_LENGTH) {
        throw new TemplateError(
          'DATASTORE_TEMPLATE_VALUE',
          this.text,
          `path segment '${s.slice(0, 40)}...' is ${s.length} characters (limit ${MAX_SEGMENT_LENGTH}); use shorter data ID values or a template with more directory levels`,
        );
      }
    }
    return segments.join('/');
  }
}

function present(v: DataIdValue | undefined): v is DataIdValue {
  return v !== undefined && v !== null && v !== '';
}

/** Sanitize one value per the module comment ('' when nothing usable remains). */
function renderValue(v: DataIdValue, f: TemplateField): string {
  let s: string;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return '';
    s = f.width > 0 && Number.isInteger(v) ? padInt(v, f.width) : String(v);
  } else {
    s = String(v);
  }
  const clean = (t: string): string => {
    let r = '';
    for (const ch of t) r += SAFE_CHAR.test(ch) ? ch : '_';
    return /^\.+$/.test(r) ? '_'.repeat(r.length) : r;
  };
  if (f.keepSlashes) {
    return s
      .split('/')
      .filter((seg) => seg !== '')
      .map(clean)
      .join('/');
  }
  return clean(s);
}

function padInt(v: number, width: number): string {
  const abs = String(Math.abs(v)).padStart(width - (v < 0 ? 1 : 0), '0');
  return v < 0 ? `-${abs}` : abs;
}

/** Dimensions `dims` implies (transitively), not counting `dims` themselves. */
function impliedBy(dims: Iterable<string>): Set<string> {
  const out = new Set<string>();
  const stack = [...dims];
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const x of IMPLIED_DIMENSIONS[d] ?? []) {
      if (!out.has(x)) {
        out.add(x);
        stack.push(x);
      }
    }
  }
  return out;
}

/** Options of {@link validateTemplate}. */
export interface ValidateTemplateOptions {
  /**
   * Require a `{datasetType}` field (default true): templates shared by several dataset
   * types need it to keep their files apart; a per-dataset-type template does not.
   */
  readonly requireDatasetType?: boolean;
  /** The datasets are components (then `{component}` must appear). Default false. */
  readonly component?: boolean;
}

/**
 * Checks that `template` gives every dataset of a type with these `dimensions` its own
 * path:
 * - it uses `{run}` (required) or `{id}` (in the file name);
 * - it uses `{datasetType}` unless `requireDatasetType` is false, or `{id}` is used;
 * - every required dimension (those not implied by another, see
 *   {@link IMPLIED_DIMENSIONS}) appears as a field (optional or in a fallback counts);
 * - every required field can be filled: some alternative is a special field, one of the
 *   dimensions or a dimension they imply;
 * - component datasets need `{component}`, and non-component ones must not require it.
 *
 * @throws TemplateError DATASTORE_BAD_TEMPLATE (syntax, unfillable fields) or
 *   DATASTORE_TEMPLATE_NOT_UNIQUE (a missing dimension, run, or datasetType).
 */
export function validateTemplate(
  template: string | FileTemplate,
  dimensions: readonly string[],
  options: ValidateTemplateOptions = {},
): void {
  const t = typeof template === 'string' ? FileTemplate.parse(template) : template;
  const notUnique = (why: string): TemplateError =>
    new TemplateError(
      'DATASTORE_TEMPLATE_NOT_UNIQUE',
      t.text,
      `${why}, so two datasets could get the same path; add the field to the template`,
    );
  const fields = t.fields;
  const used = new Set(fields.flatMap((f) => f.names.map(primaryOf)));
  const usesId = fields.some((f) => f.inFileName && f.names.includes('id') && !f.optional);
  if (fields.some((f) => f.names.includes('id') && !f.inFileName)) {
    throw new TemplateError(
      'DATASTORE_BAD_TEMPLATE',
      t.text,
      '{id} must be part of the file name, not only a directory; move it after the last /',
    );
  }
  const hasRun = fields.some((f) => !f.optional && f.names.length === 1 && f.names[0] === 'run');
  if (!hasRun && !usesId) throw notUnique('it has no required {run} (nor {id}) field');
  if ((options.requireDatasetType ?? true) && !usesId && !used.has('datasetType')) {
    throw notUnique('it has no {datasetType} field');
  }
  const dims = new Set(dimensions);
  const implied = impliedBy(dims);
  const available = new Set([...dims, ...implied, ...SPECIAL_FIELDS]);
  for (const f of fields) {
    if (f.optional) continue;
    if (f.names.some((n) => available.has(primaryOf(n)))) {
      if (f.names.includes('component') && f.names.length === 1 && !options.component) {
        throw new TemplateError(
          'DATASTORE_BAD_TEMPLATE',
          t.text,
          '{component} is required but the dataset type is not a component; write {component?}',
        );
      }
      continue;
    }
    throw new TemplateError(
      'DATASTORE_BAD_TEMPLATE',
      t.text,
      `required field {${f.names.join('|')}} is not a dimension of [${[...dims].join(', ')}] ` +
        '(nor implied by one, nor a special field); make it optional or remove it',
    );
  }
  if (options.component && !used.has('component')) {
    throw notUnique('the datasets are components but the template has no {component} field');
  }
  if (usesId) return;
  const minimal = [...dims].filter((d) => !impliedBy([...dims].filter((x) => x !== d)).has(d));
  const missing = minimal.filter((d) => !used.has(d));
  if (missing.length > 0) {
    throw notUnique(
      `it does not use the dimension${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of [${[...dims].join(', ')}]`,
    );
  }
}

/** Where a selected template came from (for messages and validation rules). */
export type TemplateSource = 'datasetType' | 'dimensions' | 'storageClass' | 'default';

/** A template chosen for a dataset type. */
export interface SelectedTemplate {
  readonly template: FileTemplate;
  readonly source: TemplateSource;
  /** The config key that matched (dataset type name, dimension key, storage class, 'default'). */
  readonly key: string;
}

/** Parent name and component of a dataset type name (`calexp.wcs` -> ['calexp', 'wcs']). */
export function splitComponent(name: string): [string, string | null] {
  const dot = name.indexOf('.');
  return dot < 0 ? [name, null] : [name.slice(0, dot), name.slice(dot + 1)];
}

/**
 * The template set of a datastore: defaults ({@link DEFAULT_TEMPLATE},
 * {@link RAW_TEMPLATE} for `exposure+detector`) with overrides. Every template is parsed
 * when the set is built (TemplateError on syntax errors).
 */
export class FileTemplates {
  private readonly defaultTemplate: FileTemplate;
  private readonly byDatasetType: ReadonlyMap<string, FileTemplate>;
  private readonly byDimensions: ReadonlyArray<{ key: string; dims: string[]; t: FileTemplate }>;
  private readonly byStorageClass: ReadonlyMap<string, FileTemplate>;
  private readonly validated = new Set<string>();

  constructor(config: TemplatesConfig = {}) {
    const parse = (o: Readonly<Record<string, string>> | undefined): Map<string, FileTemplate> =>
      new Map(Object.entries(o ?? {}).map(([k, v]) => [k, FileTemplate.parse(v)]));
    this.defaultTemplate = FileTemplate.parse(config.default ?? DEFAULT_TEMPLATE);
    this.byDatasetType = parse(config.datasetTypes);
    this.byStorageClass = parse(config.storageClasses);
    const dimEntries = [
      ...Object.entries(config.dimensions ?? {}),
      ['exposure+detector', RAW_TEMPLATE] as const,
    ].map(([key, text], order) => ({
      key,
      dims: key.split('+').filter((d) => d !== ''),
      t: FileTemplate.parse(text),
      order,
    }));
    // Most dimensions first; among equals, config order (user entries before built-ins).
    dimEntries.sort((a, b) => b.dims.length - a.dims.length || a.order - b.order);
    this.byDimensions = dimEntries;
  }

  /** The template for `datasetType` (lookup order in the module comment). */
  select(datasetType: DatasetType): SelectedTemplate {
    const [parent] = splitComponent(datasetType.name);
    for (const key of [datasetType.name, parent]) {
      const t = this.byDatasetType.get(key);
      if (t) return { template: t, source: 'datasetType', key };
    }
    const dims = new Set(datasetType.dimensions);
    for (const e of this.byDimensions) {
      if (e.dims.every((d) => dims.has(d)))
        return { template: e.t, source: 'dimensions', key: e.key };
    }
    const sc = this.byStorageClass.get(datasetType.storageClass);
    if (sc) return { template: sc, source: 'storageClass', key: datasetType.storageClass };
    return { template: this.defaultTemplate, source: 'default', key: 'default' };
  }

  /**
   * Validates the template selected for `datasetType` ({@link validateTemplate}); the
   * result is cached per dataset type name and dimensions.
   */
  validate(datasetType: DatasetType): SelectedTemplate {
    const sel = this.select(datasetType);
    const cacheKey = `${datasetType.name}\u0000${datasetType.dimensions.join(',')}`;
    if (!this.validated.has(cacheKey)) {
      validateTemplate(sel.template, datasetType.dimensions, {
        requireDatasetType: sel.source !== 'datasetType',
        component: splitComponent(datasetType.name)[1] !== null,
      });
      this.validated.add(cacheKey);
    }
    return sel;
  }

  /**
   * The relative path (no extension) of `ref`: its data ID plus `run`, `datasetType`,
   * `component` and `id`. Validates the template for the dataset type first.
   *
   * @param component store one component of the dataset (LSST's disassembled composites)
   * @throws TemplateError (not unique, missing or unusable values)
   */
  pathFor(ref: DatasetRef, component?: string): string {
    const sel = this.validate(ref.datasetType);
    if (
      component !== undefined &&
      !sel.template.fields.some((f) => f.names.includes('component'))
    ) {
      throw new TemplateError(
        'DATASTORE_TEMPLATE_NOT_UNIQUE',
        sel.template.text,
        `component '${component}' given but the template has no {component} field, so every component would get the same path; add {component?}`,
      );
    }
    return sel.template.format(templateValues(ref, component));
  }
}

/** The field values of `ref`: its data ID plus the special fields. */
export function templateValues(
  ref: DatasetRef,
  component?: string,
): Readonly<Record<string, DataIdValue | undefined>> {
  const [parent, fromName] = splitComponent(ref.datasetType.name);
  const dataId: DataId = ref.dataId;
  const values: Record<string, DataIdValue | undefined> = { ...dataId };
  values.run = ref.run;
  values.datasetType = parent;
  values.component = component ?? fromName ?? undefined;
  values.id = ref.id;
  return values;
}
