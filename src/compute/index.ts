export type {
  AdapterDescription,
  BackendBase,
  BackendChoice,
  BackendInfo,
  BackendKind,
} from './backend.ts';
export { CpuBackend, type CpuBackendOptions, type RowRange } from './cpu/cpu-backend.ts';
export {
  BackendDisposedError,
  ComputeError,
  DeviceLostError,
  GpuInternalError,
  GpuOutOfMemoryError,
  GpuValidationError,
  NoAdapterError,
  WorkerError,
} from './errors.ts';
export {
  BACKEND_ENV,
  type Backend,
  type BackendSelection,
  type CreateBackendOptions,
  createBackend,
  parseBackendChoice,
} from './select.ts';
export { describeAdapter, findAdapter } from './webgpu/adapter.ts';
export {
  type GpuTiming,
  WebGpuBackend,
  type WebGpuBackendOptions,
} from './webgpu/webgpu-backend.ts';
