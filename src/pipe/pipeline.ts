/**
 * Pipelines: LSST's pipeline YAML, loaded with the `yaml` package.
 *
 * ```yaml
 * description: Coadd and detect
 * instrument: gpu_drp.instruments.SimCam          # optional
 * parameters:                                     # referenced as "parameters.<name>" in configs
 *   coaddName: deep
 * imports:                                        # optional; paths relative to this file
 *   - location: $PIPELINES_DIR/base.yaml#step1    # $VAR / ${VAR} expanded, #fragment selects
 *     exclude: [isr]                              # or include: [...] (labels or subsets)
 *     importContracts: true                       # default true
 *     importSteps: true                           # default true
 *     instrument: None                            # override the imported instrument
 *     rename: { oldLabel: newLabel }
 *     labeledSubsetModifyMode: DROP               # or EDIT
 * tasks:
 *   makeWarp: tasks/make-warp.ts#MakeWarpTask     # label -> class string
 *   assembleCoadd:
 *     class: gpu_drp.tasks.AssembleCoaddTask
 *     config:                                     # a mapping, or a list of them
 *       - file: overrides/coadd.yaml              # YAML/JSON override files (string or list)
 *         statistic: MEANCLIP
 *         connections.coaddName: parameters.coaddName
 * subsets:
 *   step3: { subset: [makeWarp, assembleCoadd], description: coadds }   # or a plain list
 * steps:
 *   - { label: step3, dimensions: [tract] }
 * contracts:
 *   - contract: makeWarp.connections.coaddName == assembleCoadd.connections.coaddName
 *     msg: warps and coadds must use the same coadd name
 *   - "assembleCoadd.nSigma > 0"
 * ```
 *
 * Imports merge as in LSST: imported tasks, subsets, steps and contracts come first; a label
 * defined again with the same class appends its config blocks, with another class replaces the
 * imported task; the importing file's parameters and subsets win. A URI fragment
 * (`pipeline.yaml#label1,subset2`) keeps only the named tasks (subsets expand); subsets that lose
 * a member are dropped (or edited, with `labeledSubsetModifyMode: EDIT`), steps whose subset is
 * gone are dropped (all steps, when the remaining ones no longer cover every selected task), and
 * contracts naming a removed task are dropped.
 *
 * `python:` config blocks (LSST runs them as code) and per-`dataId` config blocks are refused.
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, stringify } from 'yaml';
import {
  type ConfigOverride,
  isPlainObject,
  type LabeledConfigOverride,
  readConfigFile,
  resolveConfig,
  substituteParameters,
  type TaskConfig,
} from './config.ts';
import { type DimensionClosure, resolveConnections } from './connections.ts';
import { checkContracts, parseContract } from './contracts.ts';
import { ConfigError, PipelineDefinitionError } from './errors.ts';
import { makeTaskNode, PipelineGraph, type TaskNode } from './pipeline-graph.ts';
import { didYouMean } from './suggest.ts';
import type { PipelineTaskClass } from './task.ts';
import { getTask, type ResolveTaskOptions, resolveTask } from './task-registry.ts';

/** One `config:` block of a task in a pipeline. */
export interface PipelineConfigBlock {
  /** Override files (absolute paths), applied before `values`. */
  readonly files: readonly string[];
  /** Key -> value overrides (dotted keys or nested mappings; may hold `parameters.<name>`). */
  readonly values: Readonly<Record<string, unknown>>;
  /** The pipeline file the block came from (or `<string>`). */
  readonly source: string;
}

/** A task of a pipeline. */
export interface PipelineTaskDef {
  /** Label. */
  readonly label: string;
  /** Class string: a registered name or a module path (`./` paths made absolute at load). */
  readonly taskClass: string;
  /** Config blocks in application order. */
  readonly config: readonly PipelineConfigBlock[];
}

/** A labelled subset of tasks. */
export interface PipelineSubset {
  readonly label: string;
  readonly tasks: readonly string[];
  readonly description: string | null;
}

/** A step: a subset plus its sharding dimensions. */
export interface PipelineStep {
  readonly label: string;
  readonly dimensions: readonly string[];
}

/** A contract: an expression over task configs and a message. */
export interface PipelineContract {
  readonly contract: string;
  readonly msg: string | null;
}

/** How subsets react when some of their tasks are removed. */
export type SubsetModifyMode = 'DROP' | 'EDIT';

/** Options of pipeline loading. */
export interface PipelineLoadOptions {
  /** Environment for `$VAR` expansion in import locations (default: `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Folder for relative paths when loading from text (default: the working directory). */
  readonly baseDir?: string;
  /** Name of the source in messages when loading from text (default `<string>`). */
  readonly source?: string;
}

