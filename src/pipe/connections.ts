/**
 * PipelineTask connections: the declarative description of the datasets a task reads and writes.
 *
 * A task declares its quantum `dimensions` (one run of the task per data ID over them), name
 * templates (`defaultTemplates`, e.g. `{ coaddName: 'deep' }` so that `'{coaddName}Coadd'`
 * becomes `deepCoadd`), and one connection per dataset it touches:
 *
 * - {@link input}: a dataset produced upstream (or already in the repository);
 * - {@link prerequisiteInput}: a dataset that must exist before the pipeline runs (calibrations,
 *   reference catalogs); it may be `optional`;
 * - {@link output}: a dataset the task writes, one per quantum (or several if `multiple`);
 * - {@link initInput} / {@link initOutput}: datasets read or written once per task, not per
 *   quantum (schemas); they have no dimensions.
 *
 * Dataset type names are overridable through the task config (`connections.<field> = 'newName'`),
 * templates too (`connections.<templateName> = 'goodSeeing'`). Both are applied by
 * {@link resolveConnections}, which also runs the definition's `adjust` hook (which may drop
 * connections depending on the config) and validates the result (rules as in LSST's pipe_base):
 *
 * - dimension lists are arrays of identifiers without duplicates;
 * - an output's dimensions are a subset of (or equal to) the task's dimensions;
 * - a regular input whose dimensions are not within the task's must be `multiple` (one quantum
 *   gathers many of them, e.g. all visits of a patch); prerequisites are exempt, since they are
 *   looked up by a spatial/temporal query relating them to the quantum (calibration by
 *   physical_filter, reference catalog shards by sky pixel);
 * - `minimum` is an integer >= 1 for inputs (> 1 only with `multiple`); an optional prerequisite
 *   has minimum 0;
 * - a task never reads a dataset type it writes, nor writes one dataset type twice;
 * - field names are identifiers not starting with `_` (reserved for the automatic `_config`,
 *   `_metadata`, `_log` connections) and never equal a template name; every `{template}` in a
 *   name has a default.
 *
 * Errors are {@link InvalidConnectionsError}s naming the task label and the connection.
 */

import type { DatasetType } from '../butler/refs.ts';
import { InvalidConnectionsError } from './errors.ts';

/** The five kinds of connection. */
export type ConnectionKind = 'input' | 'prerequisiteInput' | 'output' | 'initInput' | 'initOutput';

interface ConnectionBase {
  /** Dataset type name, possibly with `{template}` placeholders (e.g. `'{coaddName}Coadd'`). */
  readonly name: string;
  /** Storage class name, e.g. `ExposureF`, `SourceCatalog`, `number`. */
  readonly storageClass: string;
  /** One line saying what the dataset is. */
  readonly doc: string;
}

/** A connection that has dimensions (inputs, prerequisites, outputs). */
interface DimensionedConnectionBase extends ConnectionBase {
  /** Dimension names of the dataset type, e.g. `['instrument', 'visit', 'detector']`. */
  readonly dimensions: readonly string[];
  /** True if a quantum reads or writes a list of datasets of this type (not exactly one). */
  readonly multiple: boolean;
  /** True for calibration dataset types (certified into CALIBRATION collections). */
  readonly isCalibration: boolean;
}

/** A regular input: produced upstream in the pipeline or already in the repository. */
export interface InputConnection extends DimensionedConnectionBase {
  readonly kind: 'input';
  /** If true the task gets a {@link DeferredDatasetHandle}-like handle instead of the object. */
  readonly deferLoad: boolean;
  /** Fewest datasets a quantum needs; fewer raises NoWorkFound (the quantum is skipped). */
  readonly minimum: number;
}

/** An input that must exist before the pipeline runs (calibrations, reference catalogs). */
export interface PrerequisiteInputConnection extends DimensionedConnectionBase {
  readonly kind: 'prerequisiteInput';
  /** If true the task gets a handle instead of the object. */
  readonly deferLoad: boolean;
  /** Fewest datasets a quantum needs: 0 when `optional`, else `minimum` (default 1). */
  readonly minimum: number;
  /** True if a missing dataset is fine (the task gets `null`, or `[]` when `multiple`). */
  readonly optional: boolean;
}

/** A dataset the task writes per quantum. */
export interface OutputConnection extends DimensionedConnectionBase {
  readonly kind: 'output';
}

