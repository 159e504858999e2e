/**
 * Sky regions and exact overlap tests on the sphere: convex spherical polygons (the
 * regions stored in dimension records), circles, longitude/latitude boxes and points (the
 * region literals of where-clauses). Angles are degrees in the API; computations use unit
 * vectors in float64.
 *
 * A convex polygon's edges are great-circle arcs; vertices are stored counter-clockwise as
 * seen from outside the sphere (the interior lies to the left of each edge, i.e.
 * `dot(cross(v[i], v[i+1]), p) >= 0` for interior points p). Construction accepts either
 * orientation and reverses clockwise input. Boundaries count as inside: regions that only
 * touch overlap.
 */

import { RegionError } from '../errors.ts';
import {
  angleBetween,
  cross,
  dot,
  fromRaDec,
  negate,
  norm,
  normalize,
  toRaDec,
  type Vec3,
} from './vector.ts';

/** Tolerance of the side-of-plane tests (dot products of unit vectors; ~2e-9 arcsec). */
const EPS = 1e-14;
const RAD = Math.PI / 180;

/** A region literal of the where-language (same shape as src/butler/expr's RegionLiteral). */
export type RegionLiteralLike =
  | { readonly kind: 'point'; readonly ra: number; readonly dec: number }
  | { readonly kind: 'circle'; readonly ra: number; readonly dec: number; readonly radius: number }
  | {
      readonly kind: 'box';
      readonly ra: number;
      readonly dec: number;
      readonly width: number;
      readonly height: number;
    }
  | { readonly kind: 'polygon'; readonly vertices: ReadonlyArray<readonly [number, number]> };

/** A bounding cap: every point of the region is within `radius` radians of `center`. */
export interface BoundingCap {
  readonly center: Vec3;
  /** Radians; Math.PI when no useful bound exists. */
  readonly radius: number;
}

/** Any region the registry understands. */
export type Region = ConvexPolygon | Circle | LonLatBox | PointRegion;

function checkRaDec(ra: number, dec: number, what: string): void {
  if (!Number.isFinite(ra) || !Number.isFinite(dec) || Math.abs(dec) > 90) {
    throw new RegionError(
      `${what}: (ra, dec) = (${ra}, ${dec}) is not a sky position; give degrees with dec in [-90, 90]`,
    );
  }
}

/** A point on the sky. */
export class PointRegion {
  readonly kind = 'point' as const;
  readonly v: Vec3;
  constructor(ra: number, dec: number) {
    checkRaDec(ra, dec, 'POINT');
    this.v = fromRaDec(ra, dec);
  }
  get cap(): BoundingCap {
    return { center: this.v, radius: 0 };
  }
}

/** A circle (spherical cap) of `radius` degrees around (ra, dec). */
export class Circle {
  readonly kind = 'circle' as const;
  readonly center: Vec3;
  /** Radius, radians. */
  readonly radius: number;
  constructor(ra: number, dec: number, radiusDeg: number) {
    checkRaDec(ra, dec, 'CIRCLE');
    if (!Number.isFinite(radiusDeg) || radiusDeg < 0 || radiusDeg > 180) {
      throw new RegionError(`CIRCLE radius must be in [0, 180] degrees, got ${radiusDeg}`);
    }
    this.center = fromRaDec(ra, dec);
    this.radius = radiusDeg * RAD;
  }
  get cap(): BoundingCap {
    return { center: this.center, radius: this.radius };
  }
  contains(v: Vec3): boolean {
    return angleBetween(this.center, v) <= this.radius + EPS;
  }
}

/**
 * A longitude/latitude box: RA within `halfWidth` degrees of `raCenter` (wrapping at 0/360),
 * dec in [decMin, decMax]. Built from `BOX(ra, dec, width, height)`: width and height are the
 * full extents in degrees of RA and of dec around the centre.
 */
