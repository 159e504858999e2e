export { SchedulerError } from './errors.ts';
export {
  describeInput,
  expandInputs,
  type InputInfo,
  type SkippedInput,
  scanInputs,
} from './inputs.ts';
export { type CoaddTarget, type CoaddUnit, planCoadds, skymapTargets } from './plan.ts';
export { type CoaddEvent, type CoaddRunOptions, runCoadd, type UnitSummary } from './run-coadd.ts';