/** A dataset read once when the task is constructed (e.g. an upstream schema). */
export interface InitInputConnection extends ConnectionBase {
  readonly kind: 'initInput';
}

/** A dataset written once per task, not per quantum (e.g. an output schema). */
export interface InitOutputConnection extends ConnectionBase {
  readonly kind: 'initOutput';
}

/** Any connection. */
export type Connection =
  | InputConnection
  | PrerequisiteInputConnection
  | OutputConnection
  | InitInputConnection
  | InitOutputConnection;

/** A connection with its field name and its final (config-overridden, templated) name. */
export type ResolvedConnection<C extends Connection = Connection> = C & {
  /** Field (attribute) name of the connection in its definition, e.g. `calexps`. */
  readonly field: string;
};

/** Options common to every connection. */
interface SpecBase {
  /** Dataset type name; may hold `{template}` placeholders. */
  readonly name: string;
  /** Storage class name. */
  readonly storageClass: string;
  /** One line saying what the dataset is. */
  readonly doc?: string;
}

/** Options of {@link input}. */
export interface InputSpec extends SpecBase {
  /** Dimensions of the dataset type. */
  readonly dimensions: readonly string[];
  /** A list of datasets per quantum (default false). */
  readonly multiple?: boolean;
  /** Hand the task a deferred handle instead of the object (default false). */
  readonly deferLoad?: boolean;
  /** Fewest datasets per quantum (default 1); fewer skips the quantum with NoWorkFound. */
  readonly minimum?: number;
  /** Calibration dataset type (default false). */
  readonly isCalibration?: boolean;
}

/** Options of {@link prerequisiteInput}. */
export interface PrerequisiteInputSpec extends InputSpec {
  /** A missing dataset is fine (minimum 0; default false). */
  readonly optional?: boolean;
}

/** Options of {@link output}. */
export interface OutputSpec extends SpecBase {
  /** Dimensions of the dataset type (within the task's dimensions). */
  readonly dimensions: readonly string[];
  /** A list of datasets per quantum (default false). */
  readonly multiple?: boolean;
  /** Calibration dataset type (default false). */
  readonly isCalibration?: boolean;
}

/** Options of {@link initInput} and {@link initOutput}. */
export type InitSpec = SpecBase;

/** A regular input connection. */
export function input(spec: InputSpec): InputConnection {
  return {
    kind: 'input',
    name: spec.name,
    storageClass: spec.storageClass,
    doc: spec.doc ?? '',
    dimensions: spec.dimensions,
    multiple: spec.multiple ?? false,
    isCalibration: spec.isCalibration ?? false,
    deferLoad: spec.deferLoad ?? false,
    minimum: spec.minimum ?? 1,
  };
}

/** A prerequisite input connection (must exist before the pipeline runs; may be optional). */
export function prerequisiteInput(spec: PrerequisiteInputSpec): PrerequisiteInputConnection {
  const optional = spec.optional ?? false;
  return {
    kind: 'prerequisiteInput',
    name: spec.name,
    storageClass: spec.storageClass,
    doc: spec.doc ?? '',
    dimensions: spec.dimensions,
    multiple: spec.multiple ?? false,
    isCalibration: spec.isCalibration ?? false,
    deferLoad: spec.deferLoad ?? false,
    minimum: optional ? 0 : (spec.minimum ?? 1),
    optional,
  };
}

/** An output connection. */
export function output(spec: OutputSpec): OutputConnection {
  return {
    kind: 'output',
    name: spec.name,
    storageClass: spec.storageClass,
    doc: spec.doc ?? '',
    dimensions: spec.dimensions,
    multiple: spec.multiple ?? false,
    isCalibration: spec.isCalibration ?? false,
  };
}

/** An init-input connection (no dimensions). */
export function initInput(spec: InitSpec): InitInputConnection {
  return {
    kind: 'initInput',
    name: spec.name,
    storageClass: spec.storageClass,
    doc: spec.doc ?? '',
  };
}

/** An init-output connection (no dimensions). */
export function initOutput(spec: InitSpec): InitOutputConnection {
  return {
    kind: 'initOutput',
    name: spec.name,
    storageClass: spec.storageClass,
    doc: spec.doc ?? '',
  };
}

/**
 * The view of a resolved task config that connection hooks see: the task's own fields plus
 * `connections` (field -> dataset type name, template -> value).
 */
export type ConnectionsConfigView = Readonly<Record<string, unknown>> & {
  readonly connections: Readonly<Record<string, string>>;
};