export class LonLatBox {
  readonly kind = 'box' as const;
  readonly raCenter: number;
  readonly halfWidth: number;
  readonly decMin: number;
  readonly decMax: number;
  constructor(ra: number, dec: number, width: number, height: number) {
    checkRaDec(ra, dec, 'BOX');
    if (!(Number.isFinite(width) && width > 0) || !(Number.isFinite(height) && height > 0)) {
      throw new RegionError(
        `BOX width and height must be positive degrees, got ${width} x ${height}`,
      );
    }
    this.raCenter = ((ra % 360) + 360) % 360;
    this.halfWidth = Math.min(180, width / 2);
    this.decMin = Math.max(-90, dec - height / 2);
    this.decMax = Math.min(90, dec + height / 2);
  }
  get cap(): BoundingCap {
    if (this.halfWidth >= 90) return { center: fromRaDec(this.raCenter, 0), radius: Math.PI };
    // Along a meridian segment or a parallel arc of the box, the distance to the centre
    // peaks at an end, so the corners (and a pole the box reaches) bound it.
    const center = fromRaDec(this.raCenter, (this.decMin + this.decMax) / 2);
    const far = [...this.corners()];
    if (this.decMax >= 90) far.push([0, 0, 1]);
    if (this.decMin <= -90) far.push([0, 0, -1]);
    let radius = 0;
    for (const v of far) radius = Math.max(radius, angleBetween(center, v));
    return { center, radius: radius + 1e-12 };
  }
  /** True when (ra, dec) degrees is inside (boundary included). */
  containsRaDec(ra: number, dec: number): boolean {
    const tol = 1e-10;
    if (dec < this.decMin - tol || dec > this.decMax + tol) return false;
    if (this.halfWidth >= 180 || Math.abs(dec) >= 90 - 1e-12) return true;
    return Math.abs(wrap180(ra - this.raCenter)) <= this.halfWidth + tol;
  }
  contains(v: Vec3): boolean {
    const [ra, dec] = toRaDec(v);
    return this.containsRaDec(ra, dec);
  }
  /** The four corners (unit vectors), counter-clockwise from (west, south). */
  corners(): Vec3[] {
    const w = this.raCenter - this.halfWidth;
    const e = this.raCenter + this.halfWidth;
    return [
      fromRaDec(w, this.decMin),
      fromRaDec(e, this.decMin),
      fromRaDec(e, this.decMax),
      fromRaDec(w, this.decMax),
    ];
  }
  /** Meridian edges as great-circle arcs, each split at its middle (so every arc < 180 deg). */
  meridianArcs(): Array<readonly [Vec3, Vec3]> {
    if (this.halfWidth >= 180) return [];
    const mid = (this.decMin + this.decMax) / 2;
    const out: Array<readonly [Vec3, Vec3]> = [];
    for (const ra of [this.raCenter - this.halfWidth, this.raCenter + this.halfWidth]) {
      const a = fromRaDec(ra, this.decMin);
      const m = fromRaDec(ra, mid);
      const b = fromRaDec(ra, this.decMax);
      out.push([a, m], [m, b]);
    }
    return out;
  }
}

/** Squared chord length between two vectors. */
function distance2(a: Vec3, b: Vec3): number {
  const dx = a[0] - b[0];
  const dy = a[1] - b[1];
  const dz = a[2] - b[2];
  return dx * dx + dy * dy + dz * dz;
}

/** Angle wrapped into [-180, 180). */
function wrap180(a: number): number {
  return ((((a + 180) % 360) + 360) % 360) - 180;
}

/** A convex spherical polygon with great-circle edges (see the module comment). */
export class ConvexPolygon {
  readonly kind = 'polygon' as const;
  /** Vertices, counter-clockwise (interior to the left of each edge). */
  readonly vertices: readonly Vec3[];
  /** Unit normals of the edges: `normalize(cross(v[i], v[i+1]))`; interior has dot >= 0. */
  readonly normals: readonly Vec3[];
  readonly cap: BoundingCap;

  private constructor(vertices: Vec3[], normals: Vec3[], cap: BoundingCap) {
    this.vertices = vertices;
    this.normals = normals;
    this.cap = cap;
  }