/** Options of {@link Pipeline.toGraph}. */
export interface ToGraphOptions {
  /**
   * Command-line overrides in the order given (`-C` files and `-c` values, see
   * parseConfigOption / parseConfigFileOption); label `parameters` sets pipeline parameters.
   */
  readonly overrides?: readonly LabeledConfigOverride[];
  /** Dimension closure for dimension checks (e.g. the Butler's DimensionUniverse). */
  readonly universe?: DimensionClosure;
  /** Check contracts (default true). */
  readonly checkContracts?: boolean;
}

interface PipelineData {
  readonly description: string;
  readonly instrument: string | null;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly tasks: ReadonlyMap<string, PipelineTaskDef>;
  readonly subsets: ReadonlyMap<string, PipelineSubset>;
  readonly steps: readonly PipelineStep[];
  readonly contracts: readonly PipelineContract[];
  readonly source: string;
}

const TOP_KEYS = [
  'description',
  'instrument',
  'parameters',
  'imports',
  'tasks',
  'subsets',
  'steps',
  'contracts',
];
const IMPORT_KEYS = [
  'location',
  'include',
  'exclude',
  'importContracts',
  'importSteps',
  'instrument',
  'rename',
  'labeledSubsetModifyMode',
  'labelSpecifiers',
];
const LABEL = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A loaded pipeline: tasks with config blocks, subsets, steps, contracts. Immutable. */
export class Pipeline {
  /** What the pipeline does. */
  readonly description: string;
  /** Instrument class string, or null. */
  readonly instrument: string | null;
  /** Parameters (`parameters.<name>` in config values). */
  readonly parameters: Readonly<Record<string, unknown>>;
  /** Tasks by label, in declaration order (imports first). */
  readonly tasks: ReadonlyMap<string, PipelineTaskDef>;
  /** Labelled subsets. */
  readonly subsets: ReadonlyMap<string, PipelineSubset>;
  /** Steps in order. */
  readonly steps: readonly PipelineStep[];
  /** Contracts (imported first). */
  readonly contracts: readonly PipelineContract[];
  /** File the pipeline came from, or `<string>`. */
  readonly source: string;
  private readonly classes: Map<string, PipelineTaskClass>;

  private constructor(
    data: PipelineData,
    classes: ReadonlyMap<string, PipelineTaskClass> = new Map(),
  ) {
    this.description = data.description;
    this.instrument = data.instrument;
    this.parameters = Object.freeze({ ...data.parameters });
    this.tasks = data.tasks;
    this.subsets = data.subsets;
    this.steps = Object.freeze([...data.steps]);
    this.contracts = Object.freeze([...data.contracts]);
    this.source = data.source;
    this.classes = new Map(classes);
  }

  /**
   * Loads a pipeline file; a `#label,subset` fragment selects tasks.
   *
   * @throws PipelineDefinitionError naming the file.
   */
  static fromFile(uri: string, options: PipelineLoadOptions = {}): Pipeline {
    const { path, fragment } = splitUri(uri, options.baseDir ?? process.cwd());
    const data = loadFile(path, options.env ?? process.env, []);
    const p = new Pipeline(data);
    return fragment === null ? p : p.subset(fragment);
  }

  /** Loads a pipeline from YAML text; imports and files are relative to `options.baseDir`. */
  static fromYaml(text: string, options: PipelineLoadOptions = {}): Pipeline {
    const source = options.source ?? '<string>';
    const doc = parseYamlText(text, source);
    return new Pipeline(
      buildPipeline(doc, source, options.baseDir ?? process.cwd(), options.env ?? process.env, []),
    );
  }

  /** Loads a pipeline from an already-parsed document (see {@link fromYaml}). */
  static fromObject(doc: unknown, options: PipelineLoadOptions = {}): Pipeline {
    const source = options.source ?? '<object>';
    return new Pipeline(
      buildPipeline(doc, source, options.baseDir ?? process.cwd(), options.env ?? process.env, []),
    );
  }

  /** Task labels in declaration order. */
  labels(): string[] {
    return [...this.tasks.keys()];
  }

  /**
   * The pipeline restricted to `specifiers` (task labels and subset names, or a comma-separated
   * string of them). Subsets losing members are dropped (`DROP`) or edited (`EDIT`); steps whose
   * subset is gone are dropped (all of them when the rest no longer cover every kept task);
   * contracts naming removed tasks are dropped.
   *
   * @throws PipelineDefinitionError for an unknown label (with suggestions).
   */
  subset(specifiers: string | readonly string[], mode: SubsetModifyMode = 'DROP'): Pipeline {
    const labels = expandSpecifiers(this.data(), specifiers);
    return new Pipeline(restrict(this.data(), labels, mode), this.classes);
  }

