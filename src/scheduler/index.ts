export {
  type MemoryBudget,
  memoryBudget,
  planCoaddUnit,
  planUnit,
  type UnitPlan,
} from './budget.ts';
export * from './coadd-steps.ts';
export { SchedulerError } from './errors.ts';
export {
  describeInput,
  expandInputs,
  type InputInfo,
  type SkippedInput,
  scanInputs,
} from './inputs.ts';
export { type CoaddTarget, type CoaddUnit, planCoadds, skymapTargets } from './plan.ts';
export { type ReadInput, ReadPool, type ReadResult } from './read-pool.ts';
export { residentCoadd } from './resident.ts';
export type { CoaddSink, UnitOutcome, UnitProducts } from './run-coadd.ts';
export { type CoaddEvent, type CoaddRunOptions, runCoadd, type UnitSummary } from './run-coadd.ts';