  /**
   * A polygon from (ra, dec) vertices in degrees, either orientation. A repeated closing
   * vertex and repeated consecutive vertices are dropped.
   *
   * @throws RegionError for fewer than 3 distinct vertices, non-convex or degenerate shapes.
   */
  static fromRaDec(vertices: ReadonlyArray<readonly [number, number]>): ConvexPolygon {
    if (!Array.isArray(vertices)) {
      throw new RegionError('a polygon region must be a list of [ra, dec] vertices in degrees');
    }
    const vs: Vec3[] = [];
    for (const p of vertices) {
      if (!Array.isArray(p) || p.length !== 2) {
        throw new RegionError('each polygon vertex must be an [ra, dec] pair in degrees');
      }
      const [ra, dec] = p as unknown as readonly [number, number];
      checkRaDec(ra, dec, 'polygon vertex');
      vs.push(fromRaDec(ra, dec));
    }
    return ConvexPolygon.fromVectors(vs);
  }

  /** A polygon from unit vectors (either orientation). @throws RegionError */
  static fromVectors(input: readonly Vec3[]): ConvexPolygon {
    const vs: Vec3[] = [];
    for (const v of input) {
      const u = normalize(v);
      const prev = vs[vs.length - 1];
      if (prev && distance2(prev, u) < 1e-24) continue;
      vs.push(u);
    }
    while (vs.length > 1 && distance2(vs[0]!, vs[vs.length - 1]!) < 1e-24) vs.pop();
    if (vs.length < 3) {
      throw new RegionError(
        `a polygon needs at least 3 distinct vertices, got ${vs.length}; give [ra, dec] corners in degrees`,
      );
    }
    let sum: Vec3 = [0, 0, 0];
    for (const v of vs) sum = [sum[0] + v[0], sum[1] + v[1], sum[2] + v[2]];
    const center = normalize(sum);
    if (norm(sum) < 1e-9) {
      throw new RegionError('polygon vertices surround the whole sphere; regions must be convex');
    }
    let turn = 0;
    for (let i = 0; i < vs.length; i++)
      turn += dot(cross(vs[i]!, vs[(i + 1) % vs.length]!), center);
    if (turn < 0) vs.reverse();
    const normals: Vec3[] = [];
    for (let i = 0; i < vs.length; i++) {
      const c = cross(vs[i]!, vs[(i + 1) % vs.length]!);
      if (norm(c) < 1e-15) {
        throw new RegionError('polygon has antipodal or coincident consecutive vertices');
      }
      normals.push(normalize(c));
    }
    for (let i = 0; i < normals.length; i++) {
      for (let k = 0; k < vs.length; k++) {
        // 1e-10 rad = 2e-5 arcsec: rounding on short edges, not a real concavity.
        if (dot(normals[i]!, vs[k]!) < -1e-10) {
          const [ra, dec] = toRaDec(vs[k]!);
          throw new RegionError(
            `polygon is not convex (vertex ${ra.toFixed(6)}, ${dec.toFixed(6)} lies outside edge ${i}); ` +
              'regions must be convex polygons with vertices in order around the boundary',
          );
        }
      }
    }
    let radius = 0;
    for (const v of vs) radius = Math.max(radius, angleBetween(center, v));
    // A convex polygon lies in the cap through its farthest vertex when that cap is under a
    // hemisphere (the distance to the centre along an edge peaks at an end point).
    const cap = { center, radius: radius < Math.PI / 2 ? radius + 1e-12 : Math.PI };
    return new ConvexPolygon(vs, normals, cap);
  }

