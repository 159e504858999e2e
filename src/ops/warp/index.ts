/**
 * `warp`: CCD exposures onto a target WCS and box (Lanczos3 by default). Semantics:
 * ./spec.ts; the mapping grid: ./grid.ts.
 */
import type { Backend } from '../../compute/select.ts';
import { type Op, runOp } from '../op.ts';
import { warpCpu } from './cpu.ts';
import { warpGpu } from './gpu.ts';
import {
  type PreparedWarp,
  prepareWarp,
  type WarpParams,
  type WarpResult,
  type WarpSource,
  type WarpTarget,
} from './spec.ts';

type WarpInput = { sources: readonly WarpSource[]; target: WarpTarget };

export const warpOp: Op<WarpInput, WarpParams, PreparedWarp, WarpResult> = {
  name: 'warp',
  prepare: prepareWarp,
  cpu: warpCpu,
  gpu: warpGpu,
};

/** Warp `sources` (the CCDs of one visit) onto `target` on `backend`. */
export function warp(
  backend: Backend,
  sources: readonly WarpSource[],
  target: WarpTarget,
  params: WarpParams = {},
): Promise<WarpResult> {
  return runOp(warpOp, backend, { sources, target }, params);
}

export { buildGrid, interpolate, type MappingGrid } from './grid.ts';
export { sourceRegion } from './region.ts';
export {
  type PreparedWarp,
  prepareWarp,
  type WarpParams,
  WarpParamsSchema,
  type WarpResult,
  type WarpSource,
  type WarpSourceReport,
  type WarpTarget,
} from './spec.ts';