/** What the `adjust` hook may do to the connections of one task instance. */
export interface AdjustableConnections {
  /** Field names of the connections still present. */
  fields(): string[];
  /** True if `field` is still present. */
  has(field: string): boolean;
  /** Removes a connection (e.g. an optional output disabled by config). */
  drop(field: string): void;
  /** Replaces a connection's definition (e.g. dimensions that depend on config). */
  replace(field: string, connection: Connection): void;
  /** Replaces the task's quantum dimensions. */
  setDimensions(dimensions: readonly string[]): void;
}

/** A task's connections definition, as made by {@link defineConnections}. */
export interface ConnectionsDefinition<F extends string = string> {
  /** Quantum dimensions of the task. */
  readonly dimensions: readonly string[];
  /** Template name -> default value. */
  readonly defaultTemplates: Readonly<Record<string, string>>;
  /** Field name -> connection. */
  readonly connections: Readonly<Record<F, Connection>>;
  /** Hook run with the resolved config; may drop or replace connections. */
  readonly adjust?: (config: ConnectionsConfigView, connections: AdjustableConnections) => void;
}

/** Defines a task's connections; field names become config keys `connections.<field>`. */
export function defineConnections<const C extends Record<string, Connection>>(definition: {
  readonly dimensions: readonly string[];
  readonly defaultTemplates?: Readonly<Record<string, string>>;
  readonly connections: C;
  readonly adjust?: (config: ConnectionsConfigView, connections: AdjustableConnections) => void;
}): ConnectionsDefinition<keyof C & string> {
  return Object.freeze({
    dimensions: Object.freeze([...definition.dimensions]),
    defaultTemplates: Object.freeze({ ...(definition.defaultTemplates ?? {}) }),
    connections: Object.freeze({ ...definition.connections }),
    ...(definition.adjust === undefined ? {} : { adjust: definition.adjust }),
  });
}

/** Dimension closure provider (a Butler `DimensionUniverse` fits): required + implied, recursively. */
export interface DimensionClosure {
  /** The dimensions plus every dimension they require or imply. */
  closure(dimensions: Iterable<string>): readonly string[];
}

/** A task's connections after config overrides, templates and the adjust hook. */
export interface ResolvedConnections {
  /** Task label the connections were resolved for. */
  readonly label: string;
  /** Quantum dimensions. */
  readonly dimensions: readonly string[];
  /** Regular inputs by field. */
  readonly inputs: ReadonlyMap<string, ResolvedConnection<InputConnection>>;
  /** Prerequisite inputs by field. */
  readonly prerequisiteInputs: ReadonlyMap<string, ResolvedConnection<PrerequisiteInputConnection>>;
  /** Outputs by field (the automatic `_metadata`/`_log` are not here; see {@link automaticConnections}). */
  readonly outputs: ReadonlyMap<string, ResolvedConnection<OutputConnection>>;
  /** Init-inputs by field. */
  readonly initInputs: ReadonlyMap<string, ResolvedConnection<InitInputConnection>>;
  /** Init-outputs by field (the automatic `_config` is not here). */
  readonly initOutputs: ReadonlyMap<string, ResolvedConnection<InitOutputConnection>>;
}

/** Storage class of the automatic `<label>_config` init-output. */
export const CONFIG_STORAGE_CLASS = 'Config';
/** Storage class of the automatic `<label>_metadata` output. */
export const METADATA_STORAGE_CLASS = 'TaskMetadata';
/** Storage class of the automatic `<label>_log` output (JSON lines). */
export const LOG_STORAGE_CLASS = 'ButlerLogRecords';

/** The connections every task gets without declaring them. */
export interface AutomaticConnections {
  /** `<label>_config`: the resolved config, written once per task (field `_config`). */
  readonly config: ResolvedConnection<InitOutputConnection>;
  /** `<label>_metadata`: per-quantum timings and counts, task dimensions (field `_metadata`). */
  readonly metadata: ResolvedConnection<OutputConnection>;
  /** `<label>_log`: per-quantum log records as JSON lines, task dimensions (field `_log`). */
  readonly log: ResolvedConnection<OutputConnection>;
}

