/**
 * `gpu-bench size`: the facility sizing model from the command line. Reads the benchmark
 * records (--results), optional throughput overrides (--profile, JSON) and survey
 * overrides (--survey, JSON or YAML), sizes the facilities, and writes sizing.md,
 * sizing.svg and sizing.json (--out DIR; --tag T names them sizing-T.*), prints the
 * JSON result (--json) or a short summary on stdout.
 *
 * Errors are SizingError (code SIZING_*): the CLI wrapper prints them as one line and
 * exits 1.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { SizingError } from './errors.ts';
import { grouped, num } from './format.ts';
import { parseSizingInputs, type SizingResult, sizeFacilities } from './model.ts';
import { renderMarkdown } from './report.ts';
import { renderSvg } from './svg.ts';
import { applyProfile, loadThroughputs, type ThroughputSet } from './throughputs.ts';

const ROOT = fileURLToPath(
  new URL(import.meta.url.includes('/dist/') ? '../../../' : '../../', import.meta.url),
);

/** The repository's bench/results folder (default of --results). */
export const DEFAULT_RESULTS_DIR = join(ROOT, 'bench', 'results');

/** Options of {@link runSize} (the command's options, parsed). */
export interface SizeOptions {
  /** Folder of benchmark JSON records. */
  readonly results: string;
  /** Throughput profile JSON (overrides or adds devices). */
  readonly profile?: string | undefined;
  /** Survey/facility overrides, JSON or YAML. */
  readonly survey?: string | undefined;
  /** Release to size per facility (overrides the survey file's sizeFor). */
  readonly release?: string | undefined;
  /** Folder for sizing[-tag].md/.svg/.json; nothing written when absent. */
  readonly out?: string | undefined;
  /** Suffix of the output names: sizing-<tag>.* */
  readonly tag?: string | undefined;
}

/** What {@link runSize} produced. */
export interface SizeOutput {
  readonly result: SizingResult;
  readonly throughputs: ThroughputSet;
  readonly markdown: string;
  readonly svg: string;
  /** The JSON document (result + files read), as written to sizing.json. */
  readonly json: string;
  /** Paths written (empty without `out`). */
  readonly written: readonly string[];
}

/**
 * A path as shown in reports: relative to the repository root when inside it (so the
 * report does not depend on where it was run from), else absolute.
 */
export function displayPath(p: string): string {
  const abs = resolve(p);
  const rel = relative(ROOT, abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new SizingError(
      'SIZING_READ_FAILED',
      `cannot read the ${what} '${path}' (${(e as Error).message}); check the path`,
      { cause: e },
    );
  }
}

