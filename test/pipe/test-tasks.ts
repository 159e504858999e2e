/**
 * Small, pure PipelineTasks for the pipe tests (real tasks: they compute their outputs from
 * their inputs), registered under `gpu_drp.test.*` names when this module loads.
 */

import { z } from 'zod';
import {
  type DeferredDatasetHandle,
  defineConnections,
  initInput,
  initOutput,
  input,
  NoWorkFound,
  output,
  PipelineTask,
  prerequisiteInput,
  registerTask,
  UnprocessableDataError,
} from '../../src/pipe/index.ts';

const AddConfig = z.object({
  scale: z.number().default(1),
  offset: z.number().default(0),
  label: z.string().default('sum'),
});

/** Per visit: sum = (a + b) * scale + offset. */
export class AddNumbersTask extends PipelineTask<
  z.output<typeof AddConfig>,
  { a: number; b: number },
  { sum: number }
> {
  static _DefaultName = 'addNumbers';
  static ConfigSchema = AddConfig;
  static connections = defineConnections({
    dimensions: ['instrument', 'visit'],
    defaultTemplates: { prefix: 'visit' },
    connections: {
      a: input({ name: 'numberA', storageClass: 'number', dimensions: ['instrument', 'visit'] }),
      b: input({ name: 'numberB', storageClass: 'number', dimensions: ['instrument', 'visit'] }),
      sum: output({
        name: '{prefix}Sum',
        storageClass: 'number',
        dimensions: ['instrument', 'visit'],
      }),
    },
  });

  async run(inputs: { a: number; b: number }): Promise<{ sum: number }> {
    return { sum: (inputs.a + inputs.b) * this.config.scale + this.config.offset };
  }
}

const GatherConfig = z.object({
  statistic: z.enum(['SUM', 'MEAN', 'MAX']).default('SUM'),
  doCount: z.boolean().default(true),
  weights: z.record(z.string(), z.number()).default({}),
  clip: z
    .object({
      nSigma: z.number().positive().default(3),
      nIter: z.number().int().min(0).default(2),
    })
    .prefault({}),
});

/** Per instrument: gathers every visit's sum (`multiple`, at least 2) into one statistic. */
export class GatherSumsTask extends PipelineTask<
  z.output<typeof GatherConfig>,
  { sums: number[] },
  { total: number; count?: number }
> {
  static _DefaultName = 'gatherSums';
  static ConfigSchema = GatherConfig;
  static connections = defineConnections({
    dimensions: ['instrument'],
    connections: {
      sums: input({
        name: 'visitSum',
        storageClass: 'number',
        dimensions: ['instrument', 'visit'],
        multiple: true,
        minimum: 2,
      }),
      total: output({
        name: 'instrumentTotal',
        storageClass: 'number',
        dimensions: ['instrument'],
      }),
      count: output({
        name: 'instrumentCount',
        storageClass: 'number',
        dimensions: ['instrument'],
      }),
    },
    adjust(config, c) {
      if (config.doCount === false) c.drop('count');
    },
  });

  async run(inputs: { sums: number[] }): Promise<{ total: number; count?: number }> {
    const s = inputs.sums;
    let total: number;
    if (this.config.statistic === 'SUM') total = s.reduce((x, y) => x + y, 0);
    else if (this.config.statistic === 'MEAN') total = s.reduce((x, y) => x + y, 0) / s.length;
    else total = Math.max(...s);
    this.metadata.set('gather.nInputs', s.length);
    return this.config.doCount ? { total, count: s.length } : { total };
  }
}

const WindowConfig = z.object({
  start: z.number().int().default(0),
  stop: z.number().int().default(2),
});

/** Reads only a window of a long series through a deferred handle; mean of the window. */
export class WindowMeanTask extends PipelineTask<
  z.output<typeof WindowConfig>,
  { series: DeferredDatasetHandle<number[]> },
  { mean: number }
> {
  static _DefaultName = 'windowMean';
  static ConfigSchema = WindowConfig;
  static connections = defineConnections({
    dimensions: ['instrument', 'visit'],
    connections: {
      series: input({
        name: 'series',
        storageClass: 'NumberArray',
        dimensions: ['instrument', 'visit'],
        deferLoad: true,
      }),
      mean: output({
        name: 'windowMean',
        storageClass: 'number',
        dimensions: ['instrument', 'visit'],
      }),
    },
  });

  async run(inputs: { series: DeferredDatasetHandle<number[]> }): Promise<{ mean: number }> {
    const part = await inputs.series.get({
      parameters: { slice: [this.config.start, this.config.stop] },
    });
    if (part.length === 0) throw new UnprocessableDataError('the window holds no samples');
    return { mean: part.reduce((x, y) => x + y, 0) / part.length };
  }
}

