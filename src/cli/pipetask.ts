/**
 * `pipetask`: build and run quantum graphs, with LSST's verbs and options (ctrl_mpexec):
 *
 * - `qgraph -b REPO -i INPUTS -o OUTPUT [--output-run RUN] -p PIPELINE[#labels] [-d WHERE]
 *   [--save-qgraph FILE] [-c label:key=value] [-C label:file]`: build (and save) a graph;
 * - `run` (same options, or `-g GRAPH`) `[-j N] [--register-dataset-types] [--skip-existing-in C]
 *   [--extend-run] [--clobber-outputs]`: build and execute against the full Butler; `-o OUTPUT`
 *   becomes a CHAINED collection OUTPUT -> [output run, inputs...]; the default output run is
 *   `OUTPUT/<UTC timestamp>`;
 * - `run-qbb REPO GRAPH [--qgraph-node-id IDS] [-j N]`: execute quanta against the datastore
 *   alone (register later with `butler aggregate-graph REPO GRAPH`);
 * - `report REPO GRAPH`: per task label, succeeded / no work / skipped / failed / blocked / not run,
 *   with the failures' messages.
 *
 * Exit codes: 0 every quantum succeeded (or was skipped / found no work); 1 some quanta failed
 * (or setup failed: missing dataset types, outputs exist, bad graph); 2 usage (bad options,
 * malformed -d); 70 internal error; 130 interrupted (finished quanta are kept; re-run with
 * --skip-existing-in OUTPUT_RUN --extend-run to go on).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import yargs from 'yargs';
import { Butler } from '../butler/butler.ts';
import { ExprError } from '../butler/expr/index.ts';
import { MissingCollectionError } from '../butler/registry/index.ts';
import { ExecError } from '../pipe/exec/errors.ts';
import {
  type ExecEvent,
  type ExecutionSummary,
  executeGraph,
  outcomeDirOf,
  reportGraph,
  updateOutputChain,
} from '../pipe/exec/index.ts';
import { buildQuantumGraph, QuantumGraphReader, saveQuantumGraph } from '../pipe/graph/index.ts';
import {
  type LabeledConfigOverride,
  Pipeline,
  parseConfigFileOption,
  parseConfigOption,
} from '../pipe/index.ts';
import { CliError, EXIT, runCli, usageFailure } from './main.ts';
import { packageVersion } from './version.ts';

function list(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v])
    .flatMap((x) => String(x).split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `OUTPUT/20250101T120000Z` (LSST's default output run name). */
export function defaultOutputRun(output: string, now = new Date()): string {
  const ts = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${output}/${ts}`;
}

interface BuildArgs {
  butler?: string;
  input?: string[];
  output?: string;
  outputRun?: string;
  pipeline?: string;
  dataQuery?: string;
  saveQgraph?: string;
  config?: string[];
  configFile?: string[];
  qgraph?: string;
  extendRun?: boolean;
}

/** Resolves the output run (and checks --extend-run rules). */
async function outputRunOf(b: Butler, a: BuildArgs): Promise<string> {
  if (a.outputRun) return a.outputRun;
  if (!a.output) {
    throw new CliError('USAGE', 'give -o OUTPUT or --output-run RUN', EXIT.usage);
  }
  if (a.extendRun) {
    try {
      const chain = await b.registry.getCollectionChain(a.output);
      if (chain[0]) return chain[0];
    } catch (e) {
      if (!(e instanceof MissingCollectionError)) throw e;
    }
    throw new CliError(
      'NO_RUN_TO_EXTEND',
      `--extend-run: ${a.output} has no output run yet; run once without --extend-run`,
    );
  }
  return defaultOutputRun(a.output);
}

async function buildGraph(a: BuildArgs, file: string): Promise<{ quanta: number; run: string }> {
  if (!a.butler) throw new CliError('USAGE', 'give -b REPO', EXIT.usage);
  if (!a.pipeline) throw new CliError('USAGE', 'give -p PIPELINE (or -g GRAPH)', EXIT.usage);
  const b = await Butler.open(a.butler);
  try {
    const overrides: LabeledConfigOverride[] = [
      ...(a.configFile ?? []).map((t) => parseConfigFileOption(t, process.cwd())),
      ...(a.config ?? []).map(parseConfigOption),
    ];
    const pipelineFile = resolve(a.pipeline.split('#')[0]!);
    const p = Pipeline.fromFile(a.pipeline);
    await p.importTasks({ baseDir: dirname(pipelineFile), moduleRoot: process.cwd() });
    const pg = p.toGraph({ universe: b.registry.universe, overrides });
    const run = await outputRunOf(b, a);
    if (!a.extendRun) {
      const exists = await b.registry
        .getCollectionType(run)
        .then(() => true)
        .catch(() => false);
      if (exists) {
        throw new ExecError(
          'EXEC_RUN_EXISTS',
          `output run ${run} exists; give --extend-run to write into it (with --skip-existing-in ${run}), or another --output-run`,
        );
      }
    }
    const g = await buildQuantumGraph(b.registry, pg, {
      inputCollections: list(a.input),
      outputRun: run,
      output: a.output ?? null,
      pipelineDir: dirname(pipelineFile),
      moduleRoot: process.cwd(),
      ...(a.dataQuery ? { where: a.dataQuery } : {}),
    });
    await saveQuantumGraph(g, file);
    process.stderr.write(
      `pipetask: ${g.size} quanta (${Object.entries(g.header.quantaPerTask)
        .map(([l, n]) => `${l}: ${n}`)
        .join(', ')}) for run ${run}${a.saveQgraph ? `, saved to ${file}` : ''}\n`,
    );
    return { quanta: g.size, run };
  } finally {
    await b.close();
  }
}

function progress(json: boolean): (e: ExecEvent) => void {
  return (e) => {
    if (e.event !== 'quantum-end') return;
    const o = e.outcome;
    if (json) return;
    if (o.status === 'failed' || o.status === 'blocked') {
      process.stderr.write(
        `pipetask: ${o.status} ${o.label} ${JSON.stringify(o.dataId)}: ${o.error?.message ?? o.message ?? ''}\n`,
      );
    }
  };
}

function printSummary(s: ExecutionSummary, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ perTask: s.perTask, totals: s.totals }, null, 2)}\n`);
    return;
  }
  const rows = Object.entries(s.perTask).map(([label, c]) => ({ label, ...c }));
  process.stdout.write(`${summaryTable(rows)}\n`);
}

