/**
 * File templates: LSST's default shape for common dataset types, optional fields,
 * fallbacks, run names with slashes, sanitization of hostile values, overrides and the
 * validation that refuses templates which cannot give unique paths.
 */

import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TEMPLATE,
  FileTemplate,
  FileTemplates,
  TemplateError,
  validateTemplate,
} from '../../../src/butler/datastore/index.ts';
import type { DataId, DatasetType } from '../../../src/butler/refs.ts';
import {
  CALEXP,
  CONFIG,
  DEEP_COADD,
  makeRef,
  RAW,
  SOURCE_TABLE,
  VISIT_DATA_ID,
} from './fixtures.ts';

const templates = new FileTemplates();
const pathOf = (dt: DatasetType, dataId: DataId, run = 'HSC/runs/RC2', t = templates): string =>
  t.pathFor(makeRef(dt, dataId, run));

function templateError(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateError);
    return e as TemplateError;
  }
  throw new Error('expected a TemplateError');
}

describe('default templates', () => {
  it('calexp: run directories, implied filter levels, every present value in the name', () => {
    expect(pathOf(CALEXP, VISIT_DATA_ID)).toBe(
      'HSC/runs/RC2/calexp/20240101/i/HSC-I/1228/calexp_HSC_i_HSC-I_1228_42_HSC_runs_RC2',
    );
  });

  it('deepCoadd: tract/patch/band levels, skymap in the name', () => {
    expect(
      pathOf(DEEP_COADD, { skymap: 'hsc_rings_v1', tract: 9813, patch: 40, band: 'r' }, 'coadds'),
    ).toBe('coadds/deepCoadd/9813/40/r/deepCoadd_9813_40_r_hsc_rings_v1_coadds');
  });

  it('visit-level table: no detector, optional fields vanish with their separators', () => {
    expect(
      pathOf(
        SOURCE_TABLE,
        { instrument: 'LSSTCam', visit: 7, band: 'g', physical_filter: 'g_6' },
        'r',
      ),
    ).toBe('r/sourceTable_visit/g/g_6/7/sourceTable_visit_LSSTCam_g_g_6_7_r');
  });

  it('dimensionless dataset (a task config): just run/type/name', () => {
    expect(pathOf(CONFIG, {}, 'run1')).toBe('run1/isr_config/isr_config_run1');
  });

  it('raw-like types (exposure + detector) use the day_obs/exposure layout', () => {
    const dataId = {
      instrument: 'LSSTCam',
      exposure: 2024010100123,
      detector: 94,
      physical_filter: 'r_57',
      band: 'r',
      day_obs: 20240101,
    };
    expect(pathOf(RAW, dataId, 'LSSTCam/raw/all')).toBe(
      'LSSTCam/raw/all/raw/20240101/2024010100123/raw_LSSTCam_r_57_2024010100123_94_LSSTCam_raw_all',
    );
  });

  it('component datasets get a .component directory and name part', () => {
    const wcs: DatasetType = { ...CALEXP, name: 'calexp.wcs' };
    expect(pathOf(wcs, VISIT_DATA_ID, 'run')).toBe(
      'run/calexp.wcs/20240101/i/HSC-I/1228/calexp_wcs_HSC_i_HSC-I_1228_42_run',
    );
  });
});

