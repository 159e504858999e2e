/**
 * The PipelineTask framework: connections, configs, tasks, pipelines (YAML), pipeline graphs and
 * contracts. Quantum graphs (`graph/`) and executors (`exec/`) build on these.
 */

export * from './config.ts';
export * from './connections.ts';
export * from './contracts.ts';
export * from './errors.ts';
export * from './log.ts';
export * from './metadata.ts';
export * from './pipeline.ts';
export * from './pipeline-graph.ts';
export { didYouMean, suggestNames } from './suggest.ts';
export * from './task.ts';
export * from './task-registry.ts';
