import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DimensionUniverse } from '../../src/butler/dimensions/index.ts';
import {
  automaticConnections,
  type Connection,
  type ConnectionsDefinition,
  checkConnectionsDefinition,
  connectionConfigDefaults,
  datasetTypeOf,
  defineConnections,
  InvalidConnectionsError,
  initInput,
  initOutput,
  input,
  makeTask,
  output,
  PipelineTask,
  prerequisiteInput,
  resolveConfig,
  resolveConnections,
} from '../../src/pipe/index.ts';
import { AddNumbersTask, GatherSumsTask } from './test-tasks.ts';

const VISIT = ['instrument', 'visit'];

function resolve(
  def: ConnectionsDefinition,
  overrides: Record<string, unknown> = {},
  label = 'myTask',
) {
  const config = resolveConfig(z.object({ flag: z.boolean().default(true) }), def, [
    { kind: 'values', values: overrides, source: 'test' },
  ]);
  return resolveConnections(def, config, label);
}

function invalid(fn: () => unknown): InvalidConnectionsError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidConnectionsError) return err;
    throw err;
  }
  throw new Error('expected an InvalidConnectionsError');
}

describe('connection factories', () => {
  it('fill defaults as in pipe_base', () => {
    const i = input({
      name: 'calexp',
      storageClass: 'ExposureF',
      dimensions: ['instrument', 'visit', 'detector'],
    });
    expect(i).toMatchObject({
      kind: 'input',
      multiple: false,
      deferLoad: false,
      minimum: 1,
      isCalibration: false,
    });
    const p = prerequisiteInput({
      name: 'flat',
      storageClass: 'ExposureF',
      dimensions: ['instrument'],
      optional: true,
    });
    expect(p).toMatchObject({ kind: 'prerequisiteInput', optional: true, minimum: 0 });
    const o = output({
      name: 'warp',
      storageClass: 'ExposureF',
      dimensions: VISIT,
      multiple: true,
    });
    expect(o).toMatchObject({ kind: 'output', multiple: true });
    expect(initOutput({ name: 'schema', storageClass: 'Schema' })).not.toHaveProperty('dimensions');
  });
});

describe('resolveConnections', () => {
  const def = defineConnections({
    dimensions: ['instrument', 'tract', 'patch', 'band'],
    defaultTemplates: { coaddName: 'deep', warpType: 'direct' },
    connections: {
      warps: input({
        name: '{coaddName}Coadd_{warpType}Warp',
        storageClass: 'ExposureF',
        dimensions: ['instrument', 'tract', 'patch', 'band', 'visit'],
        multiple: true,
        deferLoad: true,
      }),
      skyMap: prerequisiteInput({ name: 'skyMap', storageClass: 'SkyMap', dimensions: ['skymap'] }),
      coadd: output({
        name: '{coaddName}Coadd',
        storageClass: 'ExposureF',
        dimensions: ['tract', 'patch', 'band'],
      }),
      nImage: output({
        name: '{coaddName}Coadd_nImage',
        storageClass: 'ImageU',
        dimensions: ['tract', 'patch', 'band'],
      }),
    },
    adjust(config, c) {
      if (config.flag === false) c.drop('nImage');
    },
  });

  it('fills templates from defaultTemplates', () => {
    const r = resolve(def);
    expect(r.inputs.get('warps')!.name).toBe('deepCoadd_directWarp');
    expect(r.outputs.get('coadd')!.name).toBe('deepCoadd');
    expect(r.outputs.get('nImage')!.name).toBe('deepCoadd_nImage');
    expect(r.prerequisiteInputs.get('skyMap')!.name).toBe('skyMap');
    expect(r.inputs.get('warps')!.field).toBe('warps');
  });

  it('takes templates and names from config.connections', () => {
    const r = resolve(def, {
      'connections.coaddName': 'goodSeeing',
      'connections.nImage': 'coverage_{warpType}',
    });
    expect(r.outputs.get('coadd')!.name).toBe('goodSeeingCoadd');
    expect(r.inputs.get('warps')!.name).toBe('goodSeeingCoadd_directWarp');
    // an overridden name is formatted with the templates too (as in pipe_base)
    expect(r.outputs.get('nImage')!.name).toBe('coverage_direct');
  });

  it('runs the adjust hook with the config', () => {
    expect(resolve(def).outputs.has('nImage')).toBe(true);
    expect(resolve(def, { flag: false }).outputs.has('nImage')).toBe(false);
  });

  it('lists config defaults for every field and template', () => {
    expect(connectionConfigDefaults(def)).toEqual({
      warps: '{coaddName}Coadd_{warpType}Warp',
      skyMap: 'skyMap',
      coadd: '{coaddName}Coadd',
      nImage: '{coaddName}Coadd_nImage',
      coaddName: 'deep',
      warpType: 'direct',
    });
  });

  it('makes dataset types', () => {
    const r = resolve(def);
    expect(datasetTypeOf(r.outputs.get('coadd')!)).toEqual({
      name: 'deepCoadd',
      dimensions: ['tract', 'patch', 'band'],
      storageClass: 'ExposureF',
    });
  });
});

