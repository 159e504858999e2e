/**
 * The Hierarchical Triangular Mesh (Kunszt, Szalay & Thakar 2001, "The Hierarchical
 * Triangular Mesh", MPA/ESO/MPE Workshop): the sphere split into 8 spherical triangles
 * (trixels) at level 0, each split into 4 at every further level by its edge midpoints.
 *
 * Trixel ids follow the published scheme: root trixels S0..S3 = 8..11 and N0..N3 = 12..15;
 * the children of trixel `t` are `4t + k`, k = 0..3. A level-L id lies in [8 * 4^L, 16 * 4^L).
 * Level 7 (LSST's common skypix, `htm7`) has 131,072 trixels of about 0.6-0.9 degrees on a
 * side; the registry indexes every region by the level-7 trixels it touches.
 */

import { RegionError } from '../errors.ts';
import { type BoundingCap, ConvexPolygon, capsMayOverlap, type Region } from './regions.ts';
import { angleBetween, dot, fromRaDec, normalize, type Vec3 } from './vector.ts';

const V0: Vec3 = [0, 0, 1];
const V1: Vec3 = [1, 0, 0];
const V2: Vec3 = [0, 1, 0];
const V3: Vec3 = [-1, 0, 0];
const V4: Vec3 = [0, -1, 0];
const V5: Vec3 = [0, 0, -1];

/** Root trixels (id, vertices counter-clockwise). */
const ROOTS: ReadonlyArray<readonly [number, Vec3, Vec3, Vec3]> = [
  [8, V1, V5, V2],
  [9, V2, V5, V3],
  [10, V3, V5, V4],
  [11, V4, V5, V1],
  [12, V1, V0, V4],
  [13, V4, V0, V3],
  [14, V3, V0, V2],
  [15, V2, V0, V1],
];

function mid(a: Vec3, b: Vec3): Vec3 {
  return normalize([a[0] + b[0], a[1] + b[1], a[2] + b[2]]);
}

/** Children (k = 0..3) of the triangle (v0, v1, v2), counter-clockwise. */
function children(v0: Vec3, v1: Vec3, v2: Vec3): Array<readonly [Vec3, Vec3, Vec3]> {
  const w0 = mid(v1, v2);
  const w1 = mid(v0, v2);
  const w2 = mid(v0, v1);
  return [
    [v0, w2, w1],
    [v1, w0, w2],
    [v2, w1, w0],
    [w0, w1, w2],
  ];
}

function triangleContains(v0: Vec3, v1: Vec3, v2: Vec3, p: Vec3): boolean {
  const e = -1e-15;
  return (
    dot(crossFast(v0, v1), p) >= e &&
    dot(crossFast(v1, v2), p) >= e &&
    dot(crossFast(v2, v0), p) >= e
  );
}

