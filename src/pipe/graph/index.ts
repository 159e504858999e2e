/**
 * Quantum graphs: building from a pipeline graph and the registry, the in-memory graph, and the
 * `.qg` file with random access to single quanta.
 */

export * from './builder.ts';
export * from './errors.ts';
export * from './file.ts';
export * from './quantum-graph.ts';