/** Parse a JSON file, or YAML for .yaml/.yml (YAML also accepts JSON). */
export function readDataFile(path: string, what: string): unknown {
  const text = readText(path, what);
  const yaml = ['.yaml', '.yml'].includes(extname(path).toLowerCase());
  try {
    return yaml ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new SizingError(
      'SIZING_READ_FAILED',
      `the ${what} '${path}' is not valid ${yaml ? 'YAML' : 'JSON'} (${(e as Error).message})`,
      { cause: e },
    );
  }
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Run the model as the command does, without printing. */
export function runSize(o: SizeOptions): SizeOutput {
  let overrides = o.survey ? readDataFile(o.survey, 'survey file') : {};
  if (o.release !== undefined) {
    overrides = {
      ...(typeof overrides === 'object' && overrides !== null && !Array.isArray(overrides)
        ? overrides
        : {}),
      sizeFor: o.release,
    };
  }
  const inputs = parseSizingInputs(
    overrides,
    o.survey ? `survey file ${o.survey}` : 'sizing inputs',
  );
  let throughputs = loadThroughputs(o.results);
  if (o.profile)
    throughputs = applyProfile(throughputs, readDataFile(o.profile, 'profile'), o.profile);
  const result = sizeFacilities(inputs, throughputs);
  const base = o.tag ? `sizing-${o.tag}` : 'sizing';
  const svg = renderSvg(result);
  const markdown = renderMarkdown(result, {
    svgFile: `${base}.svg`,
    resultsDir: displayPath(o.results),
    throughputs,
    surveyFile: o.survey ? displayPath(o.survey) : null,
    profileFile: o.profile ? displayPath(o.profile) : null,
  });
  const json = `${JSON.stringify(
    {
      model: 'gpu-drp sizing v1',
      files: throughputs.files,
      ignored: throughputs.ignored,
      ...result,
    },
    null,
    2,
  )}\n`;
  const written: string[] = [];
  if (o.out) {
    try {
      mkdirSync(o.out, { recursive: true });
      for (const [ext, text] of [
        ['md', markdown],
        ['svg', svg],
        ['json', json],
      ] as const) {
        const p = join(o.out, `${base}.${ext}`);
        writeAtomic(p, text);
        written.push(p);
      }
    } catch (e) {
      throw new SizingError(
        'SIZING_READ_FAILED',
        `cannot write the report under '${o.out}' (${(e as Error).message}); pick a writable --out folder`,
        { cause: e },
      );
    }
  }
  return { result, throughputs, markdown, svg, json, written };
}

/** A few lines for the terminal: devices per facility for the sized release and nightly. */
export function summaryText(r: SizingResult): string {
  const c = r.releases.find((x) => x.work.name === r.sizedRelease)!;
  const lines = [
    `${r.sizedRelease}: ${grouped(c.work.visits)} visits; devices needed per facility`,
  ];
  for (const d of r.devices) {
    if (d.kind === 'software-gpu') continue;
    const t = c.perDevice.find((x) => x.deviceId === d.id)!;
    const n = r.nightly.perDevice.find((x) => x.deviceId === d.id)!;
    const per = (rows: typeof r.facilities.release) =>
      rows
        .map((f) => `${f.name} ${grouped(f.devices.find((x) => x.deviceId === d.id)!.whole)}`)
        .join(', ');
    lines.push(
      `  ${d.label}${d.origin === 'projection' ? ' [projection]' : ''}: ${t.missing.length ? '>= ' : ''}${num(t.devices)} (${per(r.facilities.release)}); nightly ${n.missing.length ? '>= ' : ''}${num(n.devices)} (${per(r.facilities.nightly)})`,
    );
  }
  lines.push(
    `  LSST baseline cores: ${num(c.lsst.cores)} (${r.facilities.release.map((f) => `${f.name} ${grouped(f.lsstCores.whole)}`).join(', ')}); nightly ${num(r.nightly.lsst.cores)}`,
  );
  return `${lines.join('\n')}\n`;
}

/** Parsed arguments of `size`. */
export interface SizeArgs {
  readonly results: string;
  readonly profile: string | undefined;
  readonly survey: string | undefined;
  readonly release: string | undefined;
  readonly out: string | undefined;
  readonly tag: string | undefined;
  readonly json: boolean;
}

/**
 * The yargs command `size`. Register with `.command(sizeCommand)`; the handler throws
 * SizingError on bad input (exit 1 through the CLI wrapper).
 */
export const sizeCommand: CommandModule<object, SizeArgs> = {
  command: 'size',
  describe:
    'facility sizing: GPUs or CPU cores per facility for a data release and nightly keep-up, from bench/results',
  builder: (y: Argv<object>) =>
    y
      .option('results', {
        type: 'string',
        default: DEFAULT_RESULTS_DIR,
        defaultDescription: 'bench/results',
        describe: 'folder of benchmark JSON records',
      })
      .option('profile', {
        type: 'string',
        describe: 'throughput profile JSON (overrides or adds devices)',
      })
      .option('survey', { type: 'string', describe: 'survey/facility overrides, JSON or YAML' })
      .option('release', { type: 'string', describe: 'release sized per facility (default DR11)' })
      .option('out', { type: 'string', describe: 'write sizing.md, sizing.svg, sizing.json here' })
      .option('tag', { type: 'string', describe: 'name the outputs sizing-<tag>.*' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print the JSON result on stdout',
      }) as unknown as Argv<SizeArgs>,
  handler: (args: ArgumentsCamelCase<SizeArgs>) => {
    if (args.tag !== undefined && !/^[A-Za-z0-9._-]+$/.test(args.tag)) {
      throw new SizingError(
        'SIZING_BAD_INPUT',
        `--tag takes letters, digits, '.', '_' and '-' only, got '${args.tag}'`,
      );
    }
    const out = runSize({
      results: resolve(args.results),
      profile: args.profile,
      survey: args.survey,
      release: args.release,
      out: args.out,
      tag: args.tag,
    });
    for (const p of out.written) process.stderr.write(`gpu-bench size: wrote ${p}\n`);
    process.stdout.write(args.json ? out.json : summaryText(out.result));
  },
};