describe('template syntax', () => {
  const vals = { run: 'r', datasetType: 'd', a: 'A', b: 'B', n: 7 };

  it('optional fields drop the separator before them, keep directory levels', () => {
    expect(FileTemplate.parse('{run}/{x?}/{datasetType}_{x?}_{a}').format(vals)).toBe('r/d_A');
    expect(FileTemplate.parse('{run}/{x:?}-{a}').format(vals)).toBe('r/A');
    expect(FileTemplate.parse('{run}/{x?}_{a}_{run}').format(vals)).toBe('r/A_r');
  });

  it('fallbacks take the first present alternative', () => {
    expect(FileTemplate.parse('{run}/{x|b|a}').format(vals)).toBe('r/B');
    expect(FileTemplate.parse('{run}/{a|b}').format(vals)).toBe('r/A');
    expect(FileTemplate.parse('{run}/{datasetType}_{x|y?}').format(vals)).toBe('r/d');
    expect(() => FileTemplate.parse('{run}/{x|y}').format(vals)).toThrow(/x\|y/);
  });

  it('zero-padded widths', () => {
    expect(FileTemplate.parse('{run}/{n:05d}').format(vals)).toBe('r/00007');
    expect(FileTemplate.parse('{run}/{n:05d}').format({ ...vals, n: -7 })).toBe('r/-0007');
  });

  it('run names with slashes become directories, and underscores in the name', () => {
    const t = FileTemplate.parse('{run:/}/{datasetType}_{run}');
    expect(t.format({ ...vals, run: 'u/alice/run1' })).toBe('u/alice/run1/d_u_alice_run1');
    expect(t.format({ ...vals, run: '/u//alice/' })).toBe('u/alice/d__u__alice_');
  });

  it('a missing required value is a typed error naming the field', () => {
    const e = templateError(() => FileTemplate.parse('{run}/{visit}').format({ run: 'r' }));
    expect(e.code).toBe('DATASTORE_TEMPLATE_VALUE');
    expect(e.message).toMatch(/\{visit\}/);
  });

  it.each([
    ['{run}/{a', /unclosed/],
    ['{run}/a}', /unmatched/],
    ['/{run}/{a}', /relative/],
    ['{run}/../{a}', /'\.\.' path segments/],
    ['{run}/a b/{a}', /literal text/],
    ['{run}/{a b}', /not a field name/],
    ['{run}/{a:x}', /unknown format/],
    ['static/name', /no fields/],
    ['{run}/', /ends with \//],
  ])('refuses malformed template %s', (text, why) => {
    const e = templateError(() => FileTemplate.parse(text));
    expect(e.code).toBe('DATASTORE_BAD_TEMPLATE');
    expect(e.message).toMatch(why);
  });
});

describe('sanitization of data ID values', () => {
  const t = FileTemplate.parse('{run:/}/{datasetType}/{band}/{datasetType}_{band}_{run}');
  const fmt = (band: string, run = 'run') => t.format({ run, datasetType: 'calexp', band });

  it.each([
    ['../../etc/passwd', 'run/calexp/.._.._etc_passwd/calexp_______etc_passwd_run'],
    ['/abs', 'run/calexp/_abs/calexp__abs_run'],
    ['a b', 'run/calexp/a_b/calexp_a_b_run'],
    ['ñ💫x', 'run/calexp/__x/calexp___x_run'],
    ['..', 'run/calexp/__/calexp____run'],
    ['i;rm -rf ~', 'run/calexp/i_rm_-rf__/calexp_i_rm_-rf___run'],
  ])('value %j stays one safe segment', (band, expected) => {
    const p = fmt(band);
    expect(p).toBe(expected);
    expect(p.startsWith('/')).toBe(false);
    for (const seg of p.split('/')) {
      expect(seg).toMatch(/^[A-Za-z0-9._-]+$/);
      expect(['.', '..']).not.toContain(seg);
    }
  });

  it('hostile run names keep only safe directory levels', () => {
    expect(fmt('i', '../../etc')).toBe('__/__/etc/calexp/i/calexp_i_______etc');
    expect(fmt('i', '/abs/run')).toBe('abs/run/calexp/i/calexp_i__abs_run');
    expect(fmt('i', 'u/bob smith/ü')).toBe('u/bob_smith/_/calexp/i/calexp_i_u_bob_smith__');
  });

  it('dots cannot fake an extension in the file name', () => {
    expect(fmt('x.fits')).toBe('run/calexp/x.fits/calexp_x_fits_run');
  });

  it('over-long segments are refused', () => {
    const e = templateError(() => fmt('x'.repeat(300)));
    expect(e.code).toBe('DATASTORE_TEMPLATE_VALUE');
  });
});

describe('template validation', () => {
  it('accepts the defaults for the usual dataset types', () => {
    for (const dt of [CALEXP, DEEP_COADD, SOURCE_TABLE, CONFIG, RAW]) {
      expect(() => templates.validate(dt)).not.toThrow();
    }
  });

  it('refuses a template that omits a required dimension', () => {
    const e = templateError(() =>
      validateTemplate('{run}/{datasetType}/{visit}', ['instrument', 'visit', 'detector']),
    );
    expect(e.code).toBe('DATASTORE_TEMPLATE_NOT_UNIQUE');
    expect(e.message).toMatch(/instrument, detector/);
  });

  it('refuses a template without run, or without datasetType when shared', () => {
    expect(templateError(() => validateTemplate('{datasetType}/{visit}', ['visit'])).code).toBe(
      'DATASTORE_TEMPLATE_NOT_UNIQUE',
    );
    expect(
      templateError(() => validateTemplate('{run}/{visit?}/{run}', ['visit'])).message,
    ).toMatch(/datasetType/);
    expect(() =>
      validateTemplate('{run}/calexps/{visit}', ['visit'], { requireDatasetType: false }),
    ).not.toThrow();
  });

  it('implied dimensions need not appear; required fields must be fillable', () => {
    // band is implied by physical_filter; a template with physical_filter is unique.
    expect(() =>
      validateTemplate('{run}/{datasetType}_{physical_filter}', ['physical_filter', 'band']),
    ).not.toThrow();
    // ... and a template may require an implied value.
    expect(() =>
      validateTemplate('{run}/{datasetType}/{band}/{visit}_{instrument}', ['instrument', 'visit']),
    ).not.toThrow();
    const e = templateError(() =>
      validateTemplate('{run}/{datasetType}/{tract}/{visit}_{instrument}', ['instrument', 'visit']),
    );
    expect(e.code).toBe('DATASTORE_BAD_TEMPLATE');
    expect(e.message).toMatch(/tract/);
  });

  it('an {id} in the file name makes any template unique; in a directory it is refused', () => {
    expect(() => validateTemplate('{run}/{id}', ['instrument', 'visit'])).not.toThrow();
    expect(templateError(() => validateTemplate('{id}/{run}_{datasetType}', [])).code).toBe(
      'DATASTORE_BAD_TEMPLATE',
    );
  });

  it('overrides: dataset type > dimension set > storage class > default, validated on use', () => {
    const t = new FileTemplates({
      datasetTypes: { calexp: '{run}/calexps/{visit}/{instrument}_{detector}' },
      storageClasses: { ArrowAstropy: '{run}/tables/{datasetType}/{instrument}_{visit}' },
      dimensions: { 'tract+patch': '{run}/{datasetType}/t{tract}/p{patch}_{band?}_{skymap}' },
      default: `${DEFAULT_TEMPLATE}`,
    });
    expect(pathOf(CALEXP, VISIT_DATA_ID, 'r', t)).toBe('r/calexps/1228/HSC_42');
    expect(pathOf(SOURCE_TABLE, { instrument: 'HSC', visit: 3 }, 'r', t)).toBe(
      'r/tables/sourceTable_visit/HSC_3',
    );
    expect(pathOf(DEEP_COADD, { skymap: 's', tract: 1, patch: 2, band: 'g' }, 'r', t)).toBe(
      'r/deepCoadd/t1/p2_g_s',
    );
    const bad = new FileTemplates({ storageClasses: { ExposureF: '{run}/{datasetType}/{tract}' } });
    expect(
      templateError(() =>
        pathOf(DEEP_COADD, { skymap: 's', tract: 1, patch: 2, band: 'g' }, 'r', bad),
      ).code,
    ).toBe('DATASTORE_TEMPLATE_NOT_UNIQUE');
  });

  it('explicit components need a {component} field', () => {
    const ref = makeRef(CALEXP, VISIT_DATA_ID, 'r');
    expect(templates.pathFor(ref, 'wcs')).toBe(
      'r/calexp.wcs/20240101/i/HSC-I/1228/calexp_wcs_HSC_i_HSC-I_1228_42_r',
    );
    const t = new FileTemplates({
      datasetTypes: { calexp: '{run}/{visit}_{instrument}_{detector}' },
    });
    expect(templateError(() => t.pathFor(ref, 'wcs')).code).toBe('DATASTORE_TEMPLATE_NOT_UNIQUE');
  });

  it('malformed overrides are refused when the template set is built', () => {
    expect(() => new FileTemplates({ datasetTypes: { calexp: '{run}/../x/{visit}' } })).toThrow(
      TemplateError,
    );
  });
});