/** The automatic `<label>_config`, `<label>_metadata` and `<label>_log` connections of a task. */
export function automaticConnections(
  label: string,
  taskDimensions: readonly string[],
): AutomaticConnections {
  const dimensions = Object.freeze([...taskDimensions]);
  return {
    config: {
      ...initOutput({
        name: `${label}_config`,
        storageClass: CONFIG_STORAGE_CLASS,
        doc: 'resolved task config',
      }),
      field: '_config',
    },
    metadata: {
      ...output({
        name: `${label}_metadata`,
        storageClass: METADATA_STORAGE_CLASS,
        dimensions,
        doc: 'task metadata: timings, counts',
      }),
      field: '_metadata',
    },
    log: {
      ...output({
        name: `${label}_log`,
        storageClass: LOG_STORAGE_CLASS,
        dimensions,
        doc: 'task log records (JSON lines)',
      }),
      field: '_log',
    },
  };
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DATASET_TYPE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const TEMPLATE = /\{([^{}]*)\}/g;

/** Template names used in a dataset type name (`'{coaddName}Coadd'` -> `['coaddName']`). */
export function templateNamesIn(name: string): string[] {
  return [...name.matchAll(TEMPLATE)].map((m) => m[1]!);
}

/**
 * The default `connections` config block of a definition: each field's default (unformatted)
 * dataset type name and each template's default value.
 */
export function connectionConfigDefaults(
  definition: ConnectionsDefinition,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, c] of Object.entries<Connection>(definition.connections)) out[field] = c.name;
  for (const [t, v] of Object.entries(definition.defaultTemplates)) out[t] = v;
  return out;
}

/**
 * Checks a definition on its own (before any config): field and template names, dimension
 * lists, minimum/multiple/optional combinations, defaults for every template. `task` names the
 * task in errors (a label or class name).
 *
 * @throws InvalidConnectionsError
 */
export function checkConnectionsDefinition(definition: ConnectionsDefinition, task: string): void {
  checkDimensionList(definition.dimensions, task, null, 'task dimensions');
  const fields = Object.keys(definition.connections);
  for (const t of Object.keys(definition.defaultTemplates)) {
    if (!IDENTIFIER.test(t)) {
      throw new InvalidConnectionsError(
        task,
        null,
        `template name '${t}' is not an identifier`,
        'Use letters, digits and _.',
      );
    }
    if (fields.includes(t)) {
      throw new InvalidConnectionsError(
        task,
        t,
        `template '${t}' has the same name as a connection`,
        'Rename the template or the connection: both are config keys under connections.',
      );
    }
    if (typeof definition.defaultTemplates[t] !== 'string') {
      throw new InvalidConnectionsError(
        task,
        null,
        `template '${t}' has a default that is not a string`,
        'Give a string.',
      );
    }
  }
  for (const [field, c] of Object.entries<Connection>(definition.connections)) {
    checkConnection(field, c, task);
    for (const t of templateNamesIn(c.name)) {
      if (!(t in definition.defaultTemplates)) {
        throw new InvalidConnectionsError(
          task,
          field,
          `name '${c.name}' uses template '{${t}}' which has no default`,
          `Add '${t}' to defaultTemplates.`,
        );
      }
    }
  }
}

function checkConnection(field: string, c: Connection, task: string): void {
  if (!IDENTIFIER.test(field) || field.startsWith('_')) {
    throw new InvalidConnectionsError(
      task,
      field,
      'field names must be identifiers not starting with _',
      'Rename the connection (names starting with _ are reserved for _config, _metadata, _log).',
    );
  }
  if (typeof c.name !== 'string' || c.name === '') {
    throw new InvalidConnectionsError(
      task,
      field,
      'the dataset type name is empty',
      'Give a name.',
    );
  }
  if (typeof c.storageClass !== 'string' || c.storageClass === '') {
    throw new InvalidConnectionsError(
      task,
      field,
      'the storage class is empty',
      'Give a storage class name.',
    );
  }
  if (c.kind === 'initInput' || c.kind === 'initOutput') {
    if ('dimensions' in c) {
      throw new InvalidConnectionsError(
        task,
        field,
        'init connections have no dimensions',
        'Drop the dimensions, or make it an input/output.',
      );
    }
    return;
  }
  checkDimensionList(c.dimensions, task, field, 'dimensions');
  if (c.kind === 'input' || c.kind === 'prerequisiteInput') {
    if (!Number.isInteger(c.minimum) || c.minimum < 0) {
      throw new InvalidConnectionsError(
        task,
        field,
        `minimum=${c.minimum} is not an integer >= 0`,
        'Give a whole number.',
      );
    }
    if (c.minimum > 1 && !c.multiple) {
      throw new InvalidConnectionsError(
        task,
        field,
        `minimum=${c.minimum} needs multiple=true`,
        'Set multiple: true, or minimum: 1.',
      );
    }
    if (c.kind === 'input' && c.minimum === 0) {
      throw new InvalidConnectionsError(
        task,
        field,
        'minimum=0 is not supported for regular inputs',
        'Use prerequisiteInput({ optional: true }) for a dataset that may be missing.',
      );
    }
    if (c.kind === 'prerequisiteInput' && c.optional && c.minimum !== 0) {
      throw new InvalidConnectionsError(
        task,
        field,
        'an optional prerequisite has minimum 0',
        'Drop minimum.',
      );
    }
  }
}