  /**
   * A polygon from unit vectors already known to be counter-clockwise and convex (HTM
   * trixels); skips validation.
   */
  static fromTrustedVectors(vs: readonly Vec3[]): ConvexPolygon {
    const n = vs.length;
    const normals: Vec3[] = [];
    let sx = 0;
    let sy = 0;
    let sz = 0;
    for (let i = 0; i < n; i++) {
      const a = vs[i]!;
      normals.push(normalize(cross(a, vs[(i + 1) % n]!)));
      sx += a[0];
      sy += a[1];
      sz += a[2];
    }
    const center = normalize([sx, sy, sz]);
    let minDot = 1;
    for (const v of vs) minDot = Math.min(minDot, dot(center, v));
    const radius = Math.acos(Math.max(-1, Math.min(1, minDot)));
    const cap = { center, radius: radius < Math.PI / 2 ? radius + 1e-12 : Math.PI };
    return new ConvexPolygon([...vs], normals, cap);
  }

  /** Vertices as [ra, dec] degrees, counter-clockwise. */
  toRaDec(): Array<[number, number]> {
    return this.vertices.map((v) => toRaDec(v));
  }

  /** True when the unit vector v is inside or on the boundary. */
  contains(v: Vec3): boolean {
    for (const n of this.normals) if (dot(n, v) < -EPS) return false;
    return true;
  }

  /** True when this polygon and `region` share at least one point. */
  overlaps(region: Region): boolean {
    if (!capsMayOverlap(this.cap, region.cap)) return false;
    switch (region.kind) {
      case 'point':
        return this.contains(region.v);
      case 'circle':
        return this.overlapsCircle(region);
      case 'box':
        return this.overlapsBox(region);
      case 'polygon':
        return this.overlapsPolygon(region);
    }
  }

  private overlapsPolygon(other: ConvexPolygon): boolean {
    // Separating planes first (cheap, and decides most disjoint pairs): convex polygons in a
    // common hemisphere are disjoint exactly when an edge plane of one has the other wholly
    // outside. The exact tests below settle the rest.
    if (separatedBy(this.normals, other.vertices) || separatedBy(other.normals, this.vertices)) {
      return false;
    }
    for (const v of other.vertices) if (this.contains(v)) return true;
    for (const v of this.vertices) if (other.contains(v)) return true;
    const n = this.vertices.length;
    const m = other.vertices.length;
    for (let i = 0; i < n; i++) {
      const a = this.vertices[i]!;
      const b = this.vertices[(i + 1) % n]!;
      for (let j = 0; j < m; j++) {
        if (
          arcsCross(
            a,
            b,
            this.normals[i]!,
            other.vertices[j]!,
            other.vertices[(j + 1) % m]!,
            other.normals[j]!,
          )
        ) {
          return true;
        }
      }
    }
    return false;
  }

  private overlapsCircle(c: Circle): boolean {
    if (this.contains(c.center)) return true;
    // Wholly beyond one edge's plane: disjoint.
    const sinR = c.radius < Math.PI / 2 ? Math.sin(c.radius) : 1;
    for (const nrm of this.normals) if (dot(nrm, c.center) < -sinR - EPS) return false;
    const n = this.vertices.length;
    for (let i = 0; i < n; i++) {
      const d = distanceToArc(
        c.center,
        this.vertices[i]!,
        this.vertices[(i + 1) % n]!,
        this.normals[i]!,
      );
      if (d <= c.radius + EPS) return true;
    }
    return false;
  }

  private overlapsBox(box: LonLatBox): boolean {
    for (const v of this.vertices) if (box.contains(v)) return true;
    for (const v of box.corners()) if (this.contains(v)) return true;
    const n = this.vertices.length;
    for (let i = 0; i < n; i++) {
      const a = this.vertices[i]!;
      const b = this.vertices[(i + 1) % n]!;
      const na = this.normals[i]!;
      for (const [c, d] of box.meridianArcs()) {
        const nc = cross(c, d);
        if (norm(nc) > 0 && arcsCross(a, b, na, c, d, normalize(nc))) return true;
      }
      for (const dec of [box.decMin, box.decMax]) {
        if (Math.abs(dec) >= 90) continue;
        for (const p of arcParallelCrossings(a, b, dec)) {
          const [ra] = toRaDec(p);
          if (box.containsRaDec(ra, dec)) return true;
        }
      }
    }
    return false;
  }
}

