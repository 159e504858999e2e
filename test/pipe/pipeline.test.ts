import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DimensionUniverse } from '../../src/butler/dimensions/index.ts';
import {
  ConfigError,
  ContractError,
  ContractExpressionError,
  DatasetTypeConflictError,
  defineConnections,
  InvalidConnectionsError,
  input,
  output,
  Pipeline,
  PipelineCycleError,
  PipelineDefinitionError,
  type PipelineGraph,
  PipelineTask,
  parseConfigFileOption,
  parseConfigOption,
  registerTask,
  TaskNotFoundError,
} from '../../src/pipe/index.ts';
import { ScaleTask } from './test-tasks.ts';

/** Writes a per-instrument gain (a calibration). */
class MakeGainTask extends PipelineTask<
  Record<string, never>,
  Record<string, never>,
  { gain: number }
> {
  static _DefaultName = 'makeGain';
  static ConfigSchema = z.object({});
  static connections = defineConnections({
    dimensions: ['instrument'],
    connections: {
      gain: output({
        name: 'gain',
        storageClass: 'number',
        dimensions: ['instrument'],
        isCalibration: true,
      }),
    },
  });
  async run(): Promise<{ gain: number }> {
    return { gain: 2 };
  }
}

/** Reads the gain as a regular input (the calibrate task reads it as a prerequisite). */
class UseGainTask extends PipelineTask<Record<string, never>, { gain: number }, { g: number }> {
  static _DefaultName = 'useGain';
  static ConfigSchema = z.object({});
  static connections = defineConnections({
    dimensions: ['instrument'],
    connections: {
      gain: input({
        name: 'gain',
        storageClass: 'number',
        dimensions: ['instrument'],
        isCalibration: true,
      }),
      g: output({ name: 'gainCopy', storageClass: 'number', dimensions: ['instrument'] }),
    },
  });
  async run(inputs: { gain: number }): Promise<{ g: number }> {
    return { g: inputs.gain };
  }
}

registerTask('gpu_drp.test.MakeGainTask', MakeGainTask);
registerTask('gpu_drp.test.UseGainTask', UseGainTask);

const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, 'pipelines');
const file = (name: string) => join(dir, name);
const testTasks = join(here, 'test-tasks.ts');

async function loaded(name: string): Promise<Pipeline> {
  const p = Pipeline.fromFile(file(name), { env: { PIPE_TEST_PIPELINES: dir } });
  await p.importTasks();
  return p;
}

function thrown<T extends Error>(cls: abstract new (...args: never[]) => T, fn: () => unknown): T {
  try {
    fn();
  } catch (err) {
    if (err instanceof cls) return err;
    throw err;
  }
  throw new Error(`expected a ${cls.name}`);
}

const names = (nodes: { name: string }[]) => nodes.map((n) => n.name).sort();