function summaryTable(rows: ReadonlyArray<Record<string, string | number>>): string {
  const cols = ['label', 'succeeded', 'no-work', 'skipped', 'failed', 'blocked', 'not-run'];
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? 0).length)));
  const line = (v: string[]) => v.map((x, i) => x.padEnd(w[i]!)).join('  ');
  return [
    line(cols),
    line(w.map((n) => '-'.repeat(n))),
    ...rows.map((r) => line(cols.map((c) => String(r[c] ?? 0)))),
  ].join('\n');
}

function exitOf(s: ExecutionSummary): number {
  if (s.interrupted) return EXIT.interrupted;
  return s.totals.failed > 0 || s.totals.blocked > 0 ? EXIT.failed : EXIT.ok;
}

function abortOnSignals(): AbortController {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return ac;
}

/** Run `pipetask` with `argv` (without node and script). */
export async function pipetaskCli(argv: string[]): Promise<void> {
  await runCli('pipetask', async () => {
    let code: number = EXIT.ok;
    const build = (y: Argv) =>
      y
        .option('butler', { alias: 'b', type: 'string', describe: 'repository' })
        .option('input', {
          alias: 'i',
          type: 'string',
          array: true,
          describe: 'input collections (comma-separated or repeated)',
        })
        .option('output', {
          alias: 'o',
          type: 'string',
          describe: 'output CHAINED collection (-> [output run, inputs...])',
        })
        .option('output-run', {
          type: 'string',
          describe: 'output RUN (default OUTPUT/<UTC timestamp>)',
        })
        .option('pipeline', { alias: 'p', type: 'string', describe: 'pipeline YAML[#labels]' })
        .option('data-query', { alias: 'd', type: 'string', describe: 'where-expression' })
        .option('save-qgraph', { alias: 'q', type: 'string', describe: 'save the graph here' })
        .option('config', {
          alias: 'c',
          type: 'string',
          array: true,
          describe: 'label:key=value',
        })
        .option('config-file', { alias: 'C', type: 'string', array: true, describe: 'label:file' })
        .option('extend-run', { type: 'boolean', default: false })
        .option('json', { type: 'boolean', default: false });
    await yargs(argv)
      .scriptName('pipetask')
      .usage('$0 <command> [options]')
      .command(
        'qgraph',
        'build a quantum graph (and save it with --save-qgraph)',
        (y) => build(y),
        async (a) => {
          const tmp = a.saveQgraph ? null : mkdtempSync(join(tmpdir(), 'pipetask-'));
          try {
            await buildGraph(a as BuildArgs, a.saveQgraph ?? join(tmp!, 'graph.qg'));
          } finally {
            if (tmp) rmSync(tmp, { recursive: true, force: true });
          }
        },
      )
      .command(
        'run',
        'build (or load with -g) and execute a graph against the repository',
        (y) =>
          build(y)
            .option('qgraph', { alias: 'g', type: 'string', describe: 'run this saved graph' })
            .option('processes', { alias: 'j', type: 'number', default: 1 })
            .option('register-dataset-types', { type: 'boolean', default: false })
            .option('skip-existing-in', { type: 'string', array: true })
            .option('clobber-outputs', { type: 'boolean', default: false }),
        async (a) => {
          const tmp = a.qgraph || a.saveQgraph ? null : mkdtempSync(join(tmpdir(), 'pipetask-'));
          try {
            const file = a.qgraph ?? a.saveQgraph ?? join(tmp!, 'graph.qg');
            if (!a.qgraph) await buildGraph(a as BuildArgs, file);
            const r = await QuantumGraphReader.open(file);
            const header = r.header;
            await r.close();
            const repo = a.butler;
            if (!repo) throw new CliError('USAGE', 'give -b REPO', EXIT.usage);
            const ac = abortOnSignals();
            const s = await executeGraph(
              {
                repo,
                mode: 'butler',
                graphPath: file,
                outcomesDir: tmp ? null : outcomeDirOf(file),
                ...(a.skipExistingIn ? { skipExistingIn: list(a.skipExistingIn) } : {}),
                clobberOutputs: a.clobberOutputs,
              },
              {
                jobs: a.processes,
                registerDatasetTypes: a.registerDatasetTypes,
                signal: ac.signal,
                onEvent: progress(a.json),
              },
            );
            const output = a.output ?? header.output;
            if (output) {
              const b = await Butler.open(repo);
              try {
                await updateOutputChain(b, output, header.outputRun, header.inputCollections);
              } finally {
                await b.close();
              }
            }
            printSummary(s, a.json);
            code = exitOf(s);
          } finally {
            if (tmp) rmSync(tmp, { recursive: true, force: true });
          }
        },
      )
      .command(
        'run-qbb <repo> <qgraph>',
        'execute quanta of a saved graph against the datastore alone (no registry)',
        (y) =>
          y
            .positional('repo', { type: 'string', demandOption: true })
            .positional('qgraph', { type: 'string', demandOption: true })
            .option('qgraph-node-id', {
              type: 'string',
              array: true,
              describe: 'quantum ids to run (default: all)',
            })
            .option('processes', { alias: 'j', type: 'number', default: 1 })
            .option('json', { type: 'boolean', default: false }),
        async (a) => {
          const ids = list(a.qgraphNodeId);
          const ac = abortOnSignals();
          const s = await executeGraph(
            {
              repo: a.repo as string,
              mode: 'qbb',
              graphPath: a.qgraph as string,
              outcomesDir: outcomeDirOf(a.qgraph as string),
            },
            {
              jobs: a.processes,
              ...(ids.length > 0 ? { quantumIds: ids } : {}),
              signal: ac.signal,
              onEvent: progress(a.json),
            },
          );
          printSummary(s, a.json);
          code = exitOf(s);
        },
      )
      .command(
        'report <repo> <qgraph>',
        'per task label: succeeded / no work / skipped / failed / blocked / not run, with failures',
        (y) =>
          y
            .positional('repo', { type: 'string', demandOption: true })
            .positional('qgraph', { type: 'string', demandOption: true })
            .option('json', { type: 'boolean', default: false }),
        async (a) => {
          const b = await Butler.open(a.repo as string);
          try {
            const rep = await reportGraph(a.qgraph as string, { butler: b });
            if (a.json) process.stdout.write(`${JSON.stringify(rep, null, 2)}\n`);
            else {
              const rows = Object.entries(rep.perTask).map(([label, c]) => ({ label, ...c }));
              process.stdout.write(`${summaryTable(rows)}\n`);
              for (const f of rep.failures) {
                process.stdout.write(
                  `failed ${f.label} ${JSON.stringify(f.dataId)} [${f.error?.code}]: ${f.error?.message}\n`,
                );
              }
            }
            if (rep.failures.length > 0) code = EXIT.failed;
          } finally {
            await b.close();
          }
        },
      )
      .demandCommand(1, 'name a command (pipetask --help lists them)')
      .strict()
      .version(packageVersion())
      .epilog(
        'Exit codes: 0 ok; 1 some quanta failed (or setup failed); 2 usage (including a malformed -d); 70 internal error; 130 interrupted.',
      )
      .fail(usageFailure('pipetask'))
      .parseAsync()
      .catch((e: unknown) => {
        if (e instanceof ExprError) throw new CliError(e.code, e.message, EXIT.usage);
        throw e;
      });
    return code;
  });
}
