/**
 * Memory budgets and how a patch-band coadd is cut to fit them.
 *
 * WebGPU does not report how much memory a device has, only per-buffer limits. The
 * device budget is therefore a setting: by default 8 GiB on a hardware GPU (every
 * data-centre GPU gpu-drp targets has at least 16 GiB; the rest is left to the driver
 * and other jobs), a quarter of the host memory (at most 4 GiB) on a software adapter,
 * whose "device memory" is host memory, and the host budget on the CPU backend. The
 * host budget defaults to 60% of the machine's memory. Both are overridable
 * (`gpu-coadd --device-memory/--host-memory`, MiB).
 *
 * The plan for one unit (N visits onto a W x H target):
 * - MEAN streams visits through the fused warp-and-accumulate kernel when its
 *   accumulators and one visit's CCDs fit the device budget (the usual case);
 * - on a GPU, MEANCLIP and MEDIAN keep every warp on the device when the N warps, the
 *   coadd and one stack band fit the device budget ("resident"): each visit is warped
 *   into device buffers, its weight reduced there, the stack's bands packed by device
 *   copies, and the coadd's planes stay there for measurement; only the CCDs go up and
 *   only the coadd comes back;
 * - otherwise each visit is warped (in row bands when target plus CCDs exceed the device
 *   budget), the warps are kept in host memory (or spilled to a scratch file when N warps
 *   exceed the host budget), per-warp weights come from the whole warps, and the stack
 *   runs in row bands of a multiple of 64 rows sized to the device budget.
 * Warps and stacks are per-pixel operations on an anchored mapping grid, so any cut
 * gives the same coadd, bit for bit (test/scheduler/batching.test.ts).
 */
import { totalmem } from 'node:os';
import type { Backend } from '../compute/select.ts';
import { SchedulerError } from './errors.ts';
import type { CoaddUnit } from './plan.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Bytes the scheduler may use on the compute device and on the host. */
export interface MemoryBudget {
  readonly deviceBytes: number;
  readonly hostBytes: number;
}

/** The default budgets for `backend` (see the module comment), with overrides in MiB. */
export function memoryBudget(
  backend: Backend,
  overrides: { deviceMiB?: number | undefined; hostMiB?: number | undefined } = {},
): MemoryBudget {
  for (const [name, v] of Object.entries(overrides)) {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) {
      throw new SchedulerError(
        'BAD_BUDGET',
        `the ${name === 'deviceMiB' ? 'device' : 'host'} memory budget must be a positive number of MiB, not ${v}`,
      );
    }
  }
  const hostBytes =
    overrides.hostMiB !== undefined ? overrides.hostMiB * MiB : Math.floor(0.6 * totalmem());
  let deviceBytes: number;
  if (overrides.deviceMiB !== undefined) deviceBytes = overrides.deviceMiB * MiB;
  else {
    const info = backend.info();
    if (info.kind !== 'webgpu') deviceBytes = hostBytes;
    else if (info.adapter?.isSoftware) deviceBytes = Math.min(4 * GiB, Math.floor(totalmem() / 4));
    else deviceBytes = 8 * GiB;
  }
  return { deviceBytes, hostBytes };
}

/** Bytes per pixel of a MaskedImage (float32 image, int32 mask, float32 variance). */
export const MI_BYTES = 12;
/** Bytes per output pixel of a stack (the coadd's three planes and coverage). */
const STACK_OUT_BYTES = 16;
/** Accumulator bytes per target pixel of the fused MEAN kernel (sums, weights, mask, coverage). */
const MEAN_ACC_BYTES = 28;
/** Stack bands are whole multiples of this many rows (the reductions' fixed band). */
export const BAND_QUANTUM = 64;

/** How one unit is cut. */
export interface UnitPlan {
  /** Take the fused streaming MEAN kernel. */
  readonly fused: boolean;
  /** Keep the warps on the device from warp to stack (GPU; not with `fused`). */
  readonly resident: boolean;
  /** Rows per warp band (the target height when a visit warps in one piece). */
  readonly warpRows: number;
  /** Rows per stack band (the target height when the stack runs in one piece). */
  readonly stackRows: number;
  /** Keep the warps in a scratch file instead of host memory. */
  readonly spill: boolean;
  /** Estimated device bytes of the largest step (for the summary). */
  readonly peakDeviceBytes: number;
}

/**
 * Cut a unit of `n` visits onto a `width` x `height` target whose largest visit has
 * `visitPixels` CCD pixels, to fit `budget` (and, on WebGPU, the adapter's storage
 * binding limit `maxBindingBytes` for one warp plane).
 *
 * @throws SchedulerError GRID_TOO_LARGE when not even one row band fits, or the coadd
 *   itself does not fit the host budget.
 */