describe('connection validation (errors name the task label and connection)', () => {
  const mk = (
    connections: Record<string, Connection>,
    extra: Partial<{ dimensions: string[]; defaultTemplates: Record<string, string> }> = {},
  ) =>
    defineConnections({
      dimensions: extra.dimensions ?? VISIT,
      connections,
      ...(extra.defaultTemplates ? { defaultTemplates: extra.defaultTemplates } : {}),
    });

  it('refuses an output with dimensions outside the task dimensions', () => {
    const def = mk({
      out: output({
        name: 'x',
        storageClass: 'n',
        dimensions: ['instrument', 'visit', 'detector'],
      }),
    });
    const e = invalid(() => resolve(def, {}, 'calibrate'));
    expect(e.code).toBe('PIPE_INVALID_CONNECTIONS');
    expect(e.task).toBe('calibrate');
    expect(e.connection).toBe('out');
    expect(e.message).toContain("connection 'calibrate.out'");
    expect(e.message).toContain('[detector]');
  });

  it('accepts an output with fewer dimensions than the task', () => {
    const def = mk({ out: output({ name: 'x', storageClass: 'n', dimensions: ['instrument'] }) });
    expect(resolve(def).outputs.get('out')!.dimensions).toEqual(['instrument']);
  });

  it('refuses a non-multiple input with dimensions outside the task, accepts it when multiple', () => {
    const bad = mk({
      inp: input({
        name: 'calexp',
        storageClass: 'n',
        dimensions: ['instrument', 'visit', 'detector'],
      }),
    });
    const e = invalid(() => resolve(bad, {}, 'makeWarp'));
    expect(e.connection).toBe('inp');
    expect(e.message).toContain('multiple');
    const good = mk({
      inp: input({
        name: 'calexp',
        storageClass: 'n',
        dimensions: ['instrument', 'visit', 'detector'],
        multiple: true,
      }),
    });
    expect(resolve(good).inputs.get('inp')!.multiple).toBe(true);
  });

  it('exempts prerequisites from the input dimension rule', () => {
    const def = mk({
      flat: prerequisiteInput({
        name: 'flat',
        storageClass: 'n',
        dimensions: ['instrument', 'physical_filter'],
      }),
    });
    expect(resolve(def).prerequisiteInputs.get('flat')!.name).toBe('flat');
  });

  it('uses dimension closures when given a universe', () => {
    const universe = DimensionUniverse.load();
    // visit implies physical_filter (which implies band), so a visit task may write per-band outputs
    const def = mk({
      out: output({ name: 'x', storageClass: 'n', dimensions: ['instrument', 'visit', 'band'] }),
    });
    const config = resolveConfig(z.object({}), def);
    expect(() => resolveConnections(def, config, 't')).toThrow(InvalidConnectionsError);
    const r = resolveConnections(def, config, 't', { universe });
    expect(r.outputs.get('out')!.dimensions).toEqual(['instrument', 'visit', 'band']);
  });

  it('refuses dimensions given as a string, naming the fix', () => {
    const def = mk({
      x: {
        ...input({ name: 'x', storageClass: 'n', dimensions: [] }),
        dimensions: 'instrument, visit' as never,
      },
    });
    const e = invalid(() => resolve(def, {}, 'lbl'));
    expect(e.message).toContain("got the string 'instrument, visit'");
    expect(e.message).toContain("['instrument', 'visit']");
    const t = invalid(() =>
      checkConnectionsDefinition({ ...mk({}), dimensions: 'visit' as never }, 'T'),
    );
    expect(t.connection).toBeNull();
  });

  it('refuses repeated dimensions', () => {
    const def = mk({ x: input({ name: 'x', storageClass: 'n', dimensions: ['visit', 'visit'] }) });
    expect(invalid(() => resolve(def)).message).toContain("'visit' appears twice");
  });

  it('checks minimum against multiple, and minimum=0 on regular inputs', () => {
    const a = mk({ x: input({ name: 'x', storageClass: 'n', dimensions: VISIT, minimum: 2 }) });
    expect(invalid(() => resolve(a)).message).toContain('minimum=2 needs multiple=true');
    const b = mk({ x: input({ name: 'x', storageClass: 'n', dimensions: VISIT, minimum: 0 }) });
    expect(invalid(() => resolve(b)).message).toContain('prerequisiteInput({ optional: true })');
    const c = mk({
      x: input({ name: 'x', storageClass: 'n', dimensions: VISIT, minimum: 1.5, multiple: true }),
    });
    expect(invalid(() => resolve(c)).message).toContain('minimum=1.5');
  });

  it('requires defaults for templates and keeps templates apart from field names', () => {
    const a = mk({ x: output({ name: '{missing}Coadd', storageClass: 'n', dimensions: VISIT }) });
    const ea = invalid(() => resolve(a, {}, 'coadd'));
    expect(ea.connection).toBe('x');
    expect(ea.message).toContain("'{missing}'");
    const b = mk(
      { x: output({ name: '{x}Coadd', storageClass: 'n', dimensions: VISIT }) },
      { defaultTemplates: { x: 'deep' } },
    );
    expect(invalid(() => checkConnectionsDefinition(b, 'T')).message).toContain(
      'same name as a connection',
    );
  });

  it('reserves field names starting with _', () => {
    const def = mk({ _metadata: output({ name: 'x', storageClass: 'n', dimensions: VISIT }) });
    expect(invalid(() => resolve(def)).message).toContain('reserved');
  });

  it('refuses invalid dataset type names after templating', () => {
    const def = mk({ x: output({ name: 'has space', storageClass: 'n', dimensions: VISIT }) });
    expect(invalid(() => resolve(def)).message).toContain(
      "'has space' is not a valid dataset type name",
    );
    const ok = mk({ x: output({ name: 'x', storageClass: 'n', dimensions: VISIT }) });
    expect(invalid(() => resolve(ok, { 'connections.x': 'bad-name' })).message).toContain(
      "'bad-name'",
    );
  });

  it('refuses a task that reads what it writes, or writes one name twice', () => {
    const a = mk({
      i: input({ name: 'same', storageClass: 'n', dimensions: VISIT }),
      o: output({ name: 'same', storageClass: 'n', dimensions: VISIT }),
    });
    expect(invalid(() => resolve(a)).message).toContain("both read (connection 'i') and written");
    const b = mk({
      o1: output({ name: 'same', storageClass: 'n', dimensions: VISIT }),
      o2: output({ name: 'other', storageClass: 'n', dimensions: VISIT }),
    });
    expect(invalid(() => resolve(b, { 'connections.o2': 'same' })).message).toContain(
      "('o1' and 'o2')",
    );
  });

  it('refuses dimensions on init connections', () => {
    const def = mk({
      s: { ...initInput({ name: 's', storageClass: 'Schema' }), dimensions: ['visit'] } as never,
    });
    expect(invalid(() => resolve(def)).message).toContain('init connections have no dimensions');
  });

  it('reports adjust hooks that drop unknown connections', () => {
    const def = defineConnections({
      dimensions: VISIT,
      connections: { x: output({ name: 'x', storageClass: 'n', dimensions: VISIT }) },
      adjust(_config, c) {
        c.drop('y');
      },
    });
    expect(invalid(() => resolve(def)).connection).toBe('y');
  });
});

