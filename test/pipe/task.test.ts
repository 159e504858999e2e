import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { DatasetRef } from '../../src/butler/refs.ts';
import {
  AnnotatedPartialOutputsError,
  ButlerLogRecords,
  classifyQuantumError,
  datasetTypeOf,
  defineConnections,
  InvalidQuantumError,
  input,
  makeTask,
  NoWorkFound,
  output,
  PipelineTask,
  type QuantumRefs,
  RepeatableQuantumError,
  TaskMetadata,
  TransientQuantumError,
  UnprocessableDataError,
} from '../../src/pipe/index.ts';
import { MemoryQuantumContext, MemoryStore, makeRef } from './memory-context.ts';
import {
  AddNumbersTask,
  CalibrateTask,
  GatherSumsTask,
  SchemaReaderTask,
  SchemaWriterTask,
  WindowMeanTask,
} from './test-tasks.ts';

/** Dataset type of a connection field of a constructed task. */
function dt(task: PipelineTask, field: string) {
  const c =
    task.connections.inputs.get(field) ??
    task.connections.prerequisiteInputs.get(field) ??
    task.connections.outputs.get(field);
  if (c === undefined) throw new Error(`no connection ${field}`);
  return datasetTypeOf(c);
}

async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the quantum to throw');
}

describe('default runQuantum', () => {
  it('reads inputs, runs and puts outputs, recording timings and counts', async () => {
    const task = makeTask(AddNumbersTask, {
      label: 'add',
      overrides: [{ kind: 'values', values: { scale: 3, offset: 1 }, source: 't' }],
    });
    const store = new MemoryStore();
    const dataId = { instrument: 'SimCam', visit: 7 };
    const a = store.add(dt(task, 'a'), dataId, 4);
    const b = store.add(dt(task, 'b'), dataId, 5);
    const sum = makeRef(dt(task, 'sum'), dataId);
    const ctx = new MemoryQuantumContext(store, dataId);
    const before = Date.now();
    await task.runQuantum(ctx, { a, b }, { sum });
    expect(store.values.get(sum.id)).toBe((4 + 5) * 3 + 1);
    expect(sum.datasetType.name).toBe('visitSum');

    const md = task.metadata.scope('quantum');
    expect(md.get('inputCount')).toBe(2);
    expect(md.get('deferredInputCount')).toBe(0);
    expect(md.get('outputCount')).toBe(1);
    const start = Date.parse(md.get('runQuantumStartUtc') as string);
    const end = Date.parse(md.get('runQuantumEndUtc') as string);
    expect(md.get('runQuantumStartUtc')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(start).toBeGreaterThanOrEqual(before - 1);
    expect(end).toBeGreaterThanOrEqual(start);
    expect(md.get('runQuantumEndMaxResidentSetSize') as number).toBeGreaterThan(10 * 1024 * 1024);
    expect(md.get('runQuantumEndCpuTime') as number).toBeGreaterThanOrEqual(
      md.get('runQuantumStartCpuTime') as number,
    );
    for (const phase of ['prep', 'run', 'put']) {
      expect(md.get(`${phase}WallTime`) as number).toBeGreaterThanOrEqual(0);
      expect(md.get(`${phase}WallTime`) as number).toBeLessThanOrEqual(
        md.get('runQuantumWallTime') as number,
      );
    }
    // the context's hooks saw each phase start and end, in order
    expect(ctx.phases.map((p) => `${p.phase}:${p.event}`)).toEqual([
      'prep:start',
      'prep:end',
      'run:start',
      'run:end',
      'put:start',
      'put:end',
    ]);
    expect(ctx.phases[0]!.value).toBe(md.get('prepStartUtc'));
    expect(ctx.phases[5]!.value).toBe(md.get('putWallTime'));
  });

  it('measures CPU time spent in run()', async () => {
    class SpinTask extends PipelineTask<
      { cpuMs: number },
      Record<string, never>,
      { done: number }
    > {
      static _DefaultName = 'spin';
      static ConfigSchema = z.object({ cpuMs: z.number().default(40) });
      static connections = defineConnections({
        dimensions: ['instrument'],
        connections: {
          done: output({ name: 'spun', storageClass: 'number', dimensions: ['instrument'] }),
        },
      });
      async run(): Promise<{ done: number }> {
        // Spin until this process has used cpuMs of CPU, so the expected CPU time is known.
        const t0 = process.cpuUsage();
        let x = 0;
        for (;;) {
          for (let i = 0; i < 10000; i++) x += Math.sqrt(i);
          const d = process.cpuUsage(t0);
          if ((d.user + d.system) / 1000 >= this.config.cpuMs) break;
        }
        return { done: x };
      }
    }
    const task = makeTask(SpinTask);
    const store = new MemoryStore();
    const done = makeRef(dt(task, 'done'), { instrument: 'SimCam' });
    await task.runQuantum(new MemoryQuantumContext(store, { instrument: 'SimCam' }), {}, { done });
    const md = task.metadata.scope('quantum');
    expect(md.get('runCpuTime') as number).toBeGreaterThanOrEqual(0.039);
    expect(md.get('runQuantumCpuTime') as number).toBeGreaterThanOrEqual(
      md.get('runCpuTime') as number,
    );
    expect(md.get('runWallTime') as number).toBeGreaterThan(0);
  });

  it('gathers multiple inputs into a list', async () => {
    const task = makeTask(GatherSumsTask, {
      overrides: [{ kind: 'assign', key: 'statistic', value: 'MEAN', source: 't' }],
    });
    const store = new MemoryStore();
    const sums = [3, 5, 10].map((v, i) =>
      store.add(dt(task, 'sums'), { instrument: 'SimCam', visit: i + 1 }, v),
    );
    const total = makeRef(dt(task, 'total'), { instrument: 'SimCam' });
    const count = makeRef(dt(task, 'count'), { instrument: 'SimCam' });
    await task.runQuantum(
      new MemoryQuantumContext(store, { instrument: 'SimCam' }),
      { sums },
      { total, count },
    );
    expect(store.values.get(total.id)).toBe(6);
    expect(store.values.get(count.id)).toBe(3);
    expect(task.metadata.get('gather.nInputs')).toBe(3);
  });

  it('raises NoWorkFound below a connection minimum, writing nothing', async () => {
    const task = makeTask(GatherSumsTask);
    const store = new MemoryStore();
    const one = store.add(dt(task, 'sums'), { instrument: 'SimCam', visit: 1 }, 3);
    const total = makeRef(dt(task, 'total'), { instrument: 'SimCam' });
    const err = await outcome(
      task.runQuantum(
        new MemoryQuantumContext(store, { instrument: 'SimCam' }),
        { sums: [one] },
        { total },
      ),
    );
    expect(err).toBeInstanceOf(NoWorkFound);
    expect((err as NoWorkFound).message).toContain('fewer than its minimum 2');
    expect(classifyQuantumError(err)).toEqual({
      outcome: 'no-work',
      retryable: false,
      code: 'PIPE_NO_WORK',
    });
    expect(store.values.has(total.id)).toBe(false);
    expect(store.reads).toEqual([]);
    // a regular input with no refs at all is no work too
    const add = makeTask(AddNumbersTask);
    const a = store.add(dt(add, 'a'), { instrument: 'SimCam', visit: 1 }, 1);
    const e2 = await outcome(
      add.runQuantum(
        new MemoryQuantumContext(store, { instrument: 'SimCam', visit: 1 }),
        { a },
        {},
      ),
    );
    expect(e2).toBeInstanceOf(NoWorkFound);
  });

  it('hands deferLoad inputs over as handles that read on demand with parameters', async () => {
    const task = makeTask(WindowMeanTask, {
      overrides: [{ kind: 'values', values: { start: 2, stop: 5 }, source: 't' }],
    });
    const store = new MemoryStore();
    const dataId = { instrument: 'SimCam', visit: 1 };
    const series = store.add(dt(task, 'series'), dataId, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const mean = makeRef(dt(task, 'mean'), dataId);
    await task.runQuantum(new MemoryQuantumContext(store, dataId), { series }, { mean });
    expect(store.values.get(mean.id)).toBe(4); // mean of [3, 4, 5]
    expect(store.reads).toEqual([series.id]);
    expect(task.metadata.get('quantum.inputCount')).toBe(0);
    expect(task.metadata.get('quantum.deferredInputCount')).toBe(1);
  });

  it('passes UnprocessableDataError through as a no-work outcome', async () => {
    const task = makeTask(WindowMeanTask, {
      overrides: [{ kind: 'values', values: { start: 20, stop: 30 }, source: 't' }],
    });
    const store = new MemoryStore();
    const dataId = { instrument: 'SimCam', visit: 1 };
    const series = store.add(dt(task, 'series'), dataId, [1, 2, 3]);
    const mean = makeRef(dt(task, 'mean'), dataId);
    const err = await outcome(
      task.runQuantum(new MemoryQuantumContext(store, dataId), { series }, { mean }),
    );
    expect(err).toBeInstanceOf(UnprocessableDataError);
    expect(classifyQuantumError(err)).toEqual({
      outcome: 'no-work',
      retryable: false,
      code: 'PIPE_UNPROCESSABLE_DATA',
    });
    expect(task.metadata.get('quantum.runWallTime')).toBeTypeOf('number');
    expect(task.metadata.has('quantum.putStartUtc')).toBe(false);
  });

  it('gives null for a missing optional prerequisite and the value when present', async () => {
    const store = new MemoryStore();
    const dataId = { instrument: 'SimCam', visit: 2 };
    const t1 = makeTask(CalibrateTask);
    const raw = store.add(dt(t1, 'raw'), dataId, 21);
    const out1 = makeRef(dt(t1, 'calibrated'), dataId);
    await t1.runQuantum(new MemoryQuantumContext(store, dataId), { raw }, { calibrated: out1 });
    expect(store.values.get(out1.id)).toBe(21);
    const t2 = makeTask(CalibrateTask);
    const gain = store.add(dt(t2, 'gain'), { instrument: 'SimCam' }, 2);
    expect(gain.datasetType.isCalibration).toBe(true);
    const out2 = makeRef(dt(t2, 'calibrated'), dataId);
    await t2.runQuantum(
      new MemoryQuantumContext(store, dataId),
      { raw, gain },
      { calibrated: out2 },
    );
    expect(store.values.get(out2.id)).toBe(42);
  });

  it('refuses refs that do not fit the connections', async () => {
    const task = makeTask(AddNumbersTask);
    const store = new MemoryStore();
    const dataId = { instrument: 'SimCam', visit: 1 };
    const a1 = store.add(dt(task, 'a'), dataId, 1);
    const a2 = store.add(dt(task, 'a'), dataId, 2);
    const b = store.add(dt(task, 'b'), dataId, 3);
    const sum = makeRef(dt(task, 'sum'), dataId);
    const ctx = new MemoryQuantumContext(store, dataId);
    const two = await outcome(task.runQuantum(ctx, { a: [a1, a2], b }, { sum }));
    expect(two).toBeInstanceOf(InvalidQuantumError);
    expect((two as Error).message).toContain("2 datasets for non-multiple connection 'a'");
    const unknown = await outcome(task.runQuantum(ctx, { a: a1, b, c: b }, { sum }));
    expect((unknown as Error).message).toContain("input refs name 'c'");
    const wrongType = await outcome(task.runQuantum(ctx, { a: b, b }, { sum }));
    expect((wrongType as Error).message).toContain(
      "expects dataset type 'numberA' but got a ref to 'numberB'",
    );
    const wrongOut = await outcome(task.runQuantum(ctx, { a: a1, b }, { total: sum }));
    expect((wrongOut as Error).message).toContain("output refs name 'total'");
    expect(classifyQuantumError(two)).toEqual({
      outcome: 'failure',
      retryable: false,
      code: 'PIPE_INVALID_QUANTUM',
    });
    // automatic connections (_metadata, _log) in the refs are left to the executor
    await task.runQuantum(ctx, { a: a1, b }, { sum, _log: makeRef(dt(task, 'sum'), dataId) });
    expect(store.values.get(sum.id)).toBe(4);
  });

  it('refuses missing and wrongly sized outputs', async () => {
    class ForgetfulTask extends PipelineTask<
      { n: number },
      Record<string, never>,
      Record<string, unknown>
    > {
      static _DefaultName = 'forgetful';
      static ConfigSchema = z.object({ n: z.number().default(0) });
      static connections = defineConnections({
        dimensions: ['instrument'],
        connections: {
          one: output({ name: 'one', storageClass: 'number', dimensions: ['instrument'] }),
          many: output({
            name: 'many',
            storageClass: 'number',
            dimensions: ['instrument'],
            multiple: true,
          }),
        },
      });
      async run(): Promise<Record<string, unknown>> {
        return this.config.n === 0 ? { many: [] } : { one: 1, many: [1, 2, 3] };
      }
    }
    const store = new MemoryStore();
    const ctx = new MemoryQuantumContext(store, { instrument: 'SimCam' });
    const t0 = makeTask(ForgetfulTask);
    const one = makeRef(dt(t0, 'one'), { instrument: 'SimCam' });
    const many = [
      makeRef(dt(t0, 'many'), { instrument: 'SimCam' }),
      makeRef(dt(t0, 'many'), { instrument: 'SimCam' }),
    ];
    const missing = await outcome(t0.runQuantum(ctx, {}, { one }));
    expect((missing as Error).message).toContain("run() returned no 'one' output");
    const t1 = makeTask(ForgetfulTask, {
      overrides: [{ kind: 'assign', key: 'n', value: 1, source: 't' }],
    });
    const sized = await outcome(t1.runQuantum(ctx, {}, { one, many }));
    expect((sized as Error).message).toContain(
      'must return an array of that length (got length 3)',
    );
  });

  it('needs its init-inputs and gives its init-outputs', async () => {
    const writer = makeTask(SchemaWriterTask);
    const schema = writer.getInitOutputs().schema;
    expect(schema).toEqual({ fields: ['copy'] });
    expect(() => makeTask(SchemaReaderTask)).toThrow(/init-input 'schema' was not given/);
    const reader = makeTask(SchemaReaderTask, { initInputs: { schema } });
    const store = new MemoryStore();
    const dataId = { instrument: 'SimCam', visit: 3 };
    const copy = store.add(dt(reader, 'copy'), dataId, 8);
    const checked = makeRef(dt(reader, 'checked'), dataId);
    await reader.runQuantum(new MemoryQuantumContext(store, dataId), { copy }, { checked });
    expect(store.values.get(checked.id)).toBe(8);
  });

  it('starts fresh metadata on request', async () => {
    const task = makeTask(AddNumbersTask);
    task.metadata.set('x', 1);
    task.resetMetadata();
    expect(task.metadata.names()).toEqual([]);
  });
});

describe('a task that writes partial outputs', () => {
  class PartialTask extends PipelineTask<
    Record<string, never>,
    { x: number },
    { image: { metadata: TaskMetadata } }
  > {
    static _DefaultName = 'partial';
    static ConfigSchema = z.object({});
    static connections = defineConnections({
      dimensions: ['instrument'],
      connections: {
        x: input({ name: 'x', storageClass: 'number', dimensions: ['instrument'] }),
        image: output({ name: 'partialImage', storageClass: 'Image', dimensions: ['instrument'] }),
      },
    });
    async run(): Promise<{ image: { metadata: TaskMetadata } }> {
      throw new Error('unused: runQuantum is overridden');
    }
    override async runQuantum(
      ctx: MemoryQuantumContext,
      inputRefs: QuantumRefs,
      outputRefs: QuantumRefs,
    ): Promise<void> {
      const image = { metadata: new TaskMetadata() };
      try {
        await ctx.get(inputRefs.x as DatasetRef);
        throw new RepeatableQuantumError('PSF fit did not converge', {
          metadata: { nStars: 3, minStars: 5 },
        });
      } catch (err) {
        const annotated = AnnotatedPartialOutputsError.annotate(err, this, image);
        await ctx.put(image, outputRefs.image as DatasetRef);
        throw annotated;
      }
    }
  }

  it('annotates the task and outputs, keeps the cause, and classifies as partial', async () => {
    const task = makeTask(PartialTask);
    const store = new MemoryStore();
    const dataId = { instrument: 'SimCam' };
    const x = store.add(dt(task, 'x'), dataId, 1);
    const image = makeRef(dt(task, 'image'), dataId);
    const err = await outcome(
      task.runQuantum(new MemoryQuantumContext(store, dataId), { x }, { image }),
    );
    expect(err).toBeInstanceOf(AnnotatedPartialOutputsError);
    const e = err as AnnotatedPartialOutputsError;
    expect(e.cause).toBeInstanceOf(RepeatableQuantumError);
    expect(e.failure).toEqual({
      type: 'RepeatableQuantumError',
      message: 'PSF fit did not converge',
      metadata: { nStars: 3, minStars: 5 },
    });
    expect(classifyQuantumError(e)).toEqual({
      outcome: 'partial',
      retryable: false,
      code: 'PIPE_PARTIAL_OUTPUTS',
    });
    expect(task.metadata.toDict().failure).toEqual(e.failure);
    const written = store.values.get(image.id) as { metadata: TaskMetadata };
    expect(written.metadata.get('failure.message')).toBe('PSF fit did not converge');
    expect(written.metadata.get('failure.metadata.nStars')).toBe(3);
    // plain-record and Map holders get the annotation object itself
    const rec: { metadata: Record<string, unknown> } = { metadata: {} };
    const map = { metadata: new Map<string, unknown>() };
    AnnotatedPartialOutputsError.annotate(new Error('boom'), rec, map, null);
    expect(rec.metadata.failure).toEqual({ type: 'Error', message: 'boom' });
    expect(map.metadata.get('failure')).toEqual({ type: 'Error', message: 'boom' });
  });
});

describe('quantum outcome classification', () => {
  it('separates no-work, repeatable, transient and unknown failures', () => {
    expect(classifyQuantumError(new RepeatableQuantumError('fit failed'))).toEqual({
      outcome: 'failure',
      retryable: false,
      code: 'PIPE_REPEATABLE_FAILURE',
    });
    expect(new RepeatableQuantumError('x').exitCode).toBe(20);
    expect(classifyQuantumError(new TransientQuantumError('device lost'))).toEqual({
      outcome: 'failure',
      retryable: true,
      code: 'PIPE_TRANSIENT_FAILURE',
    });
    expect(classifyQuantumError(new Error('ECONNRESET'))).toEqual({
      outcome: 'failure',
      retryable: true,
      code: 'UNCLASSIFIED',
    });
    const nw = new NoWorkFound('nothing');
    expect(nw.isFailure).toBe(false);
    const ud = new UnprocessableDataError('bright star');
    expect(ud).toBeInstanceOf(NoWorkFound);
    expect(ud.isFailure).toBe(false);
    expect(new TransientQuantumError('x').isFailure).toBe(true);
  });
});

describe('TaskMetadata', () => {
  it('holds nested scopes addressed by dotted keys', () => {
    const md = new TaskMetadata();
    md.set('quantum.inputCount', 3);
    md.scope('backend').set('adapter', 'llvmpipe').set('isFallback', true);
    md.add('warps.visits', 12).add('warps.visits', 14);
    md.increment('counts.n').increment('counts.n', 4);
    expect(md.get('quantum.inputCount')).toBe(3);
    expect(md.scope('quantum').get('inputCount')).toBe(3);
    expect(md.get('backend.adapter')).toBe('llvmpipe');
    expect(md.get('warps.visits')).toEqual([12, 14]);
    expect(md.get('counts.n')).toBe(5);
    expect(md.get('nope.x')).toBeUndefined();
    expect(md.names()).toEqual(['quantum', 'backend', 'warps', 'counts']);
    const dict = md.toDict();
    expect(dict).toEqual({
      quantum: { inputCount: 3 },
      backend: { adapter: 'llvmpipe', isFallback: true },
      warps: { visits: [12, 14] },
      counts: { n: 5 },
    });
    const back = TaskMetadata.fromDict(JSON.parse(JSON.stringify(md)));
    expect(back.toDict()).toEqual(dict);
  });

  it('refuses bad keys and values', () => {
    const md = new TaskMetadata();
    expect(() => md.set('a..b', 1)).toThrow(/invalid/);
    expect(() => md.set('x', Number.NaN)).toThrow(/not a finite number/);
    expect(() => md.set('x', { a: 1 } as never)).toThrow(/not a finite number/);
    md.set('leaf', 1);
    expect(() => md.scope('leaf')).toThrow(/holds a value/);
    expect(() => md.increment('backend', 1)).not.toThrow();
    md.set('s', 'text');
    expect(() => md.increment('s')).toThrow(/non-number/);
  });
});

describe('ButlerLogRecords', () => {
  it('keeps records as JSON lines with level filtering and MDC', () => {
    const seen: string[] = [];
    const log = new ButlerLogRecords('gpu_drp.add', {
      level: 'INFO',
      mdc: { LABEL: 'add' },
      sink: (r) => seen.push(r.message),
    });
    log.debug('hidden');
    log.info('started', { visits: 3 });
    log.setMdc('RUN', 'u/me/run1');
    log.warn('careful');
    const lines = log.toJsonLines();
    expect(lines.endsWith('\n')).toBe(true);
    const back = ButlerLogRecords.parseJsonLines(lines);
    expect(back.map((r) => [r.levelname, r.levelno, r.message])).toEqual([
      ['INFO', 20, 'started'],
      ['WARNING', 30, 'careful'],
    ]);
    expect(back[0]!.extra).toEqual({ visits: 3 });
    expect(back[0]!.MDC).toEqual({ LABEL: 'add' });
    expect(back[1]!.MDC).toEqual({ LABEL: 'add', RUN: 'u/me/run1' });
    expect(back[0]!.asctime).toBe(new Date(back[0]!.created * 1000).toISOString());
    expect(back[0]!.process).toBe(process.pid);
    expect(seen).toEqual(['started', 'careful']);
  });
});