describe('loading pipeline YAML', () => {
  it('reads every section', () => {
    const p = Pipeline.fromFile(file('base.yaml'));
    expect(p.description).toBe('Sums per visit, gathered and scaled per instrument');
    expect(p.instrument).toBe('gpu_drp.instruments.SimCam');
    expect(p.parameters).toEqual({ scale: 2, statistic: 'SUM' });
    expect(p.labels()).toEqual(['add', 'gather', 'scale']);
    expect(p.tasks.get('gather')!.config.map((b) => b.values)).toEqual([
      { statistic: 'parameters.statistic' },
      { 'clip.nSigma': 2.5 },
    ]);
    // relative module paths are made absolute
    expect(p.tasks.get('scale')!.taskClass).toBe(`${testTasks}#ScaleTask`);
    expect(p.subsets.get('step2')).toEqual({
      label: 'step2',
      tasks: ['gather', 'scale'],
      description: 'per-instrument gathering',
    });
    expect(p.subsets.get('step1')).toEqual({ label: 'step1', tasks: ['add'], description: null });
    expect(p.steps).toEqual([
      { label: 'step1', dimensions: ['instrument', 'visit'] },
      { label: 'step2', dimensions: ['instrument'] },
    ]);
    expect(p.contracts).toEqual([
      { contract: 'add.scale > 0', msg: null },
      {
        contract: "gather.connections.sums == add.connections.prefix + 'Sum'",
        msg: 'gather must read what add writes',
      },
      { contract: 'scale.factor >= 1', msg: 'scale must not shrink the total' },
    ]);
  });

  it('needs module-path tasks imported before building the graph', async () => {
    const p = Pipeline.fromFile(file('base.yaml'));
    const e = thrown(TaskNotFoundError, () => p.toGraph());
    expect(e.message).toContain('importTasks');
    await p.importTasks();
    expect(p.taskClassOf('scale')).toBe(ScaleTask);
    expect(p.toGraph().order).toEqual(['add', 'gather', 'scale']);
  });

  it('merges imports: exclude, EDIT subsets, parameters, config blocks and contracts', async () => {
    const p = await loaded('child.yaml');
    expect(p.labels()).toEqual(['add', 'gather', 'calibrate']);
    expect(p.instrument).toBe('gpu_drp.instruments.SimCam');
    expect(p.parameters).toEqual({ scale: 3, statistic: 'SUM' });
    // same class: the child's config block is appended to the imported ones
    expect(p.tasks.get('add')!.config.map((b) => b.values)).toEqual([
      { scale: 'parameters.scale' },
      { offset: 10 },
    ]);
    expect(p.subsets.get('step2')!.tasks).toEqual(['gather']);
    expect(p.subsets.get('step1')!.tasks).toEqual(['add', 'calibrate']);
    expect(p.subsets.has('sums')).toBe(true);
    // the contract naming the excluded task is gone; the child's own comes last
    expect(p.contracts.map((c) => c.contract)).toEqual([
      'add.scale > 0',
      "gather.connections.sums == add.connections.prefix + 'Sum'",
      'add.offset >= 0',
    ]);
    const g = p.toGraph();
    expect(g.task('add').config).toMatchObject({ scale: 3, offset: 10 });
    expect(g.order).toEqual(['add', 'calibrate', 'gather']);
    expect(g.stepOf('calibrate')!.label).toBe('step1');
  });

  it('imports with include (a subset name) and without contracts', async () => {
    const p = await loaded('include.yaml');
    expect(p.labels()).toEqual(['add']);
    expect(p.contracts).toEqual([]);
    expect([...p.subsets.keys()]).toEqual(['step1']);
    expect(p.steps.map((s) => s.label)).toEqual(['step1']);
    expect(p.toGraph().task('add').config.scale).toBe(2);
  });

  it('expands environment variables and fragments in import locations', async () => {
    const p = await loaded('env.yaml');
    expect(p.labels()).toEqual(['add', 'gather', 'calibrate']);
    expect(p.instrument).toBeNull();
    // step2 lost 'scale', so it was dropped; step1 alone no longer covers the selection
    expect([...p.subsets.keys()]).toEqual(['step1', 'sums']);
    expect(p.steps).toEqual([]);
    const e = thrown(PipelineDefinitionError, () =>
      Pipeline.fromFile(file('env.yaml'), { env: {} }),
    );
    expect(e.message).toContain("environment variable 'PIPE_TEST_PIPELINES'");
    expect(e.file).toBe(file('env.yaml'));
  });

  it('selects tasks with a URI fragment of labels and subsets', async () => {
    const p = Pipeline.fromFile(`${file('base.yaml')}#step2`);
    expect(p.labels()).toEqual(['gather', 'scale']);
    expect([...p.subsets.keys()]).toEqual(['step2']);
    expect(p.steps.map((s) => s.label)).toEqual(['step2']);
    expect(p.contracts.map((c) => c.contract)).toEqual(['scale.factor >= 1']);
    const q = Pipeline.fromFile(`${file('base.yaml')}#add, scale`);
    expect(q.labels()).toEqual(['add', 'scale']);
    const e = thrown(PipelineDefinitionError, () =>
      Pipeline.fromFile(`${file('base.yaml')}#gathr`),
    );
    expect(e.message).toContain("Did you mean 'gather'?");
    const r = thrown(PipelineDefinitionError, () =>
      Pipeline.fromFile(`${file('base.yaml')}#add..scale`),
    );
    expect(r.message).toContain('label ranges');
    await q.importTasks();
    // 'gather' is gone, so the graph's overall inputs now include what it would have produced
    expect(names(q.toGraph().overallInputs())).toEqual(['instrumentTotal', 'numberA', 'numberB']);
  });

  it('applies config files from pipelines, relative to the pipeline file', async () => {
    const p = await loaded('file-config.yaml');
    expect(p.tasks.get('gather')!.config[0]!.files).toEqual([file('overrides/gather.yaml')]);
    const g = p.toGraph();
    expect(g.task('gather').config).toMatchObject({
      statistic: 'MAX',
      doCount: false,
      clip: { nSigma: 4, nIter: 4 },
    });
    expect(g.datasetTypes.has('instrumentCount')).toBe(false);
  });

  it('refuses cyclic imports', () => {
    const e = thrown(PipelineDefinitionError, () => Pipeline.fromFile(file('cycle-a.yaml')));
    expect(e.message).toContain('imports form a cycle');
    expect(e.message).toContain(
      `${file('cycle-a.yaml')} -> ${file('cycle-b.yaml')} -> ${file('cycle-a.yaml')}`,
    );
  });

  it('reports malformed documents with the file and a fix', () => {
    const y = (text: string) =>
      thrown(PipelineDefinitionError, () => Pipeline.fromYaml(text, { baseDir: dir }));
    expect(y('description: x\ntasks: {}\ncontract: []\n').message).toContain(
      "unknown key 'contract'. Did you mean 'contracts'?",
    );
    expect(y('tasks: {a: gpu_drp.test.AddNumbersTask}\n').message).toContain(
      "needs a 'description'",
    );
    expect(y('description: x\n').message).toContain("needs 'tasks' or 'imports'");
    expect(
      y('description: x\ntasks:\n  a: {class: X, config: {python: "config.x = 1"}}\n').message,
    ).toContain("'python' config blocks are not supported");
    expect(
      y('description: x\ntasks:\n  a: {class: X, config: {dataId: {visit: 1}, x: 1}}\n').message,
    ).toContain('per-dataId');
    expect(y('description: x\ntasks:\n  a: {klass: X}\n').message).toContain(
      "Did you mean 'class'?",
    );
    expect(y('description: x\ntasks:\n  a: X\nsubsets:\n  s: [a, b]\n').message).toContain(
      "subset 's' names 'b'",
    );
    expect(y('description: x\ntasks:\n  a: X\nsubsets:\n  a: [a]\n').message).toContain(
      'same label as a task',
    );
    expect(
      y('description: x\ntasks:\n  a: X\nsteps:\n  - {label: s1, dimensions: [visit]}\n').message,
    ).toContain("step 's1' is not a subset");
    expect(y('description: x\ntasks:\n  a: X\n  a: Y\n').message).toContain('invalid YAML');
    expect(y('description: x\ntasks:\n  parameters: X\n').message).toContain('reserved');
    expect(y('description: x\ntasks:\n  my-task: X\n').message).toContain('not an identifier');
    expect(
      y('description: x\nimports:\n  - {location: base.yaml, include: [add], exclude: [gather]}\n')
        .message,
    ).toContain('not both');
    expect(y('description: x\nimports:\n  - {location: nope.yaml}\n').message).toContain('no file');
    expect(
      y('description: x\nimports:\n  - {location: base.yaml, exlude: [add]}\n').message,
    ).toContain("Did you mean 'exclude'");
    expect(y('description: x\ninherits: base.yaml\n').message).toContain("use 'imports'");
    expect(y('description: x\ninstrument: other.Cam\nimports: [base.yaml]\n').message).toContain(
      "instrument 'other.Cam' conflicts",
    );
    expect(y('description: x\nimports: [base.yaml, include.yaml]\n').message).toContain(
      "task label 'add' comes from two imports",
    );
  });

  it('renames imported tasks, in subsets and contracts too', () => {
    const p = Pipeline.fromYaml(
      'description: renamed\nimports:\n  - location: base.yaml\n    rename: {add: addVisit}\n',
      { baseDir: dir },
    );
    expect(p.labels()).toEqual(['addVisit', 'gather', 'scale']);
    expect(p.subsets.get('sums')!.tasks).toEqual(['addVisit', 'gather']);
    expect(p.contracts[1]!.contract).toBe(
      "gather.connections.sums == addVisit.connections.prefix + 'Sum'",
    );
  });
});

