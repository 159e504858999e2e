/**
 * Quantum execution: targets (full Butler, quantum-backed datastore-only), the quantum context
 * tasks see, single-quantum execution, in-process and multi-process graph executors, outcome
 * files, reports and the aggregate step.
 */

export * from './aggregate.ts';
export * from './errors.ts';
export * from './executor.ts';
export * from './outcomes.ts';
export * from './report.ts';
export * from './session.ts';
export * from './targets.ts';
