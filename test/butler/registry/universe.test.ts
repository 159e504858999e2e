/** The dimensions universe: loading, dependencies, data-ID validation and expansion. */

import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  DataIdError,
  DimensionConfigError,
  DimensionUniverse,
  defaultDimensionsConfigPath,
  readDimensionsConfig,
  UnknownElementError,
} from '../../../src/butler/dimensions/index.ts';

const u = DimensionUniverse.load();

describe('dimensions universe', () => {
  it('loads configs/dimensions.yaml with its namespace, version and elements', () => {
    expect(defaultDimensionsConfigPath()).toMatch(/configs\/dimensions\.yaml$/);
    expect(u.namespace).toBe('gpu-drp');
    expect(u.version).toBe(1);
    expect(u.skypix).toEqual({ system: 'htm', level: 7 });
    expect(u.dimensionNames).toEqual([
      'instrument',
      'band',
      'physical_filter',
      'detector',
      'day_obs',
      'exposure',
      'visit',
      'skymap',
      'tract',
      'patch',
    ]);
    const vdr = u.element('visit_detector_region');
    expect(vdr.isDimension).toBe(false);
    expect(vdr.keyDimensions).toEqual(['instrument', 'detector', 'visit']);
    expect(vdr.regionColumn).toBe('region');
    const visit = u.element('visit');
    expect(visit.keyDimensions).toEqual(['instrument', 'visit']);
    expect(visit.columns.map((c) => `${c.name}:${c.type}:${c.role}`)).toEqual([
      'instrument:string:required',
      'id:int:key',
      'physical_filter:string:implied',
      'day_obs:int:implied',
      'exposure_time:float:field',
      'name:string:field',
      'datetime_begin:timestamp:field',
      'datetime_end:timestamp:field',
      'region:region:field',
    ]);
    expect(u.element('patch').keyDimensions).toEqual(['skymap', 'tract', 'patch']);
    expect(u.element('instrument').governor).toBe(true);
    expect(() => u.element('filter')).toThrow(UnknownElementError);
  });

  it('closes dimension sets in a stable order and splits required from implied', () => {
    expect(u.closure(['visit', 'detector'])).toEqual([
      'instrument',
      'band',
      'physical_filter',
      'detector',
      'day_obs',
      'visit',
    ]);
    expect(u.closure(['detector', 'visit'])).toEqual(
      u.closure(['visit', 'detector', 'instrument']),
    );
    expect(u.requiredOf(['visit', 'detector', 'band'])).toEqual([
      'instrument',
      'detector',
      'visit',
    ]);
    expect(u.impliedOf(['visit'])).toEqual(['band', 'physical_filter', 'day_obs']);
    expect(u.requiredOf(['patch', 'band'])).toEqual(['band', 'skymap', 'tract', 'patch']);
    expect(u.requiredOf(['physical_filter'])).toEqual(['instrument', 'physical_filter']);
    expect(u.closure(['band'])).toEqual(['band']);
    expect(u.spatialElementsOf(['visit', 'detector', 'patch']).map((e) => e.name)).toEqual([
      'visit_detector_region',
      'patch',
    ]);
    expect(u.spatialElementsOf(['visit', 'tract']).map((e) => e.name)).toEqual(['visit', 'tract']);
    expect(u.spatialElementsOf(['detector'])).toEqual([]);
    expect(() => u.closure(['visit_detector_region'])).toThrow(UnknownElementError);
  });

  it('validates data IDs with typed errors that name the keys', () => {
    const dims = ['instrument', 'visit', 'detector'];
    expect(u.validateDataId(dims, { detector: '3', visit: 12, instrument: 'Cam' })).toEqual({
      instrument: 'Cam',
      detector: 3,
      visit: 12,
    });
    const err = (f: () => unknown): DataIdError => {
      try {
        f();
      } catch (e) {
        if (e instanceof DataIdError) return e;
        throw e;
      }
      throw new Error('no error');
    };
    const missing = err(() => u.validateDataId(dims, { instrument: 'Cam' }));
    expect(missing.code).toBe('DATAID_MISSING_KEYS');
    expect(missing.keys).toEqual(['detector', 'visit']);
    expect(missing.message).toMatch(/lacks required keys 'detector', 'visit'/);
    const unknown = err(() =>
      u.validateDataId(dims, { instrument: 'Cam', visit: 1, detector: 1, ccd: 2 }),
    );
    expect(unknown.code).toBe('DATAID_UNKNOWN_KEYS');
    expect(unknown.keys).toEqual(['ccd']);
    const foreign = err(() =>
      u.validateDataId(dims, { instrument: 'Cam', visit: 1, detector: 1, tract: 2 }),
    );
    expect(foreign.keys).toEqual(['tract']);
    for (const v of [
      '../../etc',
      '1; DROP TABLE x',
      '1.5',
      1.5,
      Number.NaN,
      {},
      '12abc',
      2 ** 60,
    ]) {
      const e = err(() =>
        u.validateDataId(dims, { instrument: 'Cam', visit: v as never, detector: 1 }),
      );
      expect(e.code).toBe('DATAID_BAD_VALUE');
      expect(e.keys).toEqual(['visit']);
    }
    expect(
      err(() => u.validateDataId(dims, { instrument: 'a\u0000b', visit: 1, detector: 1 })).code,
    ).toBe('DATAID_BAD_VALUE');
    expect(
      err(() => u.validateDataId(dims, { instrument: 'x'.repeat(65), visit: 1, detector: 1 })).code,
    ).toBe('DATAID_BAD_VALUE');
    expect(u.normalizeDataId({ band: 'r', visit: '7' })).toEqual({ band: 'r', visit: 7 });
  });

  it('expands data IDs from records, checking records and implied values', () => {
    const records: Record<string, Record<string, Record<string, unknown>>> = {
      instrument: { '["Cam"]': { name: 'Cam' } },
      band: { '["r"]': { name: 'r' } },
      physical_filter: { '["Cam","r1"]': { instrument: 'Cam', name: 'r1', band: 'r' } },
      day_obs: { '["Cam",20260101]': {} },
      detector: { '["Cam",4]': {} },
      visit: { '["Cam",9]': { physical_filter: 'r1', day_obs: 20260101 } },
    };
    const lookup = (e: { name: string }, key: readonly unknown[]) =>
      records[e.name]?.[JSON.stringify(key)];
    expect(
      u.expandDataId(['visit', 'detector'], { instrument: 'Cam', visit: 9, detector: 4 }, lookup),
    ).toEqual({
      instrument: 'Cam',
      band: 'r',
      physical_filter: 'r1',
      detector: 4,
      day_obs: 20260101,
      visit: 9,
    });
    expect(() =>
      u.expandDataId(['visit'], { instrument: 'Cam', visit: 9, band: 'g' }, lookup),
    ).toThrow(/gives band="g" but the physical_filter record .* says band="r"/);
    expect(() =>
      u.expandDataId(['visit', 'detector'], { instrument: 'Cam', visit: 9, detector: 5 }, lookup),
    ).toThrow(/no detector record for \{instrument: "Cam", detector: 5\}/);
  });

  it('refuses broken configurations with the file and the problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dims-'));
    try {
      const base = readDimensionsConfig();
      const write = (cfg: unknown): string => {
        const p = join(dir, `d${Math.random()}.yaml`);
        writeFileSync(p, stringify(cfg));
        return p;
      };
      const later = structuredClone(base) as { elements: Record<string, Record<string, unknown>> };
      later.elements.instrument!.requires = ['skymap'];
      expect(() => DimensionUniverse.load(write(later))).toThrow(
        /'instrument' depends on 'skymap', which is not declared above it/,
      );
      const badType = structuredClone(base) as {
        elements: Record<string, { fields?: Array<{ type: string }> }>;
      };
      badType.elements.visit!.fields![0]!.type = 'double';
      expect(() => DimensionUniverse.load(write(badType))).toThrow(DimensionConfigError);
      const scope = structuredClone(base) as { elements: Record<string, Record<string, unknown>> };
      scope.elements.tract!.implies = ['physical_filter'];
      expect(() => DimensionUniverse.load(write(scope))).toThrow(/whose key needs instrument/);
      expect(() => DimensionUniverse.load(join(dir, 'missing.yaml'))).toThrow(
        /cannot read the file/,
      );
      writeFileSync(join(dir, 'bad.yaml'), 'elements: [');
      expect(() => DimensionUniverse.load(join(dir, 'bad.yaml'))).toThrow(/not valid YAML/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds configs/ from the compiled layout (dist/src/butler/dimensions) too', async () => {
    // Copy the module into a dist-like tree beside a configs/ directory and load it there.
    // Inside the checkout (tmp/ is git-ignored) so the copied module resolves yaml and zod.
    const repoTmp = new URL('../../../tmp/', import.meta.url).pathname;
    mkdirSync(repoTmp, { recursive: true });
    const root = mkdtempSync(join(repoTmp, 'dims-dist-'));
    try {
      const modDir = join(root, 'dist', 'src', 'butler', 'dimensions');
      mkdirSync(modDir, { recursive: true });
      mkdirSync(join(root, 'configs'));
      copyFileSync(defaultDimensionsConfigPath(), join(root, 'configs', 'dimensions.yaml'));
      const src = new URL('../../../src/butler/dimensions/config.ts', import.meta.url);
      copyFileSync(src, join(modDir, 'config.ts'));
      writeFileSync(
        join(modDir, 'errors.ts'),
        "export { DimensionConfigError } from '" +
          new URL('../../../src/butler/dimensions/errors.ts', import.meta.url).pathname +
          "';\n",
      );
      const mod = (await import(join(modDir, 'config.ts'))) as {
        defaultDimensionsConfigPath(): string;
      };
      expect(mod.defaultDimensionsConfigPath()).toBe(join(root, 'configs', 'dimensions.yaml'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
