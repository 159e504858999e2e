/**
 * Worker entry of the simulator: renders and writes a band of CCDs. Run through the CPU
 * backend's `parallelRows`, so "rows" are indices into the task list. The plan is
 * rebuilt from the configuration (it is deterministic and cheap), so only the
 * configuration and task indices cross the thread boundary.
 */

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeExposure } from '../image/exposure-fits.ts';
import type { SimConfig } from './config.ts';
import { planSimulation, type SimPlan } from './plan.ts';
import { renderCalexp } from './render.ts';

/** One CCD to render: visit index, detector id, output path relative to `outDir`. */
export interface CcdTask {
  readonly visitIndex: number;
  readonly detector: number;
  readonly path: string;
}

/** Arguments of {@link renderCcdBand}. */
export interface RenderBandArgs {
  readonly config: SimConfig;
  readonly outDir: string;
  readonly tasks: readonly CcdTask[];
  /** 32 bytes per task (shared memory): the sha256 of each written file. */
  readonly hashes: Uint8Array;
  /** First and one-past-last task index of this band. */
  readonly start: number;
  readonly end: number;
}

let cached: { key: string; plan: SimPlan } | null = null;

/** Renders tasks [start, end), writes each calexp and records its file's sha256. */
export async function renderCcdBand(args: RenderBandArgs): Promise<void> {
  const key = JSON.stringify(args.config);
  if (!cached || cached.key !== key) cached = { key, plan: planSimulation(args.config) };
  const plan = cached.plan;
  for (let i = args.start; i < args.end; i++) {
    const task = args.tasks[i]!;
    const exposure = renderCalexp(plan, task.visitIndex, task.detector);
    const path = join(args.outDir, task.path);
    await writeExposure(path, exposure, { compress: args.config.output.compress });
    const digest = createHash('sha256')
      .update(await readFile(path))
      .digest();
    args.hashes.set(digest, 32 * i);
  }
}