  /**
   * Imports the module-path task classes (`file.ts#Export`) so that {@link toGraph} can use
   * them; registered names are looked up too, so unknown ones fail here.
   *
   * @throws TaskNotFoundError
   */
  async importTasks(options: ResolveTaskOptions = {}): Promise<void> {
    for (const t of this.tasks.values()) {
      if (!this.classes.has(t.label))
        this.classes.set(t.label, await resolveTask(t.taskClass, options));
    }
  }

  /** The class of a task: imported by {@link importTasks}, or registered. @throws TaskNotFoundError */
  taskClassOf(label: string): PipelineTaskClass {
    const def = this.tasks.get(label);
    if (def === undefined) {
      throw new PipelineDefinitionError(
        `no task '${label}'.${didYouMean(label, this.tasks.keys())}`,
        this.source,
      );
    }
    return this.classes.get(label) ?? getTask(def.taskClass);
  }

  /**
   * The config overrides of one task, in application order: the pipeline's blocks (files, then
   * values with parameters substituted), then the command-line overrides for its label.
   */
  configOverridesOf(
    label: string,
    cli: readonly LabeledConfigOverride[] = [],
    parameters: Readonly<Record<string, unknown>> = this.parameters,
  ): ConfigOverride[] {
    const def = this.tasks.get(label);
    if (def === undefined) {
      throw new PipelineDefinitionError(
        `no task '${label}'.${didYouMean(label, this.tasks.keys())}`,
        this.source,
      );
    }
    const out: ConfigOverride[] = [];
    for (const block of def.config) {
      for (const f of block.files) out.push({ kind: 'file', path: f });
      if (Object.keys(block.values).length > 0) {
        const values = substituteParameters(block.values, parameters, {
          label,
          source: block.source,
        });
        out.push({
          kind: 'values',
          values: values as Record<string, unknown>,
          source: block.source,
        });
      }
    }
    for (const o of cli) if (o.label === label) out.push(o.override);
    return out;
  }

  /** Resolved, frozen config of one task (pipeline blocks, then `overrides`). */
  resolveTaskConfig(label: string, overrides: readonly LabeledConfigOverride[] = []): TaskConfig {
    const cls = this.taskClassOf(label);
    const parameters = this.parametersWith(overrides);
    return resolveConfig(
      cls.ConfigSchema,
      cls.connections,
      this.configOverridesOf(label, overrides, parameters),
      {
        label,
      },
    );
  }

  /** Pipeline parameters after `-c parameters:name=value` style overrides. */
  parametersWith(overrides: readonly LabeledConfigOverride[] = []): Record<string, unknown> {
    const params: Record<string, unknown> = { ...this.parameters };
    for (const o of overrides) {
      if (o.label !== 'parameters') continue;
      const ov = o.override;
      const values: Record<string, unknown> =
        ov.kind === 'assign'
          ? { [ov.key]: ov.value }
          : ov.kind === 'values'
            ? { ...ov.values }
            : readConfigFile(ov.path, ov.baseDir, 'parameters');
      for (const [k, v] of Object.entries(values)) {
        if (!Object.hasOwn(this.parameters, k)) {
          throw new ConfigError(
            `pipeline parameter '${k}' is not declared by the pipeline.${didYouMean(k, Object.keys(this.parameters))} Declared: ${Object.keys(this.parameters).join(', ') || 'none'}.`,
            { label: 'parameters', key: k },
          );
        }
        params[k] = v;
      }
    }
    return params;
  }

  /**
   * Builds the checked {@link PipelineGraph}: resolves every task's class (registered, or
   * imported by {@link importTasks}), config (defaults < pipeline blocks < `overrides` in order)
   * and connections; checks contracts; checks dataset types, cycles and steps.
   *
   * @throws ConfigError, InvalidConnectionsError, ContractError, ContractExpressionError,
   *   DatasetTypeConflictError, PipelineCycleError, PipelineDefinitionError, TaskNotFoundError.
   */
  toGraph(options: ToGraphOptions = {}): PipelineGraph {
    const overrides = options.overrides ?? [];
    for (const o of overrides) {
      if (o.label !== 'parameters' && !this.tasks.has(o.label)) {
        throw new ConfigError(
          `config override for unknown task label '${o.label}'.${didYouMean(o.label, this.tasks.keys())} Labels: ${this.labels().join(', ')}.`,
          { label: o.label },
        );
      }
    }
    const parameters = this.parametersWith(overrides);
    const nodes: TaskNode[] = [];
    const configs = new Map<string, TaskConfig>();
    for (const def of this.tasks.values()) {
      const cls = this.taskClassOf(def.label);
      const config = resolveConfig(
        cls.ConfigSchema,
        cls.connections,
        this.configOverridesOf(def.label, overrides, parameters),
        { label: def.label },
      );
      configs.set(def.label, config);
      const connections = resolveConnections(
        cls.connections,
        config,
        def.label,
        options.universe === undefined ? {} : { universe: options.universe },
      );
      nodes.push(makeTaskNode(def.label, def.taskClass, cls, config, connections));
    }
    if (options.checkContracts ?? true) {
      checkContracts(
        this.contracts.map((c) =>
          c.msg === null ? { contract: c.contract } : { contract: c.contract, msg: c.msg },
        ),
        configs,
      );
    }
    return new PipelineGraph(nodes, {
      description: this.description,
      instrument: this.instrument,
      parameters,
      subsets: [...this.subsets.values()],
      steps: this.steps,
      ...(options.universe === undefined ? {} : { universe: options.universe }),
    });
  }