/** Multiplies a raw value by an optional gain (prerequisite, default 1). */
export class CalibrateTask extends PipelineTask<
  Record<string, never>,
  { raw: number; gain: number | null },
  { calibrated: number }
> {
  static _DefaultName = 'calibrate';
  static ConfigSchema = z.object({});
  static connections = defineConnections({
    dimensions: ['instrument', 'visit'],
    connections: {
      raw: input({ name: 'raw', storageClass: 'number', dimensions: ['instrument', 'visit'] }),
      gain: prerequisiteInput({
        name: 'gain',
        storageClass: 'number',
        dimensions: ['instrument'],
        optional: true,
        isCalibration: true,
      }),
      calibrated: output({
        name: 'calibrated',
        storageClass: 'number',
        dimensions: ['instrument', 'visit'],
      }),
    },
  });

  async run(inputs: { raw: number; gain: number | null }): Promise<{ calibrated: number }> {
    if (!Number.isFinite(inputs.raw)) throw new NoWorkFound('raw value is not finite');
    return { calibrated: inputs.raw * (inputs.gain ?? 1) };
  }
}

/** Writes a schema init-output and copies a value; the schema is read by {@link SchemaReaderTask}. */
export class SchemaWriterTask extends PipelineTask<
  Record<string, never>,
  { value: number },
  { copy: number }
> {
  static _DefaultName = 'schemaWriter';
  static ConfigSchema = z.object({});
  static connections = defineConnections({
    dimensions: ['instrument', 'visit'],
    connections: {
      schema: initOutput({ name: 'copySchema', storageClass: 'Schema' }),
      value: input({
        name: 'calibrated',
        storageClass: 'number',
        dimensions: ['instrument', 'visit'],
      }),
      copy: output({ name: 'copied', storageClass: 'number', dimensions: ['instrument', 'visit'] }),
    },
  });

  override getInitOutputs(): Readonly<Record<string, unknown>> {
    return { schema: { fields: ['copy'] } };
  }

  async run(inputs: { value: number }): Promise<{ copy: number }> {
    return { copy: inputs.value };
  }
}

/** Reads the schema init-input at construction. */
export class SchemaReaderTask extends PipelineTask<
  Record<string, never>,
  { copy: number },
  { checked: number }
> {
  static _DefaultName = 'schemaReader';
  static ConfigSchema = z.object({});
  static connections = defineConnections({
    dimensions: ['instrument', 'visit'],
    connections: {
      schema: initInput({ name: 'copySchema', storageClass: 'Schema' }),
      copy: input({ name: 'copied', storageClass: 'number', dimensions: ['instrument', 'visit'] }),
      checked: output({
        name: 'checked',
        storageClass: 'number',
        dimensions: ['instrument', 'visit'],
      }),
    },
  });

  async run(inputs: { copy: number }): Promise<{ checked: number }> {
    const schema = this.initInputs.schema as { fields: string[] };
    return { checked: schema.fields.includes('copy') ? inputs.copy : Number.NaN };
  }
}

const ScaleConfig = z.object({ factor: z.number().default(10) });

/** x * factor; referred to by module path in pipelines (`test/pipe/test-tasks.ts#ScaleTask`). */
export class ScaleTask extends PipelineTask<
  z.output<typeof ScaleConfig>,
  { x: number },
  { y: number }
> {
  static _DefaultName = 'scale';
  static ConfigSchema = ScaleConfig;
  static connections = defineConnections({
    dimensions: ['instrument'],
    connections: {
      x: input({ name: 'instrumentTotal', storageClass: 'number', dimensions: ['instrument'] }),
      y: output({ name: 'scaledTotal', storageClass: 'number', dimensions: ['instrument'] }),
    },
  });

  async run(inputs: { x: number }): Promise<{ y: number }> {
    return { y: inputs.x * this.config.factor };
  }
}

registerTask('gpu_drp.test.AddNumbersTask', AddNumbersTask);
registerTask('gpu_drp.test.GatherSumsTask', GatherSumsTask);
registerTask('gpu_drp.test.WindowMeanTask', WindowMeanTask);
registerTask('gpu_drp.test.CalibrateTask', CalibrateTask);
registerTask('gpu_drp.test.SchemaWriterTask', SchemaWriterTask);
registerTask('gpu_drp.test.SchemaReaderTask', SchemaReaderTask);