function checkDimensionList(dims: unknown, task: string, field: string | null, what: string): void {
  if (typeof dims === 'string') {
    throw new InvalidConnectionsError(
      task,
      field,
      `${what} must be a list of dimension names, got the string '${dims}'`,
      `Write [${dims
        .split(/[\s,]+/)
        .filter((d) => d !== '')
        .map((d) => `'${d}'`)
        .join(', ')}].`,
    );
  }
  if (!Array.isArray(dims)) {
    throw new InvalidConnectionsError(
      task,
      field,
      `${what} must be a list of dimension names`,
      'Give an array of strings.',
    );
  }
  const seen = new Set<string>();
  for (const d of dims) {
    if (typeof d !== 'string' || !IDENTIFIER.test(d)) {
      throw new InvalidConnectionsError(
        task,
        field,
        `${what}: '${String(d)}' is not a dimension name`,
        'Use identifiers.',
      );
    }
    if (seen.has(d)) {
      throw new InvalidConnectionsError(
        task,
        field,
        `${what}: '${d}' appears twice`,
        'List each dimension once.',
      );
    }
    seen.add(d);
  }
}

/** Fills `{template}` placeholders; unknown ones are an error naming the connection. */
function formatName(
  name: string,
  templates: Readonly<Record<string, string>>,
  task: string,
  field: string,
): string {
  return name.replace(TEMPLATE, (_m, key: string) => {
    const v = templates[key];
    if (v === undefined) {
      throw new InvalidConnectionsError(
        task,
        field,
        `name '${name}' uses template '{${key}}' which has no value`,
        `Add '${key}' to defaultTemplates or set connections.${key} in the config.`,
      );
    }
    return v;
  });
}

/**
 * Resolves a definition against a task config: applies name overrides and templates from
 * `config.connections`, runs the `adjust` hook, and validates the result. With a `universe`
 * (anything with `closure`, e.g. the Butler's DimensionUniverse) dimension subset tests use
 * closures (so `band` counts as within `{instrument, visit}` when visit implies it).
 *
 * @throws InvalidConnectionsError naming `label` and the connection.
 */