  /** The expanded pipeline as a plain document (imports resolved, config blocks as lists). */
  toObject(): Record<string, unknown> {
    const doc: Record<string, unknown> = { description: this.description };
    if (this.instrument !== null) doc.instrument = this.instrument;
    if (Object.keys(this.parameters).length > 0) doc.parameters = { ...this.parameters };
    const tasks: Record<string, unknown> = {};
    for (const t of this.tasks.values()) {
      const entry: Record<string, unknown> = { class: t.taskClass };
      if (t.config.length > 0) {
        entry.config = t.config.map((b) => ({
          ...(b.files.length > 0 ? { file: [...b.files] } : {}),
          ...b.values,
        }));
      }
      tasks[t.label] = entry;
    }
    doc.tasks = tasks;
    if (this.subsets.size > 0) {
      const subsets: Record<string, unknown> = {};
      for (const s of this.subsets.values()) {
        subsets[s.label] = {
          subset: [...s.tasks],
          ...(s.description === null ? {} : { description: s.description }),
        };
      }
      doc.subsets = subsets;
    }
    if (this.steps.length > 0)
      doc.steps = this.steps.map((s) => ({ label: s.label, dimensions: [...s.dimensions] }));
    if (this.contracts.length > 0) {
      doc.contracts = this.contracts.map((c) =>
        c.msg === null ? { contract: c.contract } : { contract: c.contract, msg: c.msg },
      );
    }
    return doc;
  }

  /**
   * The expanded pipeline as YAML: loading it again gives an equal pipeline (config file paths
   * are absolute, so it loads from anywhere).
   */
  toYaml(): string {
    return stringify(this.toObject(), { lineWidth: 0 });
  }

  private data(): PipelineData {
    return {
      description: this.description,
      instrument: this.instrument,
      parameters: this.parameters,
      tasks: this.tasks,
      subsets: this.subsets,
      steps: this.steps,
      contracts: this.contracts,
      source: this.source,
    };
  }
}

function splitUri(uri: string, baseDir: string): { path: string; fragment: string | null } {
  let u = uri;
  if (u.startsWith('file://')) {
    const hash = u.indexOf('#');
    const head = hash < 0 ? u : u.slice(0, hash);
    u = fileURLToPath(head) + (hash < 0 ? '' : u.slice(hash));
  }
  const hash = u.indexOf('#');
  const path = hash < 0 ? u : u.slice(0, hash);
  const fragment = hash < 0 ? null : u.slice(hash + 1);
  return { path: isAbsolute(path) ? path : resolvePath(baseDir, path), fragment };
}

function parseYamlText(text: string, source: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new PipelineDefinitionError(`invalid YAML: ${e.message}`, source);
  }
  return doc.toJS({ maxAliasCount: 100 });
}

function loadFile(
  path: string,
  env: Readonly<Record<string, string | undefined>>,
  stack: readonly string[],
): PipelineData {
  if (stack.includes(path)) {
    throw new PipelineDefinitionError(
      `pipeline imports form a cycle: ${[...stack, path].join(' -> ')}. Remove one of the imports.`,
      path,
    );
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new PipelineDefinitionError(
      `cannot read the pipeline (${code}).${stack.length > 0 ? ` Imported from ${stack[stack.length - 1]}.` : ''} Check the path.`,
      path,
      { cause: err },
    );
  }
  return buildPipeline(parseYamlText(text, path), path, dirname(path), env, [...stack, path]);
}

function fail(source: string, message: string): never {
  throw new PipelineDefinitionError(message, source);
}

function stringList(value: unknown, what: string, source: string): string[] {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    fail(source, `${what} must be a list of strings.`);
  }
  return [...(value as string[])];
}