/** True when some plane (unit normal) has every vertex strictly on its outer side. */
function separatedBy(normals: readonly Vec3[], vertices: readonly Vec3[]): boolean {
  for (const n of normals) {
    let allOut = true;
    for (const v of vertices) {
      if (n[0] * v[0] + n[1] * v[1] + n[2] * v[2] >= -EPS) {
        allOut = false;
        break;
      }
    }
    if (allOut) return true;
  }
  return false;
}

/** False when two bounding caps are certainly disjoint. */
export function capsMayOverlap(a: BoundingCap, b: BoundingCap): boolean {
  const r = a.radius + b.radius + 1e-12;
  if (r >= Math.PI) return true;
  return dot(a.center, b.center) >= Math.cos(r);
}

/** True when p (on the great circle with unit normal n) lies on the short arc a -> b. */
function onArc(p: Vec3, a: Vec3, b: Vec3, n: Vec3): boolean {
  return dot(cross(a, p), n) >= -EPS && dot(cross(p, b), n) >= -EPS;
}

/** True when the great-circle arcs a->b and c->d (unit normals na, nc) share a point. */
function arcsCross(a: Vec3, b: Vec3, na: Vec3, c: Vec3, d: Vec3, nc: Vec3): boolean {
  const t = cross(na, nc);
  const tn = norm(t);
  // Arcs on one great circle: any overlap puts an end point of one on the other, which the
  // vertex containment tests of the callers see.
  if (tn < 1e-15) return false;
  const p = normalize(t);
  if (onArc(p, a, b, na) && onArc(p, c, d, nc)) return true;
  const q = negate(p);
  return onArc(q, a, b, na) && onArc(q, c, d, nc);
}

/** Angular distance (radians) from p to the arc a->b whose plane has unit normal n. */
function distanceToArc(p: Vec3, a: Vec3, b: Vec3, n: Vec3): number {
  const pn = dot(p, n);
  const q: Vec3 = [p[0] - n[0] * pn, p[1] - n[1] * pn, p[2] - n[2] * pn];
  if (norm(q) > 1e-15) {
    const qh = normalize(q);
    if (onArc(qh, a, b, n)) return Math.asin(Math.min(1, Math.abs(pn)));
  }
  return Math.min(angleBetween(p, a), angleBetween(p, b));
}

/** Points where the short great-circle arc a->b crosses the parallel at `decDeg`. */
function arcParallelCrossings(a: Vec3, b: Vec3, decDeg: number): Vec3[] {
  const theta = angleBetween(a, b);
  if (theta < 1e-15) return [];
  // u: unit vector in the arc's plane, perpendicular to a, toward b.
  const ab = dot(a, b);
  const u = normalize([b[0] - a[0] * ab, b[1] - a[1] * ab, b[2] - a[2] * ab]);
  // z(t) = a_z cos t + u_z sin t = R cos(t - phi)
  const r = Math.hypot(a[2], u[2]);
  const s = Math.sin(decDeg * RAD);
  if (r < 1e-15 || Math.abs(s) > r) return [];
  const phi = Math.atan2(u[2], a[2]);
  const delta = Math.acos(Math.max(-1, Math.min(1, s / r)));
  const out: Vec3[] = [];
  for (const t0 of [phi + delta, phi - delta]) {
    let t = t0 % (2 * Math.PI);
    if (t < 0) t += 2 * Math.PI;
    if (t > 2 * Math.PI - 1e-12) t = 0;
    if (t <= theta + 1e-12) {
      const ct = Math.cos(t);
      const st = Math.sin(t);
      out.push([a[0] * ct + u[0] * st, a[1] * ct + u[1] * st, a[2] * ct + u[2] * st]);
    }
  }
  return out;
}

/**
 * The convex hull of points on the sky (e.g. the corners of all of a visit's CCDs), as a
 * convex polygon. The points must lie within one open hemisphere.
 *
 * @throws RegionError for fewer than 3 distinct points or points spread over a hemisphere.
 */
