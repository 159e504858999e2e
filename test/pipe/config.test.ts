import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  type ConfigOverride,
  configToJson,
  parseConfigFileOption,
  parseConfigJson,
  parseConfigOption,
  resolveConfig,
  substituteParameters,
  taskConfigSchema,
} from '../../src/pipe/index.ts';
import { AddNumbersTask, GatherSumsTask } from './test-tasks.ts';

const dir = mkdtempSync(join(tmpdir(), 'pipe-config-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function gather(overrides: ConfigOverride[] = []) {
  return resolveConfig(GatherSumsTask.ConfigSchema, GatherSumsTask.connections, overrides, {
    label: 'gather',
  });
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveConfig', () => {
  it('fills defaults, including the generated connections group', () => {
    const c = gather();
    expect(c).toEqual({
      statistic: 'SUM',
      doCount: true,
      weights: {},
      clip: { nSigma: 3, nIter: 2 },
      connections: { sums: 'visitSum', total: 'instrumentTotal', count: 'instrumentCount' },
    });
    const a = resolveConfig(AddNumbersTask.ConfigSchema, AddNumbersTask.connections);
    expect(a.connections).toEqual({
      a: 'numberA',
      b: 'numberB',
      sum: '{prefix}Sum',
      prefix: 'visit',
    });
  });

  it('deep-freezes the result', () => {
    const c = gather();
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.clip)).toBe(true);
    expect(Object.isFrozen(c.connections)).toBe(true);
    expect(() => {
      (c as { statistic: string }).statistic = 'MAX';
    }).toThrow(TypeError);
    expect(() => {
      (c.clip as { nSigma: number }).nSigma = 5;
    }).toThrow(TypeError);
    expect(c.clip.nSigma).toBe(3);
  });

  it('applies nested mappings, dotted keys and assignments', () => {
    const c = gather([
      { kind: 'values', values: { clip: { nSigma: 2.5 }, statistic: 'MEAN' }, source: 'a' },
      { kind: 'values', values: { 'clip.nIter': 4, 'weights.g': 0.5 }, source: 'b' },
      { kind: 'assign', key: 'weights', value: { r: 2 }, source: 'c' },
      { kind: 'assign', key: 'weights.i', value: 3, source: 'd' },
    ]);
    expect(c.clip).toEqual({ nSigma: 2.5, nIter: 4 });
    expect(c.statistic).toBe('MEAN');
    // assigning a record replaces it; later keys add to it
    expect(c.weights).toEqual({ r: 2, i: 3 });
  });

  it('applies overrides in order: pipeline < file < command line as given', () => {
    const file = join(dir, 'gather.yaml');
    writeFileSync(file, 'statistic: MAX\nclip:\n  nSigma: 4\n  nIter: 1\n');
    const pipelineBlock: ConfigOverride = {
      kind: 'values',
      values: { statistic: 'MEAN', 'clip.nSigma': 2, doCount: false },
      source: 'pipeline.yaml',
    };
    const cliFile = parseConfigFileOption(`gather:${file}`);
    const cliValue = parseConfigOption('gather:clip.nIter=7');
    const c = gather([pipelineBlock, cliFile.override, cliValue.override]);
    expect(c).toMatchObject({ statistic: 'MAX', doCount: false, clip: { nSigma: 4, nIter: 7 } });
    // the same command-line options in the other order: the file wins over -c
    const d = gather([pipelineBlock, cliValue.override, cliFile.override]);
    expect(d.clip.nIter).toBe(1);
  });

  it('reads JSON override files', () => {
    const file = join(dir, 'gather.json');
    writeFileSync(
      file,
      JSON.stringify({ 'clip.nSigma': 1.5, connections: { total: 'grandTotal' } }),
    );
    const c = gather([{ kind: 'file', path: 'gather.json', baseDir: dir }]);
    expect(c.clip.nSigma).toBe(1.5);
    expect(c.connections.total).toBe('grandTotal');
  });

  it('suggests the right key for an unknown one', () => {
    const e = configError(() =>
      gather([{ kind: 'assign', key: 'statistc', value: 'MAX', source: '-c gather:statistc=MAX' }]),
    );
    expect(e.code).toBe('PIPE_CONFIG');
    expect(e.key).toBe('statistc');
    expect(e.label).toBe('gather');
    expect(e.message).toContain("Did you mean 'statistic'?");
    expect(e.message).toContain('-c gather:statistc=MAX');
    const nested = configError(() =>
      gather([{ kind: 'values', values: { clip: { nSigm: 2 } }, source: 'p.yaml' }]),
    );
    expect(nested.key).toBe('clip.nSigm');
    expect(nested.message).toContain("Did you mean 'nSigma'?");
    expect(nested.message).toContain("Known keys of 'clip': nSigma, nIter");
    const conn = configError(() =>
      gather([{ kind: 'assign', key: 'connections.sum', value: 'x', source: 't' }]),
    );
    expect(conn.message).toContain("Did you mean 'sums'?");
  });

  it('refuses keys inside a value that is not a group', () => {
    const e = configError(() =>
      gather([{ kind: 'assign', key: 'statistic.x', value: 1, source: 't' }]),
    );
    expect(e.message).toContain("goes inside 'statistic', which is not a group");
  });

  it('refuses bad values, naming key and source', () => {
    const e = configError(() => gather([parseConfigOption('gather:statistic=MEDIAN').override]));
    expect(e.key).toBe('statistic');
    expect(e.source).toBe('-c gather:statistic=MEDIAN');
    expect(e.message).toContain('"SUM"|"MEAN"|"MAX"');
    const neg = configError(() =>
      gather([{ kind: 'values', values: { clip: { nSigma: -1 } }, source: 'f.yaml' }]),
    );
    expect(neg.key).toBe('clip.nSigma');
    expect(neg.message).toContain('(value from f.yaml)');
    const empty = configError(() =>
      gather([{ kind: 'assign', key: 'connections.total', value: '', source: 't' }]),
    );
    expect(empty.key).toBe('connections.total');
  });

  it('refuses values JSON cannot hold', () => {
    const schema = z.object({ x: z.unknown().default(1) });
    const e = configError(() =>
      resolveConfig(schema, GatherSumsTask.connections, [
        { kind: 'assign', key: 'x', value: Number.POSITIVE_INFINITY, source: 't' },
      ]),
    );
    expect(e.message).toContain('JSON cannot hold');
    const m = configError(() =>
      resolveConfig(schema, GatherSumsTask.connections, [
        { kind: 'assign', key: 'x', value: new Map(), source: 't' },
      ]),
    );
    expect(m.message).toContain('holds a Map');
    // zod itself refuses non-finite numbers in number fields
    expect(() =>
      resolveConfig(z.object({ y: z.number().default(1) }), GatherSumsTask.connections, [
        { kind: 'assign', key: 'y', value: Number.NaN, source: 't' },
      ]),
    ).toThrow(ConfigError);
  });

  it('reports unreadable and malformed files', () => {
    expect(
      configError(() => gather([{ kind: 'file', path: join(dir, 'nope.yaml') }])).message,
    ).toContain('ENOENT');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'a: [1, 2\n');
    expect(configError(() => gather([{ kind: 'file', path: bad }])).message).toContain(
      'not valid YAML',
    );
    const list = join(dir, 'list.yaml');
    writeFileSync(list, '- 1\n- 2\n');
    expect(configError(() => gather([{ kind: 'file', path: list }])).message).toContain(
      'must hold a mapping',
    );
  });

  it('refuses a task schema that declares connections itself', () => {
    expect(() =>
      taskConfigSchema(z.object({ connections: z.string() }), GatherSumsTask.connections),
    ).toThrow(ConfigError);
  });
});