/** Expands `$VAR` and `${VAR}`; an undefined variable is an error. */
export function expandEnv(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  source: string,
): string {
  return text.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_m, a?: string, b?: string) => {
      const name = (a ?? b)!;
      const v = env[name];
      if (v === undefined) {
        fail(
          source,
          `environment variable '${name}' in '${text}' is not set. Set it, or write the path out.`,
        );
      }
      return v;
    },
  );
}

function buildPipeline(
  doc: unknown,
  source: string,
  baseDir: string,
  env: Readonly<Record<string, string | undefined>>,
  stack: readonly string[],
): PipelineData {
  if (!isPlainObject(doc))
    fail(source, 'a pipeline document must be a mapping (description, tasks, ...).');
  if ('inherits' in doc) fail(source, "'inherits' is not supported; use 'imports'.");
  if ('subset' in doc && !('subsets' in doc))
    fail(source, "unknown key 'subset'; the key is 'subsets' (with an s).");
  for (const k of Object.keys(doc)) {
    if (!TOP_KEYS.includes(k))
      fail(source, `unknown key '${k}'.${didYouMean(k, TOP_KEYS)} Keys: ${TOP_KEYS.join(', ')}.`);
  }
  if (typeof doc.description !== 'string') fail(source, "a pipeline needs a 'description' string.");
  if (doc.tasks === undefined && doc.imports === undefined)
    fail(source, "a pipeline needs 'tasks' or 'imports'.");

  let instrument: string | null = null;
  if (doc.instrument !== undefined && doc.instrument !== null) {
    if (typeof doc.instrument !== 'string') fail(source, "'instrument' must be a class string.");
    instrument = doc.instrument;
  }

  const parameters: Record<string, unknown> = {};
  if (doc.parameters !== undefined && doc.parameters !== null) {
    if (!isPlainObject(doc.parameters))
      fail(source, "'parameters' must be a mapping of names to values.");
    for (const [k, v] of Object.entries(doc.parameters)) {
      if (!LABEL.test(k)) fail(source, `parameter name '${k}' is not an identifier.`);
      parameters[k] = v;
    }
  }

  const tasks = new Map<string, PipelineTaskDef>();
  if (doc.tasks !== undefined && doc.tasks !== null) {
    if (!isPlainObject(doc.tasks)) fail(source, "'tasks' must be a mapping of labels to classes.");
    for (const [label, def] of Object.entries(doc.tasks))
      tasks.set(label, parseTask(label, def, source, baseDir));
  }

  const subsets = new Map<string, PipelineSubset>();
  if (doc.subsets !== undefined && doc.subsets !== null) {
    if (!isPlainObject(doc.subsets))
      fail(source, "'subsets' must be a mapping of subset labels to task lists.");
    for (const [label, def] of Object.entries(doc.subsets)) {
      if (!LABEL.test(label)) fail(source, `subset label '${label}' is not an identifier.`);
      if (Array.isArray(def) || typeof def === 'string') {
        subsets.set(label, {
          label,
          tasks: stringList(def, `subset '${label}'`, source),
          description: null,
        });
      } else if (isPlainObject(def)) {
        for (const k of Object.keys(def)) {
          if (k !== 'subset' && k !== 'description') {
            fail(source, `subset '${label}': unknown key '${k}'. Use 'subset' and 'description'.`);
          }
        }
        if (def.subset === undefined)
          fail(source, `subset '${label}' needs a 'subset' list of task labels.`);
        if (def.description !== undefined && typeof def.description !== 'string') {
          fail(source, `subset '${label}': description must be a string.`);
        }
        subsets.set(label, {
          label,
          tasks: stringList(def.subset, `subset '${label}'`, source),
          description: typeof def.description === 'string' ? def.description : null,
        });
      } else fail(source, `subset '${label}' must be a list of labels or {subset, description}.`);
    }
  }

  const steps: PipelineStep[] = [];
  if (doc.steps !== undefined && doc.steps !== null) {
    if (!Array.isArray(doc.steps)) fail(source, "'steps' must be a list of {label, dimensions}.");
    for (const s of doc.steps) {
      if (!isPlainObject(s) || typeof s.label !== 'string')
        fail(source, 'each step must be {label, dimensions}.');
      for (const k of Object.keys(s)) {
        if (k !== 'label' && k !== 'dimensions')
          fail(source, `step '${s.label}': unknown key '${k}'.`);
      }
      const dims =
        typeof s.dimensions === 'string'
          ? s.dimensions.split(/[\s,]+/).filter((d) => d !== '')
          : stringList(s.dimensions ?? [], `step '${s.label}' dimensions`, source);
      if (steps.some((x) => x.label === s.label))
        fail(source, `step '${s.label}' is declared twice.`);
      steps.push({ label: s.label, dimensions: dims });
    }
  }

  const contracts: PipelineContract[] = [];
  if (doc.contracts !== undefined && doc.contracts !== null) {
    const list = Array.isArray(doc.contracts) ? doc.contracts : [doc.contracts];
    for (const c of list) {
      if (typeof c === 'string') contracts.push({ contract: c, msg: null });
      else if (isPlainObject(c) && typeof c.contract === 'string') {
        for (const k of Object.keys(c)) {
          if (k !== 'contract' && k !== 'msg')
            fail(source, `contract: unknown key '${k}'. Use 'contract' and 'msg'.`);
        }
        if (c.msg !== undefined && typeof c.msg !== 'string')
          fail(source, 'a contract msg must be a string.');
        contracts.push({ contract: c.contract, msg: typeof c.msg === 'string' ? c.msg : null });
      } else fail(source, 'each contract must be a string or {contract, msg}.');
    }
  }

  const own: PipelineData = {
    description: doc.description,
    instrument,
    parameters,
    tasks,
    subsets,
    steps,
    contracts,
    source,
  };
  const imports =
    doc.imports === undefined || doc.imports === null
      ? []
      : Array.isArray(doc.imports)
        ? doc.imports
        : [doc.imports];
  const imported = imports.map((spec) => loadImport(spec, source, baseDir, env, stack));
  const merged = merge(own, imported);
  verify(merged);
  return merged;
}

