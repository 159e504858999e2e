/** Spherical regions, exact overlap tests, the HTM pixelization, and dataset-id generation. */

import { describe, expect, it } from 'vitest';
import {
  Circle,
  ConvexPolygon,
  convexHull,
  fromRaDec,
  HtmPixelization,
  LonLatBox,
  PointRegion,
  parseRegistryUrl,
  RegionError,
  redactUrl,
  uuid5,
  uuid7,
} from '../../../src/butler/registry/index.ts';
import { Xoshiro128 } from '../../../src/sim/index.ts';

function square(ra: number, dec: number, half: number): Array<[number, number]> {
  return [
    [ra - half, dec - half],
    [ra + half, dec - half],
    [ra + half, dec + half],
    [ra - half, dec + half],
  ];
}

function randomQuad(rng: Xoshiro128, ra: number, dec: number, size: number): ConvexPolygon {
  const pts: Array<[number, number]> = [];
  const phase = rng.uniform() * 2 * Math.PI;
  for (let k = 0; k < 4; k++) {
    const a = phase + (k * Math.PI) / 2 + (rng.uniform() - 0.5) * 0.6;
    pts.push([
      ra + (size * Math.cos(a)) / Math.cos((dec * Math.PI) / 180),
      dec + size * Math.sin(a),
    ]);
  }
  return ConvexPolygon.fromRaDec(pts);
}