export function planUnit(
  width: number,
  height: number,
  n: number,
  visitPixels: number,
  statistic: 'MEAN' | 'MEANCLIP' | 'MEDIAN',
  budget: MemoryBudget,
  maxBindingBytes = Number.POSITIVE_INFINITY,
  onDevice = false,
): UnitPlan {
  const targetPixels = width * height;
  const coaddHost = targetPixels * (MI_BYTES + 4);
  if (coaddHost > budget.hostBytes) {
    throw new SchedulerError(
      'GRID_TOO_LARGE',
      `the ${width}x${height} target needs ${fmt(coaddHost)} of host memory for its coadd alone, more than the host budget of ${fmt(budget.hostBytes)}; use a sky map with smaller patches (or a smaller --grid), or raise --host-memory`,
    );
  }
  const visitBytes = visitPixels * MI_BYTES;
  const fusedBytes = targetPixels * MEAN_ACC_BYTES + visitBytes;
  if (statistic === 'MEAN' && fusedBytes <= budget.deviceBytes) {
    return {
      fused: true,
      resident: false,
      warpRows: height,
      stackRows: height,
      spill: false,
      peakDeviceBytes: fusedBytes,
    };
  }
  if (onDevice && statistic !== 'MEAN') {
    // All N warps stay on the device, with the coadd's image and variance (kept for
    // measurement) and one stack band of N inputs.
    const warpsBytes = n * targetPixels * MI_BYTES;
    const keptBytes = targetPixels * 8;
    const free = budget.deviceBytes - warpsBytes - keptBytes;
    const rowBytes = width * (n * MI_BYTES + STACK_OUT_BYTES);
    const fit = Math.min(
      Math.floor(free / rowBytes),
      Math.floor(maxBindingBytes / (n * width * 4)),
    );
    const rows = fit >= height ? height : Math.floor(fit / BAND_QUANTUM) * BAND_QUANTUM;
    if (
      rows >= 1 &&
      targetPixels * 4 <= maxBindingBytes &&
      warpsBytes + visitBytes <= budget.deviceBytes
    ) {
      return {
        fused: false,
        resident: true,
        warpRows: height,
        stackRows: rows,
        spill: false,
        peakDeviceBytes: Math.max(
          warpsBytes + visitBytes,
          warpsBytes + keptBytes + rows * rowBytes,
        ),
      };
    }
  }
  // Warp: the visit's CCDs plus the band of target rows.
  const warpRowBytes = width * MI_BYTES;
  // ... and one plane of the band must fit a storage binding (WebGPU's per-buffer limit).
  const bindRows = Math.floor(maxBindingBytes / (width * 4));
  const budgetRows = Math.floor((budget.deviceBytes - visitBytes) / warpRowBytes);
  const fitRows = Math.min(bindRows, budgetRows);
  const warpRows = fitRows >= height ? height : Math.floor(fitRows / BAND_QUANTUM) * BAND_QUANTUM;
  const stackRowBytes = width * (n * MI_BYTES + STACK_OUT_BYTES);
  const stackFit = Math.floor(budget.deviceBytes / stackRowBytes);
  const stackRows =
    stackFit >= height ? height : Math.floor(stackFit / BAND_QUANTUM) * BAND_QUANTUM;
  if (warpRows < 1 || stackRows < 1) {
    const need = Math.max(visitBytes + BAND_QUANTUM * warpRowBytes, BAND_QUANTUM * stackRowBytes);
    throw new SchedulerError(
      'GRID_TOO_LARGE',
      `a ${width}-pixel-wide target with ${n} visits needs at least ${fmt(need)} of device memory for one band of ${BAND_QUANTUM} rows, more than the device budget of ${fmt(budget.deviceBytes)}; raise --device-memory, use narrower patches, or fewer visits per stack`,
    );
  }
  const spill = coaddHost + n * targetPixels * MI_BYTES > budget.hostBytes;
  return {
    fused: false,
    resident: false,
    warpRows,
    stackRows,
    spill,
    peakDeviceBytes: Math.max(
      visitBytes + Math.min(warpRows, height) * warpRowBytes,
      stackRows * stackRowBytes,
    ),
  };
}

/**
 * {@link planUnit} for a coadd unit on `backend` (its target size, visits and largest
 * visit's CCD pixels; on WebGPU the adapter's binding limit, and warps may stay on the device).
 */
export function planCoaddUnit(
  unit: CoaddUnit,
  statistic: 'MEAN' | 'MEANCLIP' | 'MEDIAN',
  budget: MemoryBudget,
  backend: Backend,
): UnitPlan {
  const gpu = backend.kind === 'webgpu';
  const visitPixels = Math.max(
    0,
    ...unit.visits.map((v) => v.inputs.reduce((a, i) => a + i.bbox.width * i.bbox.height, 0)),
  );
  return planUnit(
    unit.target.bbox.width,
    unit.target.bbox.height,
    unit.visits.length,
    visitPixels,
    statistic,
    budget,
    gpu ? backend.limit('maxStorageBufferBindingSize') : undefined,
    gpu,
  );
}

function fmt(bytes: number): string {
  return bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GiB` : `${Math.ceil(bytes / MiB)} MiB`;
}