function parseTask(label: string, def: unknown, source: string, baseDir: string): PipelineTaskDef {
  if (!LABEL.test(label))
    fail(source, `task label '${label}' is not an identifier (contracts refer to labels by name).`);
  if (label === 'parameters') fail(source, "'parameters' is reserved and cannot be a task label.");
  const d = typeof def === 'string' ? { class: def } : def;
  if (!isPlainObject(d)) fail(source, `task '${label}' must be a class string or {class, config}.`);
  for (const k of Object.keys(d)) {
    if (k !== 'class' && k !== 'config')
      fail(source, `task '${label}': unknown key '${k}'.${didYouMean(k, ['class', 'config'])}`);
  }
  if (typeof d.class !== 'string' || d.class.trim() === '')
    fail(source, `task '${label}' needs a 'class' string.`);
  let taskClass = d.class.trim();
  if ((taskClass.startsWith('./') || taskClass.startsWith('../')) && taskClass.includes('#')) {
    // Relative module paths are relative to the pipeline file; store them absolute so the
    // expanded pipeline loads from anywhere.
    const hash = taskClass.lastIndexOf('#');
    taskClass = `${resolvePath(baseDir, taskClass.slice(0, hash))}${taskClass.slice(hash)}`;
  }
  const blocks: PipelineConfigBlock[] = [];
  if (d.config !== undefined && d.config !== null) {
    const list = Array.isArray(d.config) ? d.config : [d.config];
    for (const b of list) {
      if (!isPlainObject(b)) fail(source, `task '${label}': each config block must be a mapping.`);
      if ('python' in b) {
        fail(
          source,
          `task '${label}': 'python' config blocks are not supported (no code runs from pipelines). Write the overrides as key: value pairs or in a file.`,
        );
      }
      if ('dataId' in b) {
        fail(
          source,
          `task '${label}': per-dataId config blocks are not supported. Use separate labels for the data that needs other configs.`,
        );
      }
      const { file, ...values } = b;
      const files =
        file === undefined || file === null
          ? []
          : stringList(file, `task '${label}' config file`, source);
      blocks.push({
        files: files.map((f) => (isAbsolute(f) ? f : resolvePath(baseDir, f))),
        values,
        source,
      });
    }
  }
  return { label, taskClass, config: blocks };
}