export function resolveConnections(
  definition: ConnectionsDefinition,
  config: ConnectionsConfigView,
  label: string,
  options: { universe?: DimensionClosure } = {},
): ResolvedConnections {
  checkConnectionsDefinition(definition, label);
  const cc = config.connections;
  const templates: Record<string, string> = {};
  for (const t of Object.keys(definition.defaultTemplates)) {
    const v = cc[t] ?? definition.defaultTemplates[t];
    if (v !== undefined) templates[t] = v;
  }
  const current = new Map<string, Connection>();
  for (const [field, c] of Object.entries<Connection>(definition.connections)) {
    const named = cc[field] ?? c.name;
    current.set(field, { ...c, name: formatName(named, templates, label, field) });
  }
  let dimensions: readonly string[] = definition.dimensions;
  if (definition.adjust !== undefined) {
    const adjustable: AdjustableConnections = {
      fields: () => [...current.keys()],
      has: (field) => current.has(field),
      drop: (field) => {
        if (!current.delete(field)) {
          throw new InvalidConnectionsError(
            label,
            field,
            'adjust dropped a connection that does not exist',
            'Check the field name.',
          );
        }
      },
      replace: (field, connection) => {
        if (!current.has(field)) {
          throw new InvalidConnectionsError(
            label,
            field,
            'adjust replaced a connection that does not exist',
            'Check the field name.',
          );
        }
        current.set(field, {
          ...connection,
          name: formatName(connection.name, templates, label, field),
        });
      },
      setDimensions: (dims) => {
        dimensions = [...dims];
      },
    };
    definition.adjust(config, adjustable);
    checkDimensionList(dimensions, label, null, 'task dimensions');
  }

  const universe = options.universe;
  const close = (dims: readonly string[]): Set<string> =>
    new Set(universe ? universe.closure(dims) : dims);
  const taskDims = close(dimensions);
  const inputs = new Map<string, ResolvedConnection<InputConnection>>();
  const prerequisiteInputs = new Map<string, ResolvedConnection<PrerequisiteInputConnection>>();
  const outputs = new Map<string, ResolvedConnection<OutputConnection>>();
  const initInputs = new Map<string, ResolvedConnection<InitInputConnection>>();
  const initOutputs = new Map<string, ResolvedConnection<InitOutputConnection>>();
  const readNames = new Map<string, string>();
  const writeNames = new Map<string, string>();
  for (const [field, c] of current) {
    checkConnection(field, c, label);
    if (!DATASET_TYPE_NAME.test(c.name)) {
      throw new InvalidConnectionsError(
        label,
        field,
        `'${c.name}' is not a valid dataset type name`,
        'Use letters, digits and _ (components after a dot), starting with a letter or _.',
      );
    }
    switch (c.kind) {
      case 'input':
      case 'prerequisiteInput': {
        if (c.kind === 'input' && !c.multiple) {
          const outside = [...close(c.dimensions)].filter((d) => !taskDims.has(d));
          if (outside.length > 0) {
            throw new InvalidConnectionsError(
              label,
              field,
              `input '${c.name}' has dimensions [${outside.join(', ')}] outside the task dimensions [${dimensions.join(', ')}], so a quantum may get several of them`,
              'Set multiple: true (the task then gets a list), or add the dimensions to the task.',
            );
          }
        }
        if (c.kind === 'input') inputs.set(field, { ...c, field });
        else prerequisiteInputs.set(field, { ...c, field });
        readNames.set(c.name, field);
        break;
      }
      case 'output': {
        const outside = [...close(c.dimensions)].filter((d) => !taskDims.has(d));
        if (outside.length > 0) {
          throw new InvalidConnectionsError(
            label,
            field,
            `output '${c.name}' has dimensions [${outside.join(', ')}] outside the task dimensions [${dimensions.join(', ')}]`,
            'Output dimensions must be a subset of the task dimensions: drop them from the output or add them to the task.',
          );
        }
        outputs.set(field, { ...c, field });
        addWrite(writeNames, c.name, field, label);
        break;
      }
      case 'initInput':
        initInputs.set(field, { ...c, field });
        readNames.set(c.name, field);
        break;
      case 'initOutput':
        initOutputs.set(field, { ...c, field });
        addWrite(writeNames, c.name, field, label);
        break;
    }
  }
  for (const [name, field] of writeNames) {
    const reader = readNames.get(name);
    if (reader !== undefined) {
      throw new InvalidConnectionsError(
        label,
        field,
        `dataset type '${name}' is both read (connection '${reader}') and written by the task`,
        'Rename one of them through config (connections.<field>).',
      );
    }
  }
  return Object.freeze({
    label,
    dimensions: Object.freeze([...dimensions]),
    inputs,
    prerequisiteInputs,
    outputs,
    initInputs,
    initOutputs,
  });
}

function addWrite(writes: Map<string, string>, name: string, field: string, label: string): void {
  const other = writes.get(name);
  if (other !== undefined) {
    throw new InvalidConnectionsError(
      label,
      field,
      `dataset type '${name}' is written by two connections ('${other}' and '${field}')`,
      'Give them different names.',
    );
  }
  writes.set(name, field);
}

/** Every resolved connection of a task, in kind order (inputs, prerequisites, outputs, init). */
export function allConnections(resolved: ResolvedConnections): ResolvedConnection[] {
  return [
    ...resolved.inputs.values(),
    ...resolved.prerequisiteInputs.values(),
    ...resolved.outputs.values(),
    ...resolved.initInputs.values(),
    ...resolved.initOutputs.values(),
  ];
}

/** The dataset type a resolved connection reads or writes (init datasets have no dimensions). */
export function datasetTypeOf(connection: ResolvedConnection): DatasetType {
  if (connection.kind === 'initInput' || connection.kind === 'initOutput') {
    return { name: connection.name, dimensions: [], storageClass: connection.storageClass };
  }
  return {
    name: connection.name,
    dimensions: connection.dimensions,
    storageClass: connection.storageClass,
    ...(connection.isCalibration ? { isCalibration: true } : {}),
  };
}