export function convexHull(points: ReadonlyArray<readonly [number, number]>): ConvexPolygon {
  const vs = points.map(([ra, dec]) => {
    checkRaDec(ra, dec, 'hull point');
    return fromRaDec(ra, dec);
  });
  let sum: Vec3 = [0, 0, 0];
  for (const v of vs) sum = [sum[0] + v[0], sum[1] + v[1], sum[2] + v[2]];
  const c = normalize(sum);
  if (norm(sum) < 1e-9 || vs.some((v) => dot(v, c) <= 1e-9)) {
    throw new RegionError('hull points must lie within one hemisphere');
  }
  // Gnomonic projection about the centroid: great circles become straight lines, so the
  // planar hull (Andrew's monotone chain) is the spherical one.
  const ref: Vec3 = Math.abs(c[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0];
  const e1 = normalize(cross(ref, c));
  const e2 = cross(c, e1);
  const pts = vs
    .map((v) => {
      const w = dot(v, c);
      return [dot(v, e1) / w, dot(v, e2) / w] as const;
    })
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  // Nearly collinear corners (aligned CCD edges) are dropped: they add nothing and their
  // very short edges would make the convexity check fail on rounding.
  let extent = 0;
  for (const p of pts) extent = Math.max(extent, Math.abs(p[0]), Math.abs(p[1]));
  const eps = 1e-12 * extent * extent;
  const turn = (o: readonly number[], a: readonly number[], b: readonly number[]): number =>
    (a[0]! - o[0]!) * (b[1]! - o[1]!) - (a[1]! - o[1]!) * (b[0]! - o[0]!);
  const lower: Array<readonly [number, number]> = [];
  for (const p of pts) {
    while (lower.length >= 2 && turn(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= eps)
      lower.pop();
    lower.push(p);
  }
  const upper: Array<readonly [number, number]> = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i]!;
    while (upper.length >= 2 && turn(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= eps)
      upper.pop();
    upper.push(p);
  }
  const hull = [...lower.slice(0, -1), ...upper.slice(0, -1)];
  return ConvexPolygon.fromVectors(
    hull.map(([x, y]) =>
      normalize([
        c[0] + x * e1[0] + y * e2[0],
        c[1] + x * e1[1] + y * e2[1],
        c[2] + x * e1[2] + y * e2[2],
      ]),
    ),
  );
}

/** The region of a where-language literal. @throws RegionError */
export function regionFromLiteral(lit: RegionLiteralLike): Region {
  switch (lit.kind) {
    case 'point':
      return new PointRegion(lit.ra, lit.dec);
    case 'circle':
      return new Circle(lit.ra, lit.dec, lit.radius);
    case 'box':
      return new LonLatBox(lit.ra, lit.dec, lit.width, lit.height);
    case 'polygon':
      return ConvexPolygon.fromRaDec(lit.vertices);
  }
}

/** True when two regions overlap; at least one must be a polygon. */
export function regionsOverlap(a: ConvexPolygon, b: Region): boolean {
  return a.overlaps(b);
}

/**
 * Parses a stored region (JSON text or an array of [ra, dec] vertices) into a polygon.
 *
 * @throws RegionError
 */
export function parseStoredRegion(value: unknown): ConvexPolygon {
  if (value instanceof ConvexPolygon) return value;
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      throw new RegionError('stored region is not valid JSON; expected [[ra, dec], ...]');
    }
  }
  return ConvexPolygon.fromRaDec(v as ReadonlyArray<readonly [number, number]>);
}

/**
 * The JSON text stored for a polygon: its [ra, dec] vertices in degrees, counter-clockwise,
 * rounded to 1e-10 degrees (0.36 micro-arcsec).
 */
export function regionToJson(polygon: ConvexPolygon): string {
  const r = (x: number): number => Math.round(x * 1e10) / 1e10;
  return JSON.stringify(polygon.toRaDec().map(([ra, dec]) => [r(ra), r(dec)]));
}
