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
export type { CoaddSink, UnitOutcome, UnitProducts } from './run-coadd.ts';
export { type CoaddEvent, type CoaddRunOptions, runCoadd, type UnitSummary } from './run-coadd.ts';