describe('-c and -C options', () => {
  it('parse values as YAML', () => {
    const v = (s: string) => {
      const o = parseConfigOption(`t:k=${s}`).override;
      if (o.kind !== 'assign') throw new Error('not an assignment');
      return o.value;
    };
    expect(v('3')).toBe(3);
    expect(v('2.5e-1')).toBe(0.25);
    expect(v('true')).toBe(true);
    expect(v('null')).toBeNull();
    expect(v('[1, 2, 3]')).toEqual([1, 2, 3]);
    expect(v("'007'")).toBe('007');
    expect(v('MEANCLIP')).toBe('MEANCLIP');
    expect(v('')).toBe('');
    const o = parseConfigOption('assembleCoadd:stack.clip.nSigma=2');
    expect(o.label).toBe('assembleCoadd');
    expect(o.override).toMatchObject({ kind: 'assign', key: 'stack.clip.nSigma', value: 2 });
  });

  it('refuse malformed options', () => {
    expect(() => parseConfigOption('statistic=MAX')).toThrow(/label:key=value/);
    expect(() => parseConfigOption('gather:statistic')).toThrow(/label:key=value/);
    expect(() => parseConfigOption('gather:=3')).toThrow(/no key/);
    expect(() => parseConfigOption('gather:x=[1, 2')).toThrow(/not valid YAML/);
    expect(() => parseConfigFileOption('gather')).toThrow(/label:file/);
    expect(parseConfigFileOption('gather:a/b.yaml', '/base').override).toEqual({
      kind: 'file',
      path: 'a/b.yaml',
      baseDir: '/base',
    });
  });
});

describe('config JSON (the <label>_config dataset)', () => {
  it('round-trips', () => {
    const c = gather([
      {
        kind: 'values',
        values: { statistic: 'MAX', weights: { g: 1 }, 'connections.total': 't2' },
        source: 's',
      },
    ]);
    const text = configToJson(c);
    expect(JSON.parse(text)).toEqual(c);
    const back = parseConfigJson(text, GatherSumsTask.ConfigSchema, GatherSumsTask.connections, {
      label: 'gather',
    });
    expect(back).toEqual(c);
    expect(Object.isFrozen(back)).toBe(true);
  });

  it('refuses JSON with unknown fields', () => {
    expect(() =>
      parseConfigJson(
        '{"statistics": "MAX"}',
        GatherSumsTask.ConfigSchema,
        GatherSumsTask.connections,
      ),
    ).toThrow(/Did you mean 'statistic'/);
    expect(() =>
      parseConfigJson('[1]', GatherSumsTask.ConfigSchema, GatherSumsTask.connections),
    ).toThrow(ConfigError);
  });
});

describe('parameter substitution', () => {
  it('replaces exact parameters.<name> strings at any depth', () => {
    const out = substituteParameters(
      {
        a: 'parameters.scale',
        b: ['parameters.band', 'x'],
        c: { d: 'parameters.scale' },
        e: 'not parameters.scale',
      },
      { scale: 2, band: 'r' },
      { label: 't', source: 's' },
    );
    expect(out).toEqual({ a: 2, b: ['r', 'x'], c: { d: 2 }, e: 'not parameters.scale' });
  });

  it('refuses unknown parameters with a suggestion', () => {
    expect(() =>
      substituteParameters('parameters.scal', { scale: 2 }, { label: 'add', source: 'p.yaml' }),
    ).toThrow(/parameter 'scal'.*Did you mean 'scale'/);
  });
});
