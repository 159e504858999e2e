/**
 * A small WhereSchema for the tests: a few dimension elements with typed fields, columns
 * quoted as a registry would, and overlaps written as calls to a SQL function `sky_sep_deg`
 * (registered on the SQLite connection by the SQLite test) against stored centre positions.
 */

import type {
  ColumnType,
  RegionLiteral,
  ResolvedColumn,
  SqlFragment,
  WhereSchema,
} from '../../../src/butler/expr/index.ts';

/** element -> field -> [SQL column, type]; the key field is named after the element. */
const ELEMENTS: Readonly<Record<string, Readonly<Record<string, [string, ColumnType]>>>> = {
  instrument: { instrument: ['"instrument"."name"', 'string'] },
  band: { band: ['"visit"."band"', 'string'] },
  visit: {
    visit: ['"visit"."id"', 'int'],
    exposure_time: ['"visit"."exposure_time"', 'float'],
    day_obs: ['"visit"."day_obs"', 'int'],
    obs_start: ['"visit"."obs_start"', 'timestamp'],
    science_program: ['"visit"."science_program"', 'string'],
    is_good: ['"visit"."is_good"', 'bool'],
    region: ['"visit"."region"', 'region'],
  },
  detector: {
    detector: ['"detector"."id"', 'int'],
    full_name: ['"detector"."full_name"', 'string'],
    purpose: ['"detector"."purpose"', 'string'],
  },
  patch: {
    patch: ['"patch"."id"', 'int'],
    cell_x: ['"patch"."cell_x"', 'int'],
    region: ['"patch"."region"', 'region'],
  },
};

/** Elements whose region the fixture can test for overlap (centre ra/dec columns). */
const REGION_CENTRES: Readonly<Record<string, readonly [string, string]>> = {
  visit: ['"visit"."ra"', '"visit"."dec"'],
  patch: ['"patch"."ra"', '"patch"."dec"'],
};

/** The fixture schema; `overlapCalls` records every overlaps() request for assertions. */
export class FixtureSchema implements WhereSchema {
  readonly overlapCalls: { path: readonly string[]; region: RegionLiteral }[] = [];

  column(path: readonly string[]): ResolvedColumn | undefined {
    const [element, field, ...rest] = path;
    if (element === undefined || rest.length > 0) return undefined;
    const fields = ELEMENTS[element];
    if (fields === undefined) return undefined;
    const entry = fields[field ?? element];
    if (entry === undefined) return undefined;
    return { sql: entry[0], type: entry[1], element };
  }

  knownNames(): readonly string[] {
    const names: string[] = [];
    for (const [element, fields] of Object.entries(ELEMENTS)) {
      names.push(element);
      for (const field of Object.keys(fields)) {
        if (field !== element) names.push(`${element}.${field}`);
      }
    }
    return names;
  }

  overlaps(path: readonly string[], region: RegionLiteral): SqlFragment | undefined {
    const [element, field, ...rest] = path;
    if (element === undefined || rest.length > 0 || (field !== undefined && field !== 'region')) {
      return undefined;
    }
    const centre = REGION_CENTRES[element];
    if (centre === undefined) return undefined;
    this.overlapCalls.push({ path, region });
    const [ra, dec] = centre;
    // The fixture's regions are points at the centre; a region overlaps if it contains one.
    switch (region.kind) {
      case 'point':
        return { text: [`${ra} = `, ` AND ${dec} = `, ''], values: [region.ra, region.dec] };
      case 'circle':
        return {
          text: [`sky_sep_deg(${ra}, ${dec}, `, ', ', ') <= ', ''],
          values: [region.ra, region.dec, region.radius],
        };
      case 'box':
        return {
          text: [`${ra} BETWEEN `, ' AND ', ` AND ${dec} BETWEEN `, ' AND ', ''],
          values: [
            region.ra - region.width / 2,
            region.ra + region.width / 2,
            region.dec - region.height / 2,
            region.dec + region.height / 2,
          ],
        };
      case 'polygon':
        return {
          text: ['sky_in_polygon(', `, ${ra}, ${dec})`],
          values: [JSON.stringify(region.vertices)],
        };
    }
  }
}