function crossFast(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function triangleCap(v0: Vec3, v1: Vec3, v2: Vec3): BoundingCap {
  const c = normalize([v0[0] + v1[0] + v2[0], v0[1] + v1[1] + v2[1], v0[2] + v1[2] + v2[2]]);
  const m = Math.min(dot(c, v0), dot(c, v1), dot(c, v2));
  return { center: c, radius: Math.acos(Math.max(-1, Math.min(1, m))) + 1e-12 };
}

/** An HTM pixelization at one level. */
export class HtmPixelization {
  readonly level: number;

  constructor(level: number) {
    if (!Number.isInteger(level) || level < 0 || level > 20) {
      throw new RegionError(`HTM level must be an integer in [0, 20], got ${level}`);
    }
    this.level = level;
  }

  /** Smallest trixel id of this level (inclusive). */
  get minId(): number {
    return 8 * 4 ** this.level;
  }

  /** One past the largest trixel id of this level. */
  get maxId(): number {
    return 16 * 4 ** this.level;
  }

  /** Id of the trixel holding (ra, dec) degrees (points on shared edges go to one of them). */
  index(ra: number, dec: number): number {
    const p = fromRaDec(ra, dec);
    for (const [id, a, b, c] of ROOTS) {
      if (!triangleContains(a, b, c, p)) continue;
      let tri: readonly [Vec3, Vec3, Vec3] = [a, b, c];
      let tid = id;
      for (let l = 0; l < this.level; l++) {
        const kids = children(tri[0], tri[1], tri[2]);
        let k = kids.findIndex((t) => triangleContains(t[0], t[1], t[2], p));
        // Rounding at a shared edge can leave p in none of the children: take the nearest.
        if (k < 0) k = nearestChild(kids, p);
        tri = kids[k]!;
        tid = tid * 4 + k;
      }
      return tid;
    }
    throw new RegionError(
      `(ra, dec) = (${ra}, ${dec}) is in no HTM root trixel; is it a sky position?`,
    );
  }

  /** The trixel with this id (of any level) as a polygon. @throws RegionError */
  trixel(id: number): ConvexPolygon {
    if (!Number.isSafeInteger(id) || id < 8) throw new RegionError(`${id} is not an HTM trixel id`);
    const path: number[] = [];
    let t = id;
    while (t >= 16) {
      path.push(t % 4);
      t = Math.floor(t / 4);
    }
    const root = ROOTS.find((r) => r[0] === t)!;
    let tri: readonly [Vec3, Vec3, Vec3] = [root[1], root[2], root[3]];
    for (let i = path.length - 1; i >= 0; i--) tri = children(tri[0], tri[1], tri[2])[path[i]!]!;
    return ConvexPolygon.fromVectors(tri);
  }

  /**
   * Ids of the trixels of this level that the region overlaps (boundaries included), in
   * increasing order. Exact for polygons, circles, boxes and points.
   */
  envelope(region: Region): number[] {
    const out: number[] = [];
    const cap = region.cap;
    // Descend with cheap bounding-cap tests; test trixels exactly only at the target level.
    const visit = (node: TrixelNode, level: number): void => {
      if (!capsMayOverlap(node.cap, cap)) return;
      if (level === this.level) {
        if (this.trixelOverlaps(node, region)) out.push(node.id);
        return;
      }
      for (const child of this.childrenOf(node)) visit(child, level + 1);
    };
    for (const root of this.roots) visit(root, 0);
    return out.sort((x, y) => x - y);
  }

  /** Trixel geometry memo: regions of one survey reuse the same upper trixels. */
  private readonly nodes = new Map<number, TrixelNode[]>();
  private readonly roots: readonly TrixelNode[] = ROOTS.map(([id, a, b, c]) =>
    makeNode(id, a, b, c),
  );

  private childrenOf(node: TrixelNode): TrixelNode[] {
    let kids = this.nodes.get(node.id);
    if (!kids) {
      kids = children(node.v[0], node.v[1], node.v[2]).map((t, k) =>
        makeNode(node.id * 4 + k, t[0], t[1], t[2]),
      );
      // Bounded memo: the deepest level is never expanded, so at most 4^level entries.
      if (this.nodes.size < 200_000) this.nodes.set(node.id, kids);
    }
    return kids;
  }

  private trixelOverlaps(node: TrixelNode, region: Region): boolean {
    if (region.kind === 'point') return triangleContains(node.v[0], node.v[1], node.v[2], region.v);
    node.polygon ??= ConvexPolygon.fromTrustedVectors(node.v);
    return node.polygon.overlaps(region);
  }
}

interface TrixelNode {
  readonly id: number;
  readonly v: readonly [Vec3, Vec3, Vec3];
  readonly cap: BoundingCap;
  polygon?: ConvexPolygon;
}

function makeNode(id: number, a: Vec3, b: Vec3, c: Vec3): TrixelNode {
  return { id, v: [a, b, c], cap: triangleCap(a, b, c) };
}

function nearestChild(kids: Array<readonly [Vec3, Vec3, Vec3]>, p: Vec3): number {
  let best = 0;
  let bestD = Number.POSITIVE_INFINITY;
  kids.forEach((t, k) => {
    const d = angleBetween(triangleCap(t[0], t[1], t[2]).center, p);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  });
  return best;
}