function loadImport(
  spec: unknown,
  source: string,
  baseDir: string,
  env: Readonly<Record<string, string | undefined>>,
  stack: readonly string[],
): PipelineData {
  const s = typeof spec === 'string' ? { location: spec } : spec;
  if (!isPlainObject(s) || typeof s.location !== 'string') {
    fail(source, 'each import must be a location string or {location, include|exclude, ...}.');
  }
  for (const k of Object.keys(s)) {
    if (!IMPORT_KEYS.includes(k))
      fail(source, `import '${s.location}': unknown key '${k}'.${didYouMean(k, IMPORT_KEYS)}`);
  }
  if (s.include !== undefined && s.exclude !== undefined) {
    fail(source, `import '${s.location}': give include or exclude, not both.`);
  }
  const where = `import '${s.location}'`;
  const { path, fragment } = splitUri(expandEnv(s.location, env, source), baseDir);
  if (!existsSync(path))
    fail(source, `${where}: no file ${path} (relative locations are relative to ${baseDir}).`);
  let data = loadFile(path, env, stack);

  const mode = s.labeledSubsetModifyMode ?? 'DROP';
  if (mode !== 'DROP' && mode !== 'EDIT')
    fail(source, `${where}: labeledSubsetModifyMode must be DROP or EDIT.`);
  const specifiers = [
    ...(fragment === null ? [] : [fragment]),
    ...(s.labelSpecifiers === undefined
      ? []
      : stringList(s.labelSpecifiers, `${where} labelSpecifiers`, source)),
  ];
  if (specifiers.length > 0)
    data = restrict(data, expandSpecifiers(data, specifiers, source), mode);
  if (s.instrument !== undefined) {
    if (s.instrument !== null && typeof s.instrument !== 'string')
      fail(source, `${where}: instrument must be a string or None.`);
    data = {
      ...data,
      instrument: s.instrument === null || s.instrument === 'None' ? null : s.instrument,
    };
  }
  if (s.rename !== undefined) data = renameTasks(data, s.rename, where, source);
  if (s.include !== undefined) {
    data = restrict(
      data,
      expandSpecifiers(data, stringList(s.include, `${where} include`, source), source),
      mode,
    );
  } else if (s.exclude !== undefined) {
    const drop = expandSpecifiers(data, stringList(s.exclude, `${where} exclude`, source), source);
    data = restrict(data, new Set([...data.tasks.keys()].filter((l) => !drop.has(l))), mode);
  }
  if (s.importSteps === false) data = { ...data, steps: [] };
  if (s.importContracts === false) data = { ...data, contracts: [] };
  return data;
}

function renameTasks(
  data: PipelineData,
  rename: unknown,
  where: string,
  source: string,
): PipelineData {
  if (!isPlainObject(rename))
    fail(source, `${where}: rename must be a mapping old label -> new label.`);
  const map = new Map<string, string>();
  for (const [from, to] of Object.entries(rename)) {
    if (typeof to !== 'string' || !LABEL.test(to))
      fail(source, `${where}: rename of '${from}' must give an identifier.`);
    if (!data.tasks.has(from))
      fail(
        source,
        `${where}: cannot rename '${from}': no such task.${didYouMean(from, data.tasks.keys())}`,
      );
    if (data.tasks.has(to) && !(to in rename))
      fail(source, `${where}: cannot rename '${from}' to existing label '${to}'.`);
    map.set(from, to);
  }
  if (new Set(map.values()).size !== map.size)
    fail(source, `${where}: rename maps two labels to one.`);
  const tr = (l: string): string => map.get(l) ?? l;
  const tasks = new Map<string, PipelineTaskDef>();
  for (const t of data.tasks.values()) tasks.set(tr(t.label), { ...t, label: tr(t.label) });
  const subsets = new Map([...data.subsets].map(([k, s]) => [k, { ...s, tasks: s.tasks.map(tr) }]));
  const contracts = data.contracts.map((c) => ({
    ...c,
    contract: renameInContract(c.contract, map),
  }));
  return { ...data, tasks, subsets, contracts };
}

/** Renames root names in a contract (identifiers not preceded by '.'), leaving strings alone. */
function renameInContract(text: string, map: ReadonlyMap<string, string>): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"' || ch === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== ch) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (/[A-Za-z_]/.test(ch)) {
      let j = i + 1;
      while (j < text.length && /[A-Za-z0-9_]/.test(text[j]!)) j++;
      const word = text.slice(i, j);
      const prev = out.trimEnd().slice(-1);
      out += prev !== '.' && map.has(word) ? map.get(word)! : word;
      i = j;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

function expandSpecifiers(
  data: PipelineData,
  specifiers: string | readonly string[],
  source = data.source,
): Set<string> {
  const list = (typeof specifiers === 'string' ? [specifiers] : specifiers)
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const out = new Set<string>();
  for (const s of list) {
    if (s.includes('..')) {
      fail(source, `label ranges ('${s}') are not supported; list the labels or name a subset.`);
    }
    if (data.tasks.has(s)) out.add(s);
    else if (data.subsets.has(s)) for (const l of data.subsets.get(s)!.tasks) out.add(l);
    else {
      fail(
        source,
        `'${s}' is neither a task label nor a subset.${didYouMean(s, [...data.tasks.keys(), ...data.subsets.keys()])}`,
      );
    }
  }
  return out;
}

