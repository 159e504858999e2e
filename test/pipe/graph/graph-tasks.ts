/**
 * Small real tasks with the coadd pipeline's connection shapes, for the graph and executor
 * tests: `makeWarp` per (tract, patch, visit) gathering the visit's calexps that overlap the
 * patch, `assemble` per patch gathering warps (minimum configurable), `detect` per patch. They
 * compute their outputs from what they were given (data IDs of the inputs, counts), can sleep
 * (to be killed mid-quantum) and can fail on chosen visits (failure pruning).
 */

import { z } from 'zod';
import type { DataId } from '../../../src/butler/refs.ts';
import {
  type DeferredDatasetHandle,
  defineConnections,
  input,
  NoWorkFound,
  output,
  PipelineTask,
  RepeatableQuantumError,
} from '../../../src/pipe/index.ts';

const WarpConfig = z.object({
  sleepMs: z.number().int().min(0).default(0),
  failVisits: z.array(z.number().int()).default([]),
  noWorkVisits: z.array(z.number().int()).default([]),
});

/** A stand-in warp: which calexps (by detector) of the visit cover the patch. */
export interface TestWarp {
  readonly visit: number;
  readonly patch: number;
  readonly detectors: number[];
  readonly backend: string | null;
}

/** Per (tract, patch, visit): lists the detectors whose calexps the quantum got. */
export class TestWarpTask extends PipelineTask<
  z.output<typeof WarpConfig>,
  { calexps: DeferredDatasetHandle[] },
  { warp: TestWarp }
> {
  static _DefaultName = 'makeWarp';
  static ConfigSchema = WarpConfig;
  static connections = defineConnections({
    dimensions: ['instrument', 'visit', 'skymap', 'tract', 'patch'],
    connections: {
      calexps: input({
        name: 'calexp',
        storageClass: 'ExposureF',
        dimensions: ['instrument', 'visit', 'detector'],
        multiple: true,
        deferLoad: true,
      }),
      warp: output({
        name: 'testWarp',
        storageClass: 'StructuredDataDict',
        dimensions: ['instrument', 'visit', 'skymap', 'tract', 'patch'],
      }),
    },
  });

  /** Set by the executor test harness through the context (see run()). */
  backendName: string | null = null;

  async run(inputs: { calexps: DeferredDatasetHandle[] }): Promise<{ warp: TestWarp }> {
    const first = inputs.calexps[0]!.ref.dataId as DataId;
    const visit = first.visit as number;
    if (this.config.sleepMs > 0) await new Promise((r) => setTimeout(r, this.config.sleepMs));
    if (this.config.failVisits.includes(visit)) {
      throw new RepeatableQuantumError(`visit ${visit} is configured to fail`);
    }
    if (this.config.noWorkVisits.includes(visit)) throw new NoWorkFound(`visit ${visit}: no work`);
    this.metadata.set('warp.nCalexps', inputs.calexps.length);
    return {
      warp: {
        visit,
        patch: -1,
        detectors: inputs.calexps.map((h) => h.ref.dataId.detector as number).sort((a, b) => a - b),
        backend: this.backendName,
      },
    };
  }
}

const AssembleConfig = z.object({ minWarps: z.number().int().min(1).default(1) });

/** Per patch: gathers the warps (at least `minWarps`). */
export class TestAssembleTask extends PipelineTask<
  z.output<typeof AssembleConfig>,
  { warps: TestWarp[] },
  { coadd: { visits: number[]; nCcd: number } }
> {
  static _DefaultName = 'assemble';
  static ConfigSchema = AssembleConfig;
  static connections = defineConnections({
    dimensions: ['skymap', 'tract', 'patch'],
    connections: {
      warps: input({
        name: 'testWarp',
        storageClass: 'StructuredDataDict',
        dimensions: ['instrument', 'visit', 'skymap', 'tract', 'patch'],
        multiple: true,
      }),
      coadd: output({
        name: 'testCoadd',
        storageClass: 'StructuredDataDict',
        dimensions: ['skymap', 'tract', 'patch'],
      }),
    },
    adjust(config, c) {
      c.replace(
        'warps',
        input({
          name: 'testWarp',
          storageClass: 'StructuredDataDict',
          dimensions: ['instrument', 'visit', 'skymap', 'tract', 'patch'],
          multiple: true,
          minimum: config.minWarps as number,
        }),
      );
    },
  });

  async run(inputs: { warps: TestWarp[] }): Promise<{
    coadd: { visits: number[]; nCcd: number };
  }> {
    return {
      coadd: {
        visits: inputs.warps.map((w) => w.visit).sort((a, b) => a - b),
        nCcd: inputs.warps.reduce((n, w) => n + w.detectors.length, 0),
      },
    };
  }
}

/** Per patch: a "catalog" derived from the coadd. */
export class TestDetectTask extends PipelineTask<
  Record<string, never>,
  { coadd: { visits: number[]; nCcd: number } },
  { catalog: { nVisits: number; nCcd: number } }
> {
  static _DefaultName = 'detect';
  static ConfigSchema = z.object({});
  static connections = defineConnections({
    dimensions: ['skymap', 'tract', 'patch'],
    connections: {
      coadd: input({
        name: 'testCoadd',
        storageClass: 'StructuredDataDict',
        dimensions: ['skymap', 'tract', 'patch'],
      }),
      catalog: output({
        name: 'testCatalog',
        storageClass: 'StructuredDataDict',
        dimensions: ['skymap', 'tract', 'patch'],
      }),
    },
  });

  async run(inputs: { coadd: { visits: number[]; nCcd: number } }): Promise<{
    catalog: { nVisits: number; nCcd: number };
  }> {
    return { catalog: { nVisits: inputs.coadd.visits.length, nCcd: inputs.coadd.nCcd } };
  }
}
