/**
 * The survey simulator: seeded, deterministic LSST-like calexps (background-subtracted,
 * calibrated to nJy) with a truth catalog, artifacts and a sky map. See docs/data-model.md.
 */

export {
  resolveSimConfig,
  SIM_PRESETS,
  SimConfig,
  type SimConfigInput,
  type SimPresetName,
} from './config.ts';
export { SimError, type SimErrorCode } from './errors.ts';
export {
  type BadColumn,
  type CcdPlan,
  type CosmicRay,
  type DetectorPlan,
  fluxForSnr,
  planSimulation,
  type SimPlan,
  SOURCE_TYPE,
  type StreakPlan,
  type TruthCatalog,
  type VisitPlan,
} from './plan.ts';
export { moffatMog, type PsfProfile, renderPsfStamp, sersicMog } from './profiles.ts';
export { hashKey, Xoshiro128 } from './random.ts';
export { psfModel, renderCalexp } from './render.ts';
export {
  artifacts,
  calexpPath,
  type SimCalexp,
  type SimResult,
  type SimulateOptions,
  simulate,
  skymapConfig,
  truthCsv,
  visitsCsv,
} from './simulate.ts';