describe('convex polygons', () => {
  it('accepts either orientation, stores counter-clockwise, and refuses non-convex shapes', () => {
    const ccw = ConvexPolygon.fromRaDec(square(10, 20, 1));
    const cw = ConvexPolygon.fromRaDec([...square(10, 20, 1)].reverse());
    expect(cw.toRaDec()[0]![0]).toBeCloseTo(9, 9);
    expect(ccw.contains(fromRaDec(10, 20))).toBe(true);
    expect(cw.contains(fromRaDec(10, 20))).toBe(true);
    expect(cw.contains(fromRaDec(12, 20))).toBe(false);
    // A closing vertex repeating the first is dropped.
    expect(ConvexPolygon.fromRaDec([...square(0, 0, 1), [-1, -1]]).vertices).toHaveLength(4);
    expect(() =>
      ConvexPolygon.fromRaDec([
        [0, 0],
        [2, 0],
        [1, 0.2],
        [2, 2],
        [0, 2],
      ]),
    ).toThrow(/not convex/);
    expect(() =>
      ConvexPolygon.fromRaDec([
        [0, 0],
        [1, 1],
      ]),
    ).toThrow(RegionError);
    expect(() =>
      ConvexPolygon.fromRaDec([
        [0, 95],
        [1, 1],
        [2, 2],
      ]),
    ).toThrow(/not a sky position/);
    // Across RA = 0 and at the pole.
    const wrap = ConvexPolygon.fromRaDec(square(0, 0, 0.5));
    expect(wrap.contains(fromRaDec(359.8, 0.1))).toBe(true);
    const polar = ConvexPolygon.fromRaDec([
      [0, 85],
      [90, 85],
      [180, 85],
      [270, 85],
    ]);
    expect(polar.contains(fromRaDec(123, 89.9))).toBe(true);
    expect(polar.contains(fromRaDec(123, 84))).toBe(false);
  });

  it('decides polygon overlaps like dense sampling does', () => {
    const rng = new Xoshiro128([11, 1]);
    let hits = 0;
    for (let i = 0; i < 300; i++) {
      const a = randomQuad(rng, 40, 30, 0.3);
      const b = randomQuad(
        rng,
        40 + (rng.uniform() - 0.5) * 1.6,
        30 + (rng.uniform() - 0.5) * 1.2,
        0.3,
      );
      // Sampling: points of a's interior (combinations of its vertices) inside b, or vice versa.
      let sampled = false;
      for (const [p, q] of [
        [a, b],
        [b, a],
      ] as const) {
        for (let s = 0; s < 400 && !sampled; s++) {
          const w = [rng.uniform(), rng.uniform(), rng.uniform(), rng.uniform()];
          const v = p.vertices.reduce(
            (acc, vert, k) =>
              [
                acc[0] + vert[0] * w[k]!,
                acc[1] + vert[1] * w[k]!,
                acc[2] + vert[2] * w[k]!,
              ] as const,
            [0, 0, 0] as const,
          );
          if (q.contains(v as [number, number, number])) sampled = true;
        }
      }
      const exact = a.overlaps(b);
      expect(exact).toBe(b.overlaps(a));
      // Sampling can miss thin overlaps but never invents one.
      if (sampled) expect(exact).toBe(true);
      if (exact) hits++;
    }
    expect(hits).toBeGreaterThan(30);
    expect(hits).toBeLessThan(290);
    // Crossing without any vertex inside the other (a plus sign).
    const wide = ConvexPolygon.fromRaDec([
      [0, -0.1],
      [2, -0.1],
      [2, 0.1],
      [0, 0.1],
    ]);
    const tall = ConvexPolygon.fromRaDec([
      [0.9, -1],
      [1.1, -1],
      [1.1, 1],
      [0.9, 1],
    ]);
    expect(wide.overlaps(tall)).toBe(true);
    expect(wide.vertices.some((v) => tall.contains(v))).toBe(false);
  });

  it('tests circles, boxes and points against polygons', () => {
    const sq = ConvexPolygon.fromRaDec(square(100, -30, 1));
    expect(sq.overlaps(new PointRegion(100.5, -30.5))).toBe(true);
    expect(sq.overlaps(new PointRegion(102, -30))).toBe(false);
    // Circle reaching an edge from outside: distance to the east edge at dec -30 is about
    // 1 deg of RA * cos(30) = 0.866 deg beyond the centre's offset.
    const east = 101 + 0.5;
    expect(sq.overlaps(new Circle(east, -30, 0.42))).toBe(false);
    expect(sq.overlaps(new Circle(east, -30, 0.45))).toBe(true);
    expect(sq.overlaps(new Circle(100, -30, 0.01))).toBe(true);
    expect(sq.overlaps(new LonLatBox(100, -30, 0.1, 0.1))).toBe(true);
    expect(sq.overlaps(new LonLatBox(100, -29.2, 4, 1))).toBe(true);
    // A band crossing the square with no corner inside either (edges cross a parallel).
    const band = new LonLatBox(100, -30, 4, 0.2);
    expect(band.corners().some((c) => sq.contains(c))).toBe(false);
    expect(sq.vertices.some((v) => band.contains(v))).toBe(false);
    expect(sq.overlaps(band)).toBe(true);
    // The top edge of the square (dec -29 at its corners) bows south of -29 between them.
    expect(sq.overlaps(new LonLatBox(100, -28.9, 1.5, 0.1))).toBe(false);
    expect(sq.overlaps(new LonLatBox(100, -27, 4, 1))).toBe(false);
    expect(sq.overlaps(new LonLatBox(100, -30, 10, 10))).toBe(true);
    // A box straddling RA = 0.
    expect(
      ConvexPolygon.fromRaDec(square(359.7, 0, 0.2)).overlaps(new LonLatBox(0.2, 0, 1, 1)),
    ).toBe(true);
    expect(() => new Circle(0, 0, -1)).toThrow(RegionError);
    expect(() => new LonLatBox(0, 0, 0, 1)).toThrow(RegionError);
  });

  it('builds convex hulls of point sets', () => {
    const pts: Array<[number, number]> = [
      ...square(50, 10, 1),
      [50, 10],
      [50.5, 10.2],
      [49.2, 9.5],
    ];
    const hull = convexHull(pts);
    expect(hull.vertices).toHaveLength(4);
    for (const [ra, dec] of pts) expect(hull.contains(fromRaDec(ra, dec))).toBe(true);
  });
});