describe('automatic connections', () => {
  it('gives <label>_config, _metadata and _log', () => {
    const a = automaticConnections('assembleCoadd', ['tract', 'patch', 'band']);
    expect(a.config).toMatchObject({
      kind: 'initOutput',
      name: 'assembleCoadd_config',
      storageClass: 'Config',
      field: '_config',
    });
    expect(a.metadata).toMatchObject({
      kind: 'output',
      name: 'assembleCoadd_metadata',
      storageClass: 'TaskMetadata',
      dimensions: ['tract', 'patch', 'band'],
    });
    expect(a.log).toMatchObject({
      kind: 'output',
      name: 'assembleCoadd_log',
      storageClass: 'ButlerLogRecords',
    });
  });
});

describe('tasks resolve their connections at construction', () => {
  it('uses the label in errors and config overrides in names', () => {
    const t = makeTask(AddNumbersTask, {
      label: 'add',
      overrides: [{ kind: 'assign', key: 'connections.prefix', value: 'exposure', source: 't' }],
    });
    expect(t.connections.outputs.get('sum')!.name).toBe('exposureSum');
    const g = makeTask(GatherSumsTask, {
      overrides: [{ kind: 'assign', key: 'doCount', value: false, source: 't' }],
    });
    expect([...g.connections.outputs.keys()]).toEqual(['total']);
    expect(g.label).toBe('gatherSums');
  });

  it('refuses a class missing statics', () => {
    class Incomplete extends PipelineTask {
      async run(): Promise<Record<string, unknown>> {
        return {};
      }
    }
    expect(() => new Incomplete({ config: { connections: {} } })).toThrow(
      /not a complete PipelineTask class/,
    );
  });
});