function restrict(
  data: PipelineData,
  labels: ReadonlySet<string>,
  mode: SubsetModifyMode,
): PipelineData {
  const tasks = new Map([...data.tasks].filter(([l]) => labels.has(l)));
  const removed = new Set([...data.tasks.keys()].filter((l) => !labels.has(l)));
  const subsets = new Map<string, PipelineSubset>();
  for (const [k, s] of data.subsets) {
    const kept = s.tasks.filter((l) => labels.has(l));
    if (kept.length === s.tasks.length) subsets.set(k, s);
    else if (mode === 'EDIT' && kept.length > 0) subsets.set(k, { ...s, tasks: kept });
  }
  let steps = data.steps.filter((s) => subsets.has(s.label));
  const covered = new Set(steps.flatMap((s) => subsets.get(s.label)!.tasks));
  // Steps that no longer cover every selected task describe another pipeline: drop them.
  if ([...tasks.keys()].some((l) => !covered.has(l))) steps = [];
  const contracts = data.contracts.filter((c) => {
    try {
      return ![...parseContract(c.contract).names].some((n) => removed.has(n));
    } catch {
      // A malformed contract stays, so toGraph reports it.
      return true;
    }
  });
  return { ...data, tasks, subsets, steps, contracts };
}

function merge(own: PipelineData, imported: readonly PipelineData[]): PipelineData {
  const source = own.source;
  let instrument: string | null = own.instrument;
  const tasks = new Map<string, PipelineTaskDef>();
  const subsets = new Map<string, PipelineSubset>();
  const parameters: Record<string, unknown> = {};
  const steps = new Map<string, PipelineStep>();
  const contracts: PipelineContract[] = [];
  const sameStep = (a: PipelineStep, b: PipelineStep): boolean =>
    a.dimensions.length === b.dimensions.length &&
    a.dimensions.every((d) => b.dimensions.includes(d));
  for (const imp of imported) {
    if (imp.instrument !== null) {
      if (instrument === null) instrument = imp.instrument;
      else if (instrument !== imp.instrument) {
        fail(
          source,
          `instrument '${instrument}' conflicts with '${imp.instrument}' from ${imp.source}. Override it in the import (instrument: ...).`,
        );
      }
    }
    for (const [l, t] of imp.tasks) {
      if (tasks.has(l))
        fail(
          source,
          `task label '${l}' comes from two imports (the second is ${imp.source}). Exclude or rename one.`,
        );
      tasks.set(l, t);
    }
    for (const [l, s] of imp.subsets) {
      if (subsets.has(l) || tasks.has(l) || own.tasks.has(l)) {
        fail(
          source,
          `subset '${l}' from ${imp.source} clashes with another subset or a task label.`,
        );
      }
      subsets.set(l, s);
    }
    Object.assign(parameters, imp.parameters);
    for (const s of imp.steps) {
      const prev = steps.get(s.label);
      if (prev !== undefined && !sameStep(prev, s))
        fail(source, `step '${s.label}' is declared differently by two imports.`);
      steps.set(s.label, s);
    }
    contracts.push(...imp.contracts);
  }
  for (const s of own.steps) {
    const prev = steps.get(s.label);
    if (prev !== undefined && !sameStep(prev, s)) {
      fail(
        source,
        `step '${s.label}' conflicts with the imported step of that name ([${prev.dimensions.join(', ')}] vs [${s.dimensions.join(', ')}]).`,
      );
    }
    steps.set(s.label, s);
  }
  for (const [l, s] of own.subsets) subsets.set(l, s);
  for (const [l, t] of own.tasks) {
    const prev = tasks.get(l);
    if (prev !== undefined && prev.taskClass === t.taskClass)
      tasks.set(l, { ...prev, config: [...prev.config, ...t.config] });
    else tasks.set(l, t);
  }
  Object.assign(parameters, own.parameters);
  contracts.push(...own.contracts);
  return {
    description: own.description,
    instrument,
    parameters,
    tasks,
    subsets,
    steps: [...steps.values()],
    contracts,
    source,
  };
}

function verify(data: PipelineData): void {
  for (const s of data.subsets.values()) {
    if (data.tasks.has(s.label))
      fail(data.source, `subset '${s.label}' has the same label as a task.`);
    for (const l of s.tasks) {
      if (!data.tasks.has(l)) {
        fail(
          data.source,
          `subset '${s.label}' names '${l}', which is not a task.${didYouMean(l, data.tasks.keys())}`,
        );
      }
    }
  }
  for (const s of data.steps) {
    if (!data.subsets.has(s.label)) {
      fail(
        data.source,
        `step '${s.label}' is not a subset.${didYouMean(s.label, data.subsets.keys())} Declare it under subsets.`,
      );
    }
  }
}