describe('building the pipeline graph', () => {
  let graph: PipelineGraph;

  it('resolves configs with parameters and config blocks', async () => {
    graph = (await loaded('base.yaml')).toGraph();
    expect(graph.task('add').config.scale).toBe(2);
    expect(graph.task('gather').config).toMatchObject({
      statistic: 'SUM',
      clip: { nSigma: 2.5, nIter: 2 },
    });
    expect(graph.task('scale').taskClass).toBe(ScaleTask);
    expect(graph.task('scale').taskName).toBe(`${testTasks}#ScaleTask`);
    expect(graph.instrument).toBe('gpu_drp.instruments.SimCam');
  });

  it('lists dataset types with producers and consumers', () => {
    const visitSum = graph.datasetType('visitSum');
    expect(visitSum).toMatchObject({
      name: 'visitSum',
      storageClass: 'number',
      dimensions: ['instrument', 'visit'],
      isInit: false,
      isPrerequisite: false,
      producer: { label: 'add', field: 'sum', kind: 'output' },
    });
    expect(visitSum.consumers).toEqual([{ label: 'gather', field: 'sums', kind: 'input' }]);
    expect(graph.datasetType('add_config')).toMatchObject({
      storageClass: 'Config',
      isInit: true,
      dimensions: [],
    });
    expect(graph.datasetType('gather_metadata')).toMatchObject({
      storageClass: 'TaskMetadata',
      dimensions: ['instrument'],
    });
    expect(graph.datasetType('scale_log')).toMatchObject({
      storageClass: 'ButlerLogRecords',
      dimensions: ['instrument'],
    });
    expect(graph.producerOf('instrumentTotal')).toBe('gather');
    expect(graph.consumersOf('instrumentTotal')).toEqual(['scale']);
    expect(() => graph.datasetType('nope')).toThrow(PipelineDefinitionError);
  });

  it('gives the order, edges, overall inputs and outputs', () => {
    expect(graph.order).toEqual(['add', 'gather', 'scale']);
    expect(graph.edges).toEqual([
      { producer: 'add', consumer: 'gather', datasetType: 'visitSum' },
      { producer: 'gather', consumer: 'scale', datasetType: 'instrumentTotal' },
    ]);
    expect(names(graph.overallInputs())).toEqual(['numberA', 'numberB']);
    expect(names(graph.outputs())).toEqual([
      'add_config',
      'add_log',
      'add_metadata',
      'gather_config',
      'gather_log',
      'gather_metadata',
      'instrumentCount',
      'instrumentTotal',
      'scale_config',
      'scale_log',
      'scale_metadata',
      'scaledTotal',
      'visitSum',
    ]);
    expect(names(graph.terminalOutputs())).not.toContain('visitSum');
    expect(names(graph.terminalOutputs())).toContain('scaledTotal');
    expect(names(graph.initOutputs())).toEqual(['add_config', 'gather_config', 'scale_config']);
    expect(graph.initInputs()).toEqual([]);
    expect(graph.upstreamOf('scale')).toEqual(['gather']);
    expect(graph.downstreamOf('add')).toEqual(['gather']);
  });

  it('orders by dependencies, not declaration', async () => {
    const p = Pipeline.fromYaml(
      `description: reversed\ntasks:\n  scale: ${testTasks}#ScaleTask\n  gather: gpu_drp.test.GatherSumsTask\n  add: gpu_drp.test.AddNumbersTask\n`,
    );
    await p.importTasks();
    expect(p.toGraph().order).toEqual(['add', 'gather', 'scale']);
  });

  it('tracks init-inputs and init-outputs between tasks', () => {
    const g = Pipeline.fromYaml(
      'description: schemas\ntasks:\n  reader: gpu_drp.test.SchemaReaderTask\n  writer: gpu_drp.test.SchemaWriterTask\n  calibrate: gpu_drp.test.CalibrateTask\n',
    ).toGraph();
    expect(g.order).toEqual(['calibrate', 'writer', 'reader']);
    expect(g.datasetType('copySchema')).toMatchObject({
      isInit: true,
      producer: { label: 'writer', kind: 'initOutput' },
    });
    expect(names(g.overallInputs())).toEqual(['gain', 'raw']);
    expect(g.datasetType('gain')).toMatchObject({ isPrerequisite: true, isCalibration: true });
  });

  it('applies command-line overrides after the pipeline, in order', async () => {
    const p = await loaded('file-config.yaml');
    const cliFile = join(dir, 'overrides', 'gather.yaml'); // statistic MAX, clip.nSigma 4, clip.nIter 1
    const g = p.toGraph({
      overrides: [
        parseConfigOption('gather:clip.nIter=9'),
        parseConfigFileOption(`gather:${cliFile}`),
        parseConfigOption('add:offset=1'),
      ],
    });
    // pipeline block says nIter 4; -c says 9; the -C file given after it says 1
    expect(g.task('gather').config.clip).toEqual({ nSigma: 4, nIter: 1 });
    expect(g.task('add').config.offset).toBe(1);
    const h = p.toGraph({
      overrides: [
        parseConfigFileOption(`gather:${cliFile}`),
        parseConfigOption('gather:clip.nIter=9'),
      ],
    });
    expect(h.task('gather').config.clip).toEqual({ nSigma: 4, nIter: 9 });
  });

  it('overrides pipeline parameters from the command line', async () => {
    const p = await loaded('base.yaml');
    const g = p.toGraph({
      overrides: [
        parseConfigOption('parameters:scale=5'),
        parseConfigOption('parameters:statistic=MEAN'),
      ],
    });
    expect(g.task('add').config.scale).toBe(5);
    expect(g.task('gather').config.statistic).toBe('MEAN');
    expect(g.parameters).toEqual({ scale: 5, statistic: 'MEAN' });
    const e = thrown(ConfigError, () =>
      p.toGraph({ overrides: [parseConfigOption('parameters:scal=5')] }),
    );
    expect(e.message).toContain("Did you mean 'scale'?");
    const l = thrown(ConfigError, () =>
      p.toGraph({ overrides: [parseConfigOption('gathr:statistic=MAX')] }),
    );
    expect(l.message).toContain("unknown task label 'gathr'. Did you mean 'gather'?");
    const k = thrown(ConfigError, () =>
      p.toGraph({ overrides: [parseConfigOption('gather:statistics=MAX')] }),
    );
    expect(k.label).toBe('gather');
    expect(k.message).toContain("Did you mean 'statistic'?");
  });

  it('checks contracts', async () => {
    const p = await loaded('base.yaml');
    const e = thrown(ContractError, () =>
      p.toGraph({ overrides: [parseConfigOption('scale:factor=0.5')] }),
    );
    expect(e.msg).toBe('scale must not shrink the total');
    const f = thrown(ContractError, () =>
      p.toGraph({ overrides: [parseConfigOption('add:connections.prefix=exposure')] }),
    );
    expect(f.msg).toBe('gather must read what add writes');
    expect(() =>
      p.toGraph({ overrides: [parseConfigOption('scale:factor=0.5')], checkContracts: false }),
    ).not.toThrow();
    const bad = Pipeline.fromYaml(
      'description: x\ntasks:\n  add: gpu_drp.test.AddNumbersTask\ncontracts:\n  - add.scale =! 1\n',
    );
    expect(thrown(ContractExpressionError, () => bad.toGraph()).position).toBe(10);
  });

  it('reports parameters that are not defined', () => {
    const p = Pipeline.fromYaml(
      'description: x\nparameters: {scale: 1}\ntasks:\n  add:\n    class: gpu_drp.test.AddNumbersTask\n    config: {offset: parameters.ofset}\n',
    );
    expect(thrown(ConfigError, () => p.toGraph()).message).toContain("parameter 'ofset'");
  });

  it('finds cycles and names them', () => {
    const p = Pipeline.fromYaml(`description: cycle
tasks:
  add1: gpu_drp.test.AddNumbersTask
  add2:
    class: gpu_drp.test.AddNumbersTask
    config:
      connections.a: visitSum
      connections.sum: numberA
  gather: gpu_drp.test.GatherSumsTask
`);
    const e = thrown(PipelineCycleError, () => p.toGraph());
    expect(e.code).toBe('PIPE_CYCLE');
    expect(e.cycle).toEqual(['add1', 'add2', 'add1']);
    expect(e.message).toContain('add1 -(visitSum)-> add2 -(numberA)-> add1');
  });

  it('refuses a dataset type defined differently by two tasks', () => {
    const sc = Pipeline.fromYaml(`description: conflict
tasks:
  add: gpu_drp.test.AddNumbersTask
  window:
    class: gpu_drp.test.WindowMeanTask
    config: {connections.series: visitSum}
`);
    const e = thrown(DatasetTypeConflictError, () => sc.toGraph());
    expect(e.datasetType).toBe('visitSum');
    expect(e.tasks).toEqual(['add', 'window']);
    expect(e.message).toContain("storage classes differ: 'number' vs 'NumberArray'");
    const dims = Pipeline.fromYaml(`description: conflict
tasks:
  gather: gpu_drp.test.GatherSumsTask
  scale:
    class: ${testTasks}#ScaleTask
    config: {connections.x: visitSum}
`);
    return dims.importTasks().then(() => {
      const d = thrown(DatasetTypeConflictError, () => dims.toGraph());
      expect(d.message).toContain('dimensions differ: [instrument, visit] vs [instrument]');
      expect(d.tasks).toEqual(['gather', 'scale']);
    });
  });

  it('refuses two producers and produced prerequisites', () => {
    const two = Pipeline.fromYaml(`description: two
tasks:
  add1: gpu_drp.test.AddNumbersTask
  add2: gpu_drp.test.AddNumbersTask
`);
    const e = thrown(DatasetTypeConflictError, () => two.toGraph());
    expect(e.message).toContain('produced by two tasks');
    expect(e.tasks).toEqual(['add1', 'add2']);
    const produced = Pipeline.fromYaml(`description: prereq
tasks:
  makeGain: gpu_drp.test.MakeGainTask
  calibrate: gpu_drp.test.CalibrateTask
`);
    const p = thrown(DatasetTypeConflictError, () => produced.toGraph());
    expect(p.message).toContain('it is a prerequisite input but the pipeline produces it');
    expect(p.tasks).toEqual(['makeGain', 'calibrate']);
    const mixed = Pipeline.fromYaml(`description: prereq
tasks:
  calibrate: gpu_drp.test.CalibrateTask
  useGain: gpu_drp.test.UseGainTask
`);
    const m = thrown(DatasetTypeConflictError, () => mixed.toGraph());
    expect(m.message).toContain(
      'one task reads it as a prerequisite, the other as a regular input',
    );
    expect(m.tasks).toEqual(['calibrate', 'useGain']);
  });

  it('refuses an invalid connection override, naming the label', () => {
    const p = Pipeline.fromYaml(
      'description: x\ntasks:\n  add:\n    class: gpu_drp.test.AddNumbersTask\n    config: {connections.sum: numberA}\n',
    );
    const e = thrown(InvalidConnectionsError, () => p.toGraph());
    expect(e.task).toBe('add');
    expect(e.message).toContain("'numberA' is both read");
  });

  it('checks steps', async () => {
    const base = `description: steps
tasks:
  add: gpu_drp.test.AddNumbersTask
  gather: gpu_drp.test.GatherSumsTask
`;
    const order = Pipeline.fromYaml(
      `${base}subsets:\n  s1: [gather]\n  s2: [add]\nsteps:\n  - {label: s1, dimensions: [instrument]}\n  - {label: s2, dimensions: [instrument]}\n`,
    );
    expect(thrown(PipelineDefinitionError, () => order.toGraph()).message).toContain(
      "task 'add' in step 's2' produces 'visitSum', which task 'gather' in the earlier step 's1' consumes",
    );
    const dims = Pipeline.fromYaml(
      `${base}subsets:\n  s1: [add]\n  s2: [gather]\nsteps:\n  - {label: s1, dimensions: [instrument, visit]}\n  - {label: s2, dimensions: [instrument, visit]}\n`,
    );
    expect(thrown(PipelineDefinitionError, () => dims.toGraph()).message).toContain(
      "sharding dimensions [instrument, visit] of step 's2' are not within the dimensions [instrument] of its task 'gather'",
    );
    const twice = Pipeline.fromYaml(
      `${base}subsets:\n  s1: [add, gather]\n  s2: [gather]\nsteps:\n  - {label: s1, dimensions: [instrument]}\n  - {label: s2, dimensions: [instrument]}\n`,
    );
    expect(thrown(PipelineDefinitionError, () => twice.toGraph()).message).toContain(
      "task 'gather' is in steps 's1' and 's2'",
    );
    const missing = Pipeline.fromYaml(
      `${base}subsets:\n  s1: [add]\nsteps:\n  - {label: s1, dimensions: [instrument]}\n`,
    );
    expect(thrown(PipelineDefinitionError, () => missing.toGraph()).message).toContain(
      "no step contains task(s) 'gather'",
    );
    const ok = Pipeline.fromYaml(
      `${base}subsets:\n  s1: [add]\n  s2: [gather]\nsteps:\n  - {label: s1, dimensions: [instrument, visit]}\n  - {label: s2, dimensions: instrument}\n`,
    );
    expect(ok.toGraph().steps).toEqual([
      { label: 's1', dimensions: ['instrument', 'visit'] },
      { label: 's2', dimensions: ['instrument'] },
    ]);
  });

  it('compares dimensions through a universe when given one', async () => {
    const universe = DimensionUniverse.load();
    const p = Pipeline.fromYaml(
      'description: x\ntasks:\n  add: gpu_drp.test.AddNumbersTask\nsubsets:\n  s: [add]\nsteps:\n  - {label: s, dimensions: [band]}\n',
    );
    expect(() => p.toGraph()).toThrow(/sharding dimensions \[band\]/);
    // a visit implies its physical_filter and band
    expect(p.toGraph({ universe }).steps[0]!.dimensions).toEqual(['band']);
  });
});

describe('toYaml', () => {
  it('round-trips the expanded pipeline', async () => {
    for (const name of ['base.yaml', 'child.yaml', 'env.yaml', 'file-config.yaml']) {
      const p = await loaded(name);
      const text = p.toYaml();
      const q = Pipeline.fromYaml(text, { baseDir: '/' });
      expect(q.toObject()).toEqual(p.toObject());
      await q.importTasks();
      const gp = p.toGraph();
      const gq = q.toGraph();
      expect(gq.order).toEqual(gp.order);
      for (const label of gp.order) expect(gq.task(label).config).toEqual(gp.task(label).config);
      expect([...gq.datasetTypes.keys()]).toEqual([...gp.datasetTypes.keys()]);
    }
  });

  it('writes the expanded form', async () => {
    const p = await loaded('child.yaml');
    const doc = p.toObject() as { tasks: Record<string, unknown>; imports?: unknown };
    expect(doc.imports).toBeUndefined();
    expect(doc.tasks.add).toEqual({
      class: 'gpu_drp.test.AddNumbersTask',
      config: [{ scale: 'parameters.scale' }, { offset: 10 }],
    });
    expect(p.toYaml()).toContain(
      'description: Base without scaling, plus calibration; larger scale\n',
    );
  });
});
