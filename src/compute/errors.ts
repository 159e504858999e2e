/** Errors of the compute runtime. Each has a stable `code` and a message that says what to do next. */

export class ComputeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ComputeError';
    this.code = code;
  }
}

/** `--backend webgpu` was asked for, but no adapter could be had. */
export class NoAdapterError extends ComputeError {
  constructor(detail: string) {
    super(
      'NO_WEBGPU_ADAPTER',
      `no WebGPU adapter found (${detail}). Run scripts/setup-webgpu.sh as root to install ` +
        `Mesa's CPU Vulkan driver, or use --backend cpu (GPU_DRP_BACKEND=cpu).`,
    );
    this.name = 'NoAdapterError';
  }
}

/** WebGPU validation error caught by an error scope: a bug in gpu-drp, or limits exceeded. */
export class GpuValidationError extends ComputeError {
  readonly label: string;
  constructor(label: string, message: string) {
    super(
      'GPU_VALIDATION',
      `WebGPU validation error in ${label}: ${message}. This is a bug or a size beyond the ` +
        `adapter's limits; retry with --backend cpu and report it.`,
    );
    this.name = 'GpuValidationError';
    this.label = label;
  }
}

/** The device ran out of memory; callers retry with a smaller batch or on the CPU. */
export class GpuOutOfMemoryError extends ComputeError {
  readonly label: string;
  constructor(label: string, message: string) {
    super(
      'GPU_OUT_OF_MEMORY',
      `GPU out of memory in ${label}: ${message}. Lower the device memory budget or the ` +
        `batch size, or use --backend cpu.`,
    );
    this.name = 'GpuOutOfMemoryError';
    this.label = label;
  }
}

/** An internal error reported by the WebGPU implementation. */
export class GpuInternalError extends ComputeError {
  constructor(label: string, message: string) {
    super(
      'GPU_INTERNAL',
      `WebGPU internal error in ${label}: ${message}; retry with --backend cpu.`,
    );
    this.name = 'GpuInternalError';
  }
}

/** The device was lost (driver reset, destroyed, out of memory at the driver level). */
export class DeviceLostError extends ComputeError {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(
      'GPU_DEVICE_LOST',
      `WebGPU device lost (${reason}): ${message}. The work can be retried on a new device or ` +
        `with --backend cpu.`,
    );
    this.name = 'DeviceLostError';
    this.reason = reason;
  }
}

/** A backend was used after dispose(). */
export class BackendDisposedError extends ComputeError {
  constructor(kind: string) {
    super(
      'BACKEND_DISPOSED',
      `the ${kind} backend was disposed; create a new one with createBackend()`,
    );
    this.name = 'BackendDisposedError';
  }
}

/** A CPU worker failed (threw or exited). */
export class WorkerError extends ComputeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CPU_WORKER', `CPU worker failed: ${message}`, options);
    this.name = 'WorkerError';
  }
}
