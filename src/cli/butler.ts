/**
 * `butler`: the repository command line, with LSST's verbs and options where they exist
 * (daf_butler's `butler` CLI): create, register-dataset-type, register-skymap,
 * ingest-files, query-datasets, query-data-ids, query-dimension-records,
 * query-collections, collection-chain, export, import, transfer-datasets, remove-runs,
 * prune-datasets, and check (leftovers of interrupted writes).
 *
 * Output: aligned tables, or JSON with --json. Credentials (database passwords) are never
 * printed: URLs are shown redacted.
 */
import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import yargs from 'yargs';
import { Butler } from '../butler/butler.ts';
import { ExprError } from '../butler/expr/index.ts';
import type { DatasetRef } from '../butler/refs.ts';
import { scanInputs } from '../scheduler/inputs.ts';
import { calexpIngest, skymapRecords } from './butler-records.ts';
import { loadSkymap } from './coadd-command.ts';
import { CliError, EXIT, runCli, usageFailure } from './main.ts';
import { packageVersion } from './version.ts';

/** Comma-separated or repeated option values, flattened. */
function list(v: unknown): string[] {
  if (v === undefined) return [];
  const items = Array.isArray(v) ? v : [v];
  return items
    .flatMap((x) => String(x).split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `--bind name=value` pairs (numbers parsed). */
function binds(v: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of Array.isArray(v) ? v : v === undefined ? [] : [v]) {
    const s = String(item);
    const eq = s.indexOf('=');
    if (eq < 1) throw new CliError('USAGE', `--bind takes name=value, got '${s}'`, EXIT.usage);
    const raw = s.slice(eq + 1);
    const num = Number(raw);
    out[s.slice(0, eq)] = raw.trim() !== '' && Number.isFinite(num) ? num : raw;
  }
  return out;
}

/** A plain aligned table. */
export function table(rows: ReadonlyArray<Record<string, unknown>>, columns?: string[]): string {
  if (rows.length === 0) return '(none)';
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) =>
    v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const cells = rows.map((r) => cols.map((c) => cell(r[c])));
  const widths = cols.map((c, i) =>
    Math.max(c.length, ...cells.map((r) => (r[i] as string).length)),
  );
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

function print(
  json: boolean,
  value: unknown,
  rows: ReadonlyArray<Record<string, unknown>>,
  columns?: string[],
): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${table(rows, columns)}\n`);
}

function refRow(r: DatasetRef): Record<string, unknown> {
  return { type: r.datasetType.name, run: r.run, id: r.id, ...r.dataId };
}

async function withButler<T>(repo: string, body: (b: Butler) => Promise<T>, o = {}): Promise<T> {
  const b = await Butler.open(repo, o);
  try {
    return await body(b);
  } finally {
    await b.close();
  }
}

/** Run `butler` with `argv` (without node and script). */
export async function butlerCli(argv: string[]): Promise<void> {
  await runCli('butler', async () => {
    let code: number = EXIT.ok;
    const y = yargs(argv).scriptName('butler').usage('$0 <command> REPO [options]').option('json', {
      type: 'boolean',
      default: false,
      describe: 'print JSON instead of a table',
    });
    const withQuery = <T>(a: Argv<T>) =>
      a
        .option('where', {
          type: 'string',
          describe: 'a where-expression, e.g. "visit IN (10..20) AND band = \'r\'"',
        })
        .option('bind', {
          type: 'string',
          array: true,
          describe: 'values for :name in --where, as name=value',
        })
        .option('collections', {
          type: 'string',
          array: true,
          describe: 'collections to search (comma-separated or repeated)',
        });
    await y
      .command(
        'create <repo>',
        'create an empty repository (SQLite registry and a local datastore unless told otherwise)',
        (a) =>
          a
            .positional('repo', { type: 'string', demandOption: true })
            .option('registry', {
              type: 'string',
              describe:
                'registry URL: sqlite:FILE (default sqlite:gpu_drp.sqlite3 in the repository) or postgres://user@host:port/db (password from PGPASSWORD or ~/.pgpass)',
            })
            .option('datastore', {
              type: 'string',
              describe:
                'datastore root: a directory (default: the repository), s3://bucket/prefix or webdav://host:port/path',
            })
            .option('checksum', {
              type: 'boolean',
              default: false,
              describe: 'record BLAKE2b checksums of stored files',
            }),
        async (a) => {
          const b = await Butler.create(a.repo as string, {
            ...(a.registry ? { registry: a.registry } : {}),
            ...(a.datastore ? { datastore: a.datastore } : {}),
            checksum: a.checksum,
          });
          await b.close();
          process.stderr.write(`butler: created repository ${b.root}\n`);
        },
      )
      .command(
        'register-dataset-type <repo> <name> <storageClass> [dimensions..]',
        'register a dataset type (name, storage class, dimensions)',
        (a) =>
          a
            .positional('repo', { type: 'string', demandOption: true })
            .positional('name', { type: 'string', demandOption: true })
            .positional('storageClass', { type: 'string', demandOption: true })
            .positional('dimensions', { type: 'string', array: true })
            .option('is-calibration', { type: 'boolean', default: false }),
        async (a) => {
          await withButler(a.repo as string, async (b) => {
            const added = await b.registerDatasetType({
              name: a.name as string,
              storageClass: a.storageClass as string,
              dimensions: list(a.dimensions),
              ...(a.isCalibration ? { isCalibration: true } : {}),
            });
            process.stderr.write(
              `butler: ${a.name} ${added ? 'registered' : 'already registered (same definition)'}\n`,
            );
          });
        },
      )
      .command(
        'register-skymap <repo>',
        'register a sky map (JSON config as gpu-sim writes) with its tract and patch records and regions',
        (a) =>
          a
            .positional('repo', { type: 'string', demandOption: true })
            .option('config', {
              alias: 'C',
              type: 'string',
              demandOption: true,
              describe: 'sky map config JSON',
            })
            .option('collection', {
              type: 'string',
              default: 'skymaps',
              describe: 'RUN collection for the skyMap dataset',
            })
            .option('skymap-name', {
              type: 'string',
              describe: "name to register (default: the config's name)",
            }),
        async (a) => {
          const cfg = JSON.parse(readFileSync(a.config, 'utf8')) as { name?: string };
          const name = a.skymapName ?? cfg.name;
          if (!name)
            throw new CliError('USAGE', 'the config has no name; give --skymap-name', EXIT.usage);
          const recs = skymapRecords(name, loadSkymap(a.config), cfg);

          const skymap = loadSkymap(a.config);
          await withButler(a.repo as string, async (b) => {
            await b.registry.transaction(async (tx) => {
              for (const el of ['skymap', 'tract', 'patch'] as const)
                await tx.insertDimensionData(el, recs[el], { skipExisting: true });
            });
            // The sky map itself as the `skyMap` dataset (what pipelines read), as LSST's
            // register-skymap writes it into the `skymaps` collection.
            await b.registerDatasetType({
              name: 'skyMap',
              storageClass: 'SkyMap',
              dimensions: ['skymap'],
            });
            await b.registry.registerRun(a.collection);
            const have = await b.registry.findDataset(
              'skyMap',
              { skymap: name },
              { collections: [a.collection] },
            );
            if (!have) await b.put(skymap, 'skyMap', { skymap: name }, { run: a.collection });
          });
          process.stderr.write(
            `butler: sky map ${name}: ${recs.tract.length} tracts, ${recs.patch.length} patches\n`,
          );
        },
      )
      .command(
        'ingest-files <repo> <datasetType> <run> <files..>',
        'ingest calexps (data IDs and dimension records from their headers: INSTRUME, VISIT, DETECTOR, FILTER/BAND, WCS)',
        (a) =>
          a
            .positional('repo', { type: 'string', demandOption: true })
            .positional('datasetType', { type: 'string', demandOption: true })
            .positional('run', { type: 'string', demandOption: true })
            .positional('files', {
              type: 'string',
              array: true,
              describe: 'files, quoted globs or directories',
            })
            .option('instrument', {
              type: 'string',
              describe: 'instrument name when the headers have no INSTRUME',
            })
            .option('transfer', {
              choices: ['copy', 'move', 'link', 'direct', 'auto'] as const,
              default: 'copy' as const,
              describe: 'how files enter the datastore',
            })
            .option('register', {
              type: 'boolean',
              default: true,
              describe:
                'register the dataset type (ExposureF; instrument, visit, detector) if missing',
            }),
        async (a) => {
          const { inputs, skipped } = await scanInputs(a.files as string[], true);
          if (skipped.length)
            throw new CliError(
              'NO_INPUTS',
              `cannot read ${skipped.map((s) => `${s.path} (${s.reason})`).join(', ')}`,
            );
          if (inputs.length === 0)
            throw new CliError('NO_INPUTS', `no files among ${(a.files as string[]).join(' ')}`);
          const plan = await calexpIngest(inputs, a.instrument);
          const refs = await withButler(a.repo as string, async (b) => {
            if (a.register)
              await b.registerDatasetType({
                name: a.datasetType as string,
                storageClass: 'ExposureF',
                dimensions: ['instrument', 'visit', 'detector'],
              });
            await b.registry.transaction(async (tx) => {
              for (const el of [
                'instrument',
                'physical_filter',
                'detector',
                'visit',
                'visit_detector_region',
              ])
                await tx.insertDimensionData(el, plan.records[el] ?? [], { skipExisting: true });
            });
            return b.ingest(
              plan.items.map((i) => ({
                path: i.path,
                datasetType: a.datasetType as string,
                dataId: i.dataId,
              })),
              { run: a.run as string, transfer: a.transfer },
            );
          });
          if (a.json) process.stdout.write(`${JSON.stringify(refs, null, 2)}\n`);
          process.stderr.write(`butler: ingested ${refs.length} ${a.datasetType} into ${a.run}\n`);
        },
      )
      .command(
        'query-datasets <repo> [datasetTypes..]',
        'list datasets (type, run, id, data ID)',
        (a) =>
          withQuery(a)
            .positional('repo', { type: 'string', demandOption: true })
            .positional('datasetTypes', { type: 'string', array: true })
            .option('find-first', {
              type: 'boolean',
              default: false,
              describe: 'only the first match in the collection search order',
            })
            .option('limit', { type: 'number' }),
        async (a) => {
          await withButler(a.repo as string, async (b) => {
            let types = list(a.datasetTypes);
            if (types.length === 0)
              types = (await b.registry.queryDatasetTypes()).map((t) => t.name);
            const collections = list(a.collections);
            const refs = types.length
              ? await b.registry.queryDatasets(types, {
                  collections: collections.length
                    ? collections
                    : (await b.registry.queryCollections({ types: ['RUN'] })).map((c) => c.name),
                  ...(a.where ? { where: a.where } : {}),
                  bind: binds(a.bind),
                  findFirst: a.findFirst,
                  ...(a.limit !== undefined ? { limit: a.limit } : {}),
                })
              : [];
            print(a.json, refs, refs.map(refRow));
          });
        },
      )
      .command(
        'query-data-ids <repo> <dimensions..>',
        'list data IDs of dimensions (spatial joins between visits/detectors and tracts/patches included)',
        (a) =>
          withQuery(a)
            .positional('repo', { type: 'string', demandOption: true })
            .positional('dimensions', { type: 'string', array: true })
            .option('datasets', {
              type: 'string',
              array: true,
              describe: 'only data IDs with these datasets in --collections',
            })
            .option('limit', { type: 'number' }),
        async (a) => {
          await withButler(a.repo as string, async (b) => {
            const ids = await b.registry.queryDataIds(list(a.dimensions), {
              ...(a.where ? { where: a.where } : {}),
              bind: binds(a.bind),
              ...(a.datasets ? { datasets: list(a.datasets) } : {}),
              ...(a.collections ? { collections: list(a.collections) } : {}),
              ...(a.limit !== undefined ? { limit: a.limit } : {}),
            });
            print(a.json, ids, ids as Array<Record<string, unknown>>);
          });
        },
      )
      .command(
        'query-dimension-records <repo> <element>',
        'list dimension records of an element (visit, detector, patch, ...)',
        (a) =>
          withQuery(a)
            .positional('repo', { type: 'string', demandOption: true })
            .positional('element', { type: 'string', demandOption: true })
            .option('limit', { type: 'number' }),
        async (a) => {
          await withButler(a.repo as string, async (b) => {
            const recs = await b.registry.queryDimensionRecords(a.element as string, {
              ...(a.where ? { where: a.where } : {}),
              bind: binds(a.bind),
              ...(a.limit !== undefined ? { limit: a.limit } : {}),
            });
            print(a.json, recs, recs);
          });
        },
      )
      .command(
        'query-collections <repo> [glob]',
        'list collections (name, type, chain members)',
        (a) =>
          a
            .positional('repo', { type: 'string', demandOption: true })
            .positional('glob', { type: 'string' })
            .option('collection-type', {
              type: 'string',
              array: true,
              describe: 'RUN, TAGGED, CHAINED, CALIBRATION',
            }),
        async (a) => {
          await withButler(a.repo as string, async (b) => {
            const types = list(a.collectionType).map((t) => t.toUpperCase()) as Array<
              'RUN' | 'TAGGED' | 'CHAINED' | 'CALIBRATION'
            >;
            const cols = await b.registry.queryCollections({
              ...(a.glob ? { pattern: a.glob } : {}),
              ...(types.length ? { types } : {}),
            });
            print(
              a.json,
              cols,
              cols.map((c) => ({
                name: c.name,
                type: c.type,
                children: c.children?.join(', ') ?? '',
              })),
            );
          });
        },
      )
      .command(
        'collection-chain <repo> <parent> [children..]',
        'define or edit a CHAINED collection (an ordered search path)',
        (a) =>
          a
            .positional('repo', { type: 'string', demandOption: true })
            .positional('parent', { type: 'string', demandOption: true })
            .positional('children', { type: 'string', array: true })
            .option('mode', {
              choices: ['redefine', 'prepend', 'extend', 'remove', 'pop'] as const,
              default: 'redefine' as const,
            }),
        async (a) => {
          await withButler(a.repo as string, async (b) => {
            await b.registry.registerCollection(a.parent as string, 'CHAINED');
            await b.registry.setCollectionChain(a.parent as string, list(a.children), {
              mode: a.mode,
            });
            const chain = await b.registry.getCollectionChain(a.parent as string);
            process.stdout.write(a.json ? `${JSON.stringify(chain)}\n` : `${chain.join('\n')}\n`);
          });
        },
      )
      .command(
        'export <repo> <file>',
        'export datasets (with their dimension records and datastore records) to a YAML file; --directory copies the files too',
        (a) =>
          withQuery(a)
            .positional('repo', { type: 'string', demandOption: true })
            .positional('file', { type: 'string', demandOption: true })
            .option('dataset-type', { type: 'string', array: true, demandOption: true })
            .option('directory', {
              type: 'string',
              describe: 'copy the files here (a self-contained export)',
            }),
        async (a) => {
          await withButler(a.repo as string, async (b) => {
            const refs = await b.registry.queryDatasets(list(a.datasetType), {
              collections: list(a.collections),
              ...(a.where ? { where: a.where } : {}),
              bind: binds(a.bind),
            });
            await b.export(a.file as string, refs, {
              ...(a.directory ? { directory: a.directory } : {}),
              collections: list(a.collections),
            });
            process.stderr.write(`butler: exported ${refs.length} datasets to ${a.file}\n`);
          });
        },
      )
      .command(
        'import <repo> <file>',
        'import an export file (dimension records, dataset types, runs, datasets with their ids)',
        (a) =>
          a
            .positional('repo', { type: 'string', demandOption: true })
            .positional('file', { type: 'string', demandOption: true })
            .option('directory', {
              type: 'string',
              describe: 'where the exported files are (copied in)',
            }),
        async (a) => {
          await withButler(a.repo as string, async (b) => {
            const refs = await b.import(
              a.file as string,
              a.directory ? { directory: a.directory } : {},
            );
            process.stderr.write(`butler: imported ${refs.length} datasets\n`);
          });
        },
      )
      .command(
        'transfer-datasets <source> <dest>',
        'copy datasets (files, registry rows with the same ids, dimension records) from one repository to another',
        (a) =>
          withQuery(a)
            .positional('source', { type: 'string', demandOption: true })
            .positional('dest', { type: 'string', demandOption: true })
            .option('dataset-type', { type: 'string', array: true, demandOption: true })
            .option('register-dataset-types', { type: 'boolean', default: true })
            .option('transfer-dimensions', { type: 'boolean', default: true })
            .option('dry-run', { type: 'boolean', default: false }),
        async (a) => {
          await withButler(a.source as string, async (src) => {
            await withButler(a.dest as string, async (dst) => {
              const refs = await src.registry.queryDatasets(list(a.datasetType), {
                collections: list(a.collections),
                ...(a.where ? { where: a.where } : {}),
                bind: binds(a.bind),
              });
              const r = await dst.transferFrom(src, refs, {
                registerDatasetTypes: a.registerDatasetTypes,
                transferDimensions: a.transferDimensions,
                dryRun: a.dryRun,
              });
              if (a.json)
                process.stdout.write(
                  `${JSON.stringify({ transferred: r.transferred.length, skipped: r.skipped.length })}\n`,
                );
              process.stderr.write(
                `butler: ${a.dryRun ? 'would transfer' : 'transferred'} ${r.transferred.length} datasets (${r.skipped.length} already there)\n`,
              );
            });
          });
        },
      )
      .command(
        'remove-runs <repo> <runs..>',
        'remove RUN collections with their datasets and files',
        (a) =>
          a
            .positional('repo', { type: 'string', demandOption: true })
            .positional('runs', { type: 'string', array: true })
            .option('unstore', {
              type: 'boolean',
              default: true,
              describe: 'delete the files too',
            }),
        async (a) => {
          await withButler(a.repo as string, async (b) => {
            const n = await b.removeRuns(list(a.runs), { unstore: a.unstore });
            process.stderr.write(`butler: removed ${list(a.runs).length} runs (${n} datasets)\n`);
          });
        },
      )
      .command(
        'prune-datasets <repo> [datasetTypes..]',
        'remove datasets (--purge: rows and files; --unstore: files only; --disassociate --tags T)',
        (a) =>
          withQuery(a)
            .positional('repo', { type: 'string', demandOption: true })
            .positional('datasetTypes', { type: 'string', array: true })
            .option('purge', { type: 'boolean', default: false })
            .option('unstore', { type: 'boolean', default: false })
            .option('disassociate', { type: 'boolean', default: false })
            .option('tags', { type: 'string', array: true }),
        async (a) => {
          if (!a.purge && !a.unstore && !a.disassociate)
            throw new CliError(
              'USAGE',
              'say what to do: --purge, --unstore or --disassociate --tags T',
              EXIT.usage,
            );
          await withButler(a.repo as string, async (b) => {
            const refs = await b.registry.queryDatasets(list(a.datasetTypes), {
              collections: list(a.collections),
              ...(a.where ? { where: a.where } : {}),
              bind: binds(a.bind),
            });
            await b.pruneDatasets(refs, {
              purge: a.purge,
              unstore: a.unstore,
              disassociate: a.disassociate,
              tags: list(a.tags),
            });
            process.stderr.write(`butler: pruned ${refs.length} datasets\n`);
          });
        },
      )
      .command(
        'check <repo>',
        'find files no dataset points to and temporary files of interrupted writes (--fix deletes them), and datasets whose file is missing',
        (a) =>
          a
            .positional('repo', { type: 'string', demandOption: true })
            .option('fix', { type: 'boolean', default: false })
            .option('min-age', {
              type: 'number',
              default: 0,
              describe:
                'only temporary files older than this many seconds (use on a live repository)',
            }),
        async (a) => {
          await withButler(a.repo as string, async (b) => {
            const r = await b.check({ fix: a.fix, tempMinAgeMs: a.minAge * 1000 });
            const rows = [
              ...r.orphans.map((f) => ({ problem: 'orphan file', path: f.path })),
              ...r.tempFiles.map((f) => ({ problem: 'temporary file', path: f.path })),
              ...r.missing.map((m) => ({
                problem: 'missing file',
                path: m.path,
                dataset: m.datasetId,
              })),
            ];
            print(a.json, r, rows);
            if (rows.length && !a.fix) code = EXIT.failed;
          });
        },
      )
      .command(
        'aggregate-graph <repo> <qgraph>',
        'register the outputs of quantum-backed jobs (run-qbb, gpu-job) of a graph in the registry (idempotent)',
        (a) =>
          a
            .positional('repo', { type: 'string', demandOption: true })
            .positional('qgraph', { type: 'string', demandOption: true })
            .option('register-dataset-types', { type: 'boolean', default: false }),
        async (a) => {
          // Self-contained block (owned by the graph/exec module): imported on use.
          const { aggregateGraph } = await import('../pipe/exec/aggregate.ts');
          await withButler(a.repo as string, async (b) => {
            const r = await aggregateGraph(b, a.qgraph as string, {
              registerDatasetTypes: a.registerDatasetTypes,
            });
            if (a.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
            process.stderr.write(
              `butler: registered ${r.datasets} datasets of ${r.quanta} quanta (${r.incomplete} quanta without complete outputs)\n`,
            );
          });
        },
      )
      .demandCommand(1, 'name a command (butler --help lists them)')
      .strict()
      .version(packageVersion())
      .epilog(
        'Exit codes: 0 ok, 1 failed (or check found problems), 2 usage (including malformed --where), 70 internal error.',
      )
      .fail(usageFailure('butler'))
      .parseAsync()
      .catch((e: unknown) => {
        // A malformed where-expression is a usage error: exit 2 with the caret message.
        if (e instanceof ExprError) throw new CliError(e.code, e.message, EXIT.usage);
        throw e;
      });
    return code;
  });
}