describe('HTM pixelization', () => {
  const htm = new HtmPixelization(7);

  it('numbers trixels as the HTM scheme does', () => {
    expect(htm.minId).toBe(8 * 4 ** 7);
    expect(htm.maxId).toBe(16 * 4 ** 7);
    const level0 = new HtmPixelization(0);
    // Root trixels: S0..S3 = 8..11 (south), N0..N3 = 12..15 (north); N0 holds RA 0-90 north...
    expect(level0.index(45, 45)).toBeGreaterThanOrEqual(12);
    expect(level0.index(45, -45)).toBeLessThanOrEqual(11);
    expect(new Set([0, 90, 180, 270].map((ra) => level0.index(ra + 45, 30))).size).toBe(4);
    const id = htm.index(150.1, 2.1);
    expect(id).toBeGreaterThanOrEqual(htm.minId);
    expect(id).toBeLessThan(htm.maxId);
    expect(htm.trixel(id).contains(fromRaDec(150.1, 2.1))).toBe(true);
    // A parent trixel contains its children's points.
    expect(new HtmPixelization(5).index(150.1, 2.1)).toBe(Math.floor(id / 16));
  });

  it('covers every point of a region with its envelope, and only trixels that touch it', () => {
    const rng = new Xoshiro128([5, 2]);
    for (let i = 0; i < 20; i++) {
      const ra = rng.uniform() * 360;
      const dec = (rng.uniform() - 0.5) * 170;
      const poly = randomQuad(rng, ra, dec, 0.1 + rng.uniform() * 1.5);
      const env = htm.envelope(poly);
      const set = new Set(env);
      expect(env).toEqual([...env].sort((a, b) => a - b));
      for (let s = 0; s < 200; s++) {
        const w = [rng.uniform(), rng.uniform(), rng.uniform(), rng.uniform()];
        const v = poly.vertices.reduce(
          (acc, vert, k) =>
            [acc[0] + vert[0] * w[k]!, acc[1] + vert[1] * w[k]!, acc[2] + vert[2] * w[k]!] as [
              number,
              number,
              number,
            ],
          [0, 0, 0] as [number, number, number],
        );
        const n = Math.hypot(...v);
        const [x, y, z] = v.map((c) => c / n) as [number, number, number];
        const r = (Math.atan2(y, x) * 180) / Math.PI;
        const d = (Math.asin(z) * 180) / Math.PI;
        expect(set.has(htm.index(r, d))).toBe(true);
      }
      for (const t of env) expect(htm.trixel(t).overlaps(poly)).toBe(true);
    }
    // A CCD-sized region touches a handful of level-7 trixels; a circle of 1 degree dozens.
    expect(htm.envelope(ConvexPolygon.fromRaDec(square(150, 2, 0.1))).length).toBeLessThan(10);
    const circ = htm.envelope(new Circle(150, 2, 1));
    expect(circ.length).toBeGreaterThan(5);
    expect(circ.includes(htm.index(150, 2))).toBe(true);
    expect(htm.envelope(new PointRegion(150, 2))).toContain(htm.index(150, 2));
  });
});

describe('dataset ids and URLs', () => {
  it('makes RFC 9562 UUIDs', () => {
    // RFC 4122 appendix B test vector (DNS namespace).
    expect(uuid5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
    const t = Date.UTC(2026, 0, 2);
    const a = uuid7(t);
    const b = uuid7(t);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(a.replace(/-/g, '').slice(0, 12), 16)).toBe(t);
    expect(a < b).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, () => uuid7())).size).toBe(1000);
  });

  it('parses registry URLs and redacts passwords', () => {
    expect(parseRegistryUrl('sqlite::memory:')).toEqual({
      kind: 'sqlite',
      path: ':memory:',
      memory: true,
    });
    expect(parseRegistryUrl('sqlite:/data/repo/gpu_drp.sqlite3')).toEqual({
      kind: 'sqlite',
      path: '/data/repo/gpu_drp.sqlite3',
      memory: false,
    });
    expect(parseRegistryUrl('sqlite:///abs/x.db').kind).toBe('sqlite');
    expect(parseRegistryUrl('repo/gpu_drp.sqlite3')).toEqual({
      kind: 'sqlite',
      path: 'repo/gpu_drp.sqlite3',
      memory: false,
    });
    expect(parseRegistryUrl('postgresql://u@h:5432/db').kind).toBe('postgres');
    expect(() => parseRegistryUrl('mysql://root:hunter2@h/db')).toThrow(
      /mysql:\/\/root:\*\*\*@h\/db/,
    );
    expect(() => parseRegistryUrl('repo/registry')).toThrow(/cannot tell the database/);
    expect(redactUrl('postgres://alice:s3cret@db.example:5432/reg?sslmode=require')).toBe(
      'postgres://alice:***@db.example:5432/reg?sslmode=require',
    );
    expect(redactUrl('postgres://h/db?user=a&password=s3cret')).toBe(
      'postgres://h/db?user=a&password=***',
    );
    expect(redactUrl('postgres://alice@h/db')).toBe('postgres://alice@h/db');
  });
});
