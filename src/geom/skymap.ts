/**
 * Sky maps: the sphere cut into tracts (each with its own TAN WCS and pixel grid), each
 * tract cut into patches. The geometry follows LSST's `lsst.skymap` (RingsSkyMap,
 * DiscreteSkyMap, ExplicitTractInfo, the "legacy" and "cells" tract builders), so tract
 * ids, patch indices and pixel boxes agree with LSST's for the same configuration
 * (up to float rounding at exact integer pixel boundaries).
 *
 * Conventions: sky positions (ra, dec) in degrees; pixel scale in arcsec/pixel; tract
 * overlap and radii in degrees; tract pixels 0-based with the tract box starting at
 * (0, 0); patch (x, y) index 0,0 at the tract's minimum corner; sequential patch id
 * `y * nx + x`.
 */

import { RAD_PER_DEG } from './angle.ts';
import { Box2I } from './box.ts';
import { SkyMapError } from './errors.ts';
import {
  angularSeparation,
  fromUnitVector,
  offsetPoint,
  type SpherePoint,
  unitVector,
} from './sphere-point.ts';
import { Wcs } from './wcs.ts';

/** LSST's "legacy" tract builder: fixed patch size and a border clipped at the tract edge. */
export interface LegacyTractBuilderConfig {
  readonly kind: 'legacy';
  /** Inner (non-overlapping) patch size (x, y), pixels. LSST default 4000 x 4000. */
  readonly patchInnerDimensions: readonly [number, number];
  /** Border between the inner and outer patch boxes, pixels. LSST default 100. */
  readonly patchBorder: number;
}

/**
 * LSST's "cells" tract builder: patches made of square cells. Inner patch size is
 * `numCellsPerPatchInner * cellInnerDimensions`; the patch border is
 * `numCellsInPatchBorder * cellInnerDimensions + cellBorder`, and, unlike "legacy",
 * outer patch boxes are not clipped to the tract.
 */
export interface CellTractBuilderConfig {
  readonly kind: 'cells';
  /** Inner cell side, pixels (LSST: 150). */
  readonly cellInnerDimensions: number;
  /** Border of a cell, pixels (LSST: 50). */
  readonly cellBorder: number;
  /** Cells per inner patch side (LSST: 20, so 3000-pixel patches). */
  readonly numCellsPerPatchInner: number;
  /** Whole cells in the patch border (LSST: 1, so a 200-pixel border). */
  readonly numCellsInPatchBorder: number;
}

/** Which algorithm lays patches out in a tract. */
export type TractBuilderConfig = LegacyTractBuilderConfig | CellTractBuilderConfig;

/** Settings shared by every sky map (LSST's BaseSkyMapConfig; projection is always TAN). */
export interface BaseSkyMapConfig {
  /** Tract pixel scale, arcsec/pixel. */
  readonly pixelScale: number;
  /** Minimum overlap between adjacent tracts on the sky, degrees. */
  readonly tractOverlap: number;
  /** WCS rotation, degrees (LSST `rotation`; 0 = north up, east left). */
  readonly rotation: number;
  /** Patch layout within each tract. */
  readonly tractBuilder: TractBuilderConfig;
}

/** Configuration of a {@link RingsSkyMap}. */
export interface RingsSkyMapConfig extends BaseSkyMapConfig {
  /** Number of declination rings between the two polar caps. */
  readonly numRings: number;
  /** RA of the first tract centre in every ring, degrees in [0, 360). */
  readonly raStart: number;
}

/** Configuration of a {@link DiscreteSkyMap}: explicit tract centres and radii. */
export interface DiscreteSkyMapConfig extends BaseSkyMapConfig {
  /** Tract centres (ra, dec), degrees. */
  readonly centers: ReadonlyArray<SpherePoint>;
  /** Tract half-sizes, degrees, one per centre. */
  readonly radii: ReadonlyArray<number>;
}

/** LSST's default legacy builder: 4000 x 4000-pixel patches with a 100-pixel border. */
export const LEGACY_TRACT_BUILDER: LegacyTractBuilderConfig = {
  kind: 'legacy',
  patchInnerDimensions: [4000, 4000],
  patchBorder: 100,
};

/** LSST's cell builder as used by `lsst_cells_v1`: 150-px cells, 3000-px patches, 200-px border. */
export const CELL_TRACT_BUILDER: CellTractBuilderConfig = {
  kind: 'cells',
  cellInnerDimensions: 150,
  cellBorder: 50,
  numCellsPerPatchInner: 20,
  numCellsInPatchBorder: 1,
};

/**
 * Default rings configuration: 120 rings, TAN, 0.2 arcsec/pixel, 1 arcmin overlap, legacy
 * 4000 + 100 patches (the geometry of LSST's DC2 / DP0 skymap: 18,938 tracts of 7 x 7
 * patches).
 */
export const DEFAULT_RINGS_CONFIG: RingsSkyMapConfig = {
  numRings: 120,
  raStart: 0,
  pixelScale: 0.2,
  tractOverlap: 1 / 60,
  rotation: 0,
  tractBuilder: LEGACY_TRACT_BUILDER,
};

/**
 * LSST's production `lsst_cells_v1` geometry (obs_lsst config/makeSkyMap.py): the
 * default rings with the cell builder, i.e. 10 x 10 patches of 3000 (3400 outer) pixels.
 */
export const LSST_CELLS_V1_CONFIG: RingsSkyMapConfig = {
  ...DEFAULT_RINGS_CONFIG,
  tractBuilder: CELL_TRACT_BUILDER,
};

/** A patch index within a tract: x along the tract's pixel x axis, y along y. */
export interface PatchIndex {
  readonly x: number;
  readonly y: number;
}

/** Cell layout of a patch made by the "cells" builder (pixels). */
export interface CellLayout {
  readonly cellInnerDimensions: number;
  readonly cellBorder: number;
  readonly numCellsPerPatchInner: number;
  readonly numCellsInPatchBorder: number;
}

/** One patch of a tract. Boxes are in the tract's 0-based pixel coordinates. */
export interface PatchInfo {
  /** Id of the tract the patch belongs to. */
  readonly tractId: number;
  /** (x, y) patch index. */
  readonly index: PatchIndex;
  /** Sequential id within the tract, `index.y * numPatches.x + index.x` (as LSST). */
  readonly sequentialIndex: number;
  /** Inner box: the patches' inner boxes tile the tract box exactly. */
  readonly innerBBox: Box2I;
  /** Inner box grown by the patch border (clipped to the tract for "legacy"). */
  readonly outerBBox: Box2I;
  /** Cell layout for the "cells" builder, undefined for "legacy". */
  readonly cells: CellLayout | undefined;
}

/** Resolved patch geometry of a builder. */
interface PatchLayout {
  readonly inner: readonly [number, number];
  readonly border: number;
  readonly clipOuter: boolean;
  readonly cells: CellLayout | undefined;
}

function patchLayout(builder: TractBuilderConfig): PatchLayout {
  if (builder.kind === 'legacy') {
    const [ix, iy] = builder.patchInnerDimensions;
    requirePositiveInt(ix, 'tractBuilder.patchInnerDimensions[0]');
    requirePositiveInt(iy, 'tractBuilder.patchInnerDimensions[1]');
    requireNonNegativeInt(builder.patchBorder, 'tractBuilder.patchBorder');
    return { inner: [ix, iy], border: builder.patchBorder, clipOuter: true, cells: undefined };
  }
  if (builder.kind === 'cells') {
    requirePositiveInt(builder.cellInnerDimensions, 'tractBuilder.cellInnerDimensions');
    requireNonNegativeInt(builder.cellBorder, 'tractBuilder.cellBorder');
    requirePositiveInt(builder.numCellsPerPatchInner, 'tractBuilder.numCellsPerPatchInner');
    requireNonNegativeInt(builder.numCellsInPatchBorder, 'tractBuilder.numCellsInPatchBorder');
    const side = builder.cellInnerDimensions * builder.numCellsPerPatchInner;
    return {
      inner: [side, side],
      border: builder.numCellsInPatchBorder * builder.cellInnerDimensions + builder.cellBorder,
      clipOuter: false,
      cells: {
        cellInnerDimensions: builder.cellInnerDimensions,
        cellBorder: builder.cellBorder,
        numCellsPerPatchInner: builder.numCellsPerPatchInner,
        numCellsInPatchBorder: builder.numCellsInPatchBorder,
      },
    };
  }
  throw new SkyMapError(
    'SKYMAP_BAD_CONFIG',
    `unknown tract builder '${String((builder as { kind: unknown }).kind)}'; use 'legacy' or 'cells'`,
    'tractBuilder',
  );
}

function requirePositiveInt(value: number, key: string): void {
  if (!(Number.isSafeInteger(value) && value > 0)) {
    throw new SkyMapError(
      'SKYMAP_BAD_CONFIG',
      `${key} must be a positive integer, got ${value}`,
      key,
    );
  }
}

function requireNonNegativeInt(value: number, key: string): void {
  if (!(Number.isSafeInteger(value) && value >= 0)) {
    throw new SkyMapError(
      'SKYMAP_BAD_CONFIG',
      `${key} must be a non-negative integer, got ${value}`,
      key,
    );
  }
}

function validateBase(config: BaseSkyMapConfig): PatchLayout {
  if (!(Number.isFinite(config.pixelScale) && config.pixelScale > 0)) {
    throw new SkyMapError(
      'SKYMAP_BAD_CONFIG',
      `pixelScale must be a positive number of arcsec/pixel, got ${config.pixelScale}`,
      'pixelScale',
    );
  }
  if (!(Number.isFinite(config.tractOverlap) && config.tractOverlap >= 0)) {
    throw new SkyMapError(
      'SKYMAP_BAD_CONFIG',
      `tractOverlap must be a non-negative number of degrees, got ${config.tractOverlap}`,
      'tractOverlap',
    );
  }
  if (!Number.isFinite(config.rotation)) {
    throw new SkyMapError(
      'SKYMAP_BAD_CONFIG',
      `rotation must be a finite number of degrees, got ${config.rotation}`,
      'rotation',
    );
  }
  return patchLayout(config.tractBuilder);
}

/**
 * The integer box of every pixel that a floating-point box (pixel-edge coordinates)
 * touches, as LSST's `Box2I(Box2D, EXPAND)`.
 */
function expandToBox2I(minX: number, minY: number, maxX: number, maxY: number): Box2I {
  const x0 = Math.floor(minX + 0.5);
  const y0 = Math.floor(minY + 0.5);
  const x1 = Math.ceil(maxX - 0.5);
  const y1 = Math.ceil(maxY - 0.5);
  return new Box2I(x0, y0, x1 - x0 + 1, y1 - y0 + 1);
}

/**
 * One tract: a square region of sky around `center` with its own TAN WCS
 * (CRVAL = centre), pixel box starting at (0, 0) and a grid of patches. Built as LSST's
 * ExplicitTractInfo: the minimum box holds the four points `radius + tractOverlap` from
 * the centre toward N, E, S, W; it is then grown symmetrically to a whole number of
 * inner patches.
 */
export class TractInfo {
  /** Tract id (stable for a given sky-map configuration). */
  readonly id: number;
  /** Tract centre, degrees (also the WCS CRVAL). */
  readonly center: SpherePoint;
  /** Nominal half-size of the tract's inner region, degrees. */
  readonly radius: number;
  /** Minimum overlap with neighbouring tracts, degrees. */
  readonly tractOverlap: number;
  /** The tract's TAN WCS; pixel (0, 0) is the centre of the tract box's first pixel. */
  readonly wcs: Wcs;
  /** The tract's pixel box, always starting at (0, 0). */
  readonly bbox: Box2I;
  /** Number of patches along x and y. */
  readonly numPatches: PatchIndex;
  /** Inner patch size (x, y), pixels. */
  readonly patchInnerDimensions: readonly [number, number];
  /** Patch border, pixels. */
  readonly patchBorder: number;
  /**
   * Sky positions of the tract box's corners (pixel edges shrunk by 0.001 px, as LSST),
   * in the order of {@link Wcs.skyPolygon}.
   */
  readonly vertices: readonly SpherePoint[];

  private readonly layout: PatchLayout;

  /**
   * A tract of half-size `radius` degrees around `center`, laid out per `config`.
   * Sky maps build these; use a sky map's `tract(id)`.
   */
  constructor(id: number, center: SpherePoint, radius: number, config: BaseSkyMapConfig) {
    const layout = validateBase(config);
    if (!(Number.isFinite(radius) && radius > 0)) {
      throw new SkyMapError(
        'SKYMAP_BAD_CONFIG',
        `tract radius must be a positive number of degrees, got ${radius}`,
        'radius',
      );
    }
    this.id = id;
    this.center = { ra: center.ra, dec: center.dec };
    this.radius = radius;
    this.tractOverlap = config.tractOverlap;
    this.layout = layout;
    this.patchInnerDimensions = layout.inner;
    this.patchBorder = layout.border;
    const wcs0 = Wcs.fromScaleRotation({
      crpix: [0, 0],
      crval: [center.ra, center.dec],
      scale: config.pixelScale,
      rotation: config.rotation,
    });
    let minX = Number.POSITIVE_INFINITY;
    let minY = Number.POSITIVE_INFINITY;
    let maxX = Number.NEGATIVE_INFINITY;
    let maxY = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < 4; i++) {
      // LSST offsets at bearings 0, 90, 180, 270 (from east toward north); the same four
      // directions as position angles 90, 0, -90, -180.
      const corner = offsetPoint(center.ra, center.dec, 90 - 90 * i, radius + config.tractOverlap);
      const p = wcs0.skyToPixel(corner.ra, corner.dec);
      minX = Math.min(minX, p.x);
      minY = Math.min(minY, p.y);
      maxX = Math.max(maxX, p.x);
      maxY = Math.max(maxY, p.y);
    }
    if (![minX, minY, maxX, maxY].every(Number.isFinite)) {
      throw new SkyMapError(
        'SKYMAP_BAD_CONFIG',
        `tract ${id} radius ${radius} + overlap ${config.tractOverlap} degrees reaches the TAN horizon; use tracts well under 90 degrees`,
        'radius',
      );
    }
    const minBox = expandToBox2I(minX, minY, maxX, maxY);
    // Grow to whole patches, keeping the centre (LSST BaseTractBuilder.setupPatches).
    const dims = [minBox.width, minBox.height];
    const mins = [minBox.minX, minBox.minY];
    const num = [0, 0];
    for (let i = 0; i < 2; i++) {
      const inner = layout.inner[i]!;
      const n = Math.ceil(dims[i]! / inner);
      const delta = inner * n - dims[i]!;
      if (delta > 0) {
        dims[i] = inner * n;
        mins[i] = mins[i]! - Math.floor(delta / 2);
      }
      num[i] = n;
    }
    this.numPatches = { x: num[0]!, y: num[1]! };
    this.bbox = new Box2I(0, 0, dims[0]!, dims[1]!);
    this.wcs = wcs0.withShiftedPixelOrigin(-mins[0]!, -mins[1]!);
    const e = 0.5 - 0.001;
    this.vertices = [
      this.wcs.pixelToSky(-e, -e),
      this.wcs.pixelToSky(this.bbox.maxX + e, -e),
      this.wcs.pixelToSky(this.bbox.maxX + e, this.bbox.maxY + e),
      this.wcs.pixelToSky(-e, this.bbox.maxY + e),
    ];
  }

  /** Total number of patches. */
  get patchCount(): number {
    return this.numPatches.x * this.numPatches.y;
  }

  /** Sequential patch id `y * nx + x` of patch index (x, y). */
  sequentialPatchIndex(index: PatchIndex): number {
    this.checkIndex(index);
    return index.y * this.numPatches.x + index.x;
  }

  /** Patch index (x, y) of a sequential patch id. */
  patchIndexPair(sequentialIndex: number): PatchIndex {
    if (
      !(
        Number.isSafeInteger(sequentialIndex) &&
        sequentialIndex >= 0 &&
        sequentialIndex < this.patchCount
      )
    ) {
      throw new SkyMapError(
        'SKYMAP_NO_SUCH_PATCH',
        `patch ${sequentialIndex} is not in tract ${this.id}, which has patches 0..${this.patchCount - 1}`,
        'patch',
      );
    }
    return {
      x: sequentialIndex % this.numPatches.x,
      y: Math.floor(sequentialIndex / this.numPatches.x),
    };
  }

  /**
   * The patch with (x, y) index or sequential id.
   *
   * @throws SkyMapError SKYMAP_NO_SUCH_PATCH when out of range.
   */
  patch(index: PatchIndex | number): PatchInfo {
    const idx = typeof index === 'number' ? this.patchIndexPair(index) : index;
    this.checkIndex(idx);
    const [ix, iy] = this.layout.inner;
    const inner = new Box2I(idx.x * ix, idx.y * iy, ix, iy);
    let outer = inner.grow(this.layout.border);
    if (this.layout.clipOuter) outer = outer.intersect(this.bbox);
    return {
      tractId: this.id,
      index: { x: idx.x, y: idx.y },
      sequentialIndex: idx.y * this.numPatches.x + idx.x,
      innerBBox: inner,
      outerBBox: outer,
      cells: this.layout.cells,
    };
  }

  /** All patches, y-major (sequential id order), as LSST's iteration. */
  *patches(): IterableIterator<PatchInfo> {
    for (let y = 0; y < this.numPatches.y; y++) {
      for (let x = 0; x < this.numPatches.x; x++) yield this.patch({ x, y });
    }
  }

  /**
   * True when (ra, dec) degrees falls in the tract box: its pixel position, rounded to
   * the nearest pixel, is inside (as LSST's TractInfo.contains).
   */
  contains(ra: number, dec: number): boolean {
    const p = this.wcs.skyToPixel(ra, dec);
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) return false;
    return this.bbox.contains(Math.floor(p.x + 0.5), Math.floor(p.y + 0.5));
  }

  /**
   * The patch whose inner box holds (ra, dec) degrees.
   *
   * @throws SkyMapError SKYMAP_NO_SUCH_PATCH when the position is not in this tract.
   */
  findPatch(ra: number, dec: number): PatchInfo {
    const p = this.wcs.skyToPixel(ra, dec);
    const x = Math.floor(p.x + 0.5);
    const y = Math.floor(p.y + 0.5);
    if (!Number.isFinite(x) || !Number.isFinite(y) || !this.bbox.contains(x, y)) {
      throw new SkyMapError(
        'SKYMAP_NO_SUCH_PATCH',
        `(ra, dec) = (${ra}, ${dec}) is not in tract ${this.id}; find its tract first with findTract`,
        'coord',
      );
    }
    return this.patch({
      x: Math.floor(x / this.layout.inner[0]),
      y: Math.floor(y / this.layout.inner[1]),
    });
  }

  /**
   * Patches that contain, or may contain, the region spanned by `points` (degrees): the
   * pixel bounding box of the points, grown by the patch border and clipped to the
   * tract, as LSST's `findPatchList` (so it can include patches that only touch the
   * region's bounding box). Points with no pixel position (beyond the TAN horizon) are
   * skipped. Ordered x-major, then y, as LSST. Empty when there is no overlap.
   */
  findPatchList(points: ReadonlyArray<SpherePoint>): PatchInfo[] {
    let minX = Number.POSITIVE_INFINITY;
    let minY = Number.POSITIVE_INFINITY;
    let maxX = Number.NEGATIVE_INFINITY;
    let maxY = Number.NEGATIVE_INFINITY;
    for (const point of points) {
      const p = this.wcs.skyToPixel(point.ra, point.dec);
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
      minX = Math.min(minX, p.x);
      minY = Math.min(minY, p.y);
      maxX = Math.max(maxX, p.x);
      maxY = Math.max(maxY, p.y);
    }
    if (!(minX <= maxX)) return [];
    // Far-away points give huge coordinates; clamp before making integers so Box2I
    // (safe integers only) can hold them. Anything beyond the tract is clipped anyway.
    const lim = 1e12;
    const clamp = (v: number) => Math.max(-lim, Math.min(lim, v));
    const box = expandToBox2I(clamp(minX), clamp(minY), clamp(maxX), clamp(maxY))
      .grow(this.layout.border)
      .intersect(this.bbox);
    if (box.isEmpty) return [];
    const [ix, iy] = this.layout.inner;
    const x0 = Math.floor(box.minX / ix);
    const y0 = Math.floor(box.minY / iy);
    const x1 = Math.floor(box.maxX / ix);
    const y1 = Math.floor(box.maxY / iy);
    const result: PatchInfo[] = [];
    for (let x = x0; x <= x1; x++) {
      for (let y = y0; y <= y1; y++) result.push(this.patch({ x, y }));
    }
    return result;
  }

  /** Sky polygon (degrees) of the whole tract box's outer pixel edges. */
  outerSkyPolygon(): SpherePoint[] {
    return this.wcs.skyPolygon(this.bbox);
  }

  private checkIndex(index: PatchIndex): void {
    const { x, y } = index;
    if (
      !Number.isSafeInteger(x) ||
      !Number.isSafeInteger(y) ||
      x < 0 ||
      y < 0 ||
      x >= this.numPatches.x ||
      y >= this.numPatches.y
    ) {
      throw new SkyMapError(
        'SKYMAP_NO_SUCH_PATCH',
        `patch index (${x}, ${y}) is not in tract ${this.id}, which has ${this.numPatches.x} x ${this.numPatches.y} patches`,
        'patch',
      );
    }
  }
}

/** A tract and the patches of it that a region overlaps. */
export interface TractPatchList {
  readonly tract: TractInfo;
  readonly patches: PatchInfo[];
}

/** What every sky map offers. */
export interface SkyMap {
  /** Number of tracts; ids run 0..numTracts-1. */
  readonly numTracts: number;
  /** The tract with this id. @throws SkyMapError SKYMAP_NO_SUCH_TRACT */
  tract(id: number): TractInfo;
  /** The tract that owns (ra, dec) degrees. */
  findTract(ra: number, dec: number): TractInfo;
  /** Tracts and patches that a region given by its vertices (degrees) overlaps. */
  findTractPatchList(points: ReadonlyArray<SpherePoint>): TractPatchList[];
  /** The patch (x, y index or sequential id) of a tract. */
  patch(tractId: number, index: PatchIndex | number): PatchInfo;
}

/**
 * Points along the edges of a sky polygon (degrees), spaced at most `maxStep` degrees
 * apart along great circles, plus the vertices themselves. Used to make the
 * vertex-based overlap search see edges that cross a tract without a vertex inside it.
 */
export function densifyPolygon(polygon: ReadonlyArray<SpherePoint>, maxStep = 0.05): SpherePoint[] {
  const out: SpherePoint[] = [];
  for (let i = 0; i < polygon.length; i++) {
    const a = polygon[i]!;
    const b = polygon[(i + 1) % polygon.length]!;
    out.push(a);
    if (polygon.length < 2) break;
    const sep = angularSeparation(a.ra, a.dec, b.ra, b.dec);
    const n = Math.ceil(sep / maxStep);
    if (n <= 1 || sep >= 179) continue;
    // Spherical linear interpolation of the unit vectors: points on the great circle.
    const va = unitVector(a.ra, a.dec);
    const vb = unitVector(b.ra, b.dec);
    const theta = sep * RAD_PER_DEG;
    for (let k = 1; k < n; k++) {
      const t = k / n;
      const wa = Math.sin((1 - t) * theta) / Math.sin(theta);
      const wb = Math.sin(t * theta) / Math.sin(theta);
      out.push(
        fromUnitVector(wa * va[0] + wb * vb[0], wa * va[1] + wb * vb[1], wa * va[2] + wb * vb[2]),
      );
    }
  }
  return out;
}

/**
 * LSST's RingsSkyMap (version 1 numbering): `numRings` declination rings plus two polar
 * caps. Ring size is 180 / (numRings + 1) degrees; ring i (south to north) is centred
 * at dec = ringSize * (i + 1) - 90 and holds `floor(360 cos(d) / ringSize) + 1` tracts,
 * d being the ring edge closest to the equator. Tract 0 is the south cap, then ring 0
 * from `raStart` eastward, ring 1, ..., and the north cap is the last tract. Tracts are
 * built lazily and cached.
 */
export class RingsSkyMap implements SkyMap {
  /** The configuration (defaults filled in). */
  readonly config: RingsSkyMapConfig;
  /** Ring height, degrees. */
  readonly ringSize: number;
  /** Tracts per ring, south to north. */
  readonly ringNums: readonly number[];
  /** Total number of tracts, caps included. */
  readonly numTracts: number;

  private readonly ringSizeRad: number;
  /** Id of the first tract of each ring. */
  private readonly ringFirstId: readonly number[];
  private readonly cache = new Map<number, TractInfo>();

  constructor(config: Partial<RingsSkyMapConfig> = {}) {
    const full: RingsSkyMapConfig = { ...DEFAULT_RINGS_CONFIG, ...config };
    validateBase(full);
    if (!(Number.isSafeInteger(full.numRings) && full.numRings > 0)) {
      throw new SkyMapError(
        'SKYMAP_BAD_CONFIG',
        `numRings must be a positive integer, got ${full.numRings}`,
        'numRings',
      );
    }
    if (!(full.raStart >= 0 && full.raStart < 360)) {
      throw new SkyMapError(
        'SKYMAP_BAD_CONFIG',
        `raStart must be in [0, 360) degrees, got ${full.raStart}`,
        'raStart',
      );
    }
    this.config = full;
    this.ringSizeRad = Math.PI / (full.numRings + 1);
    this.ringSize = 180 / (full.numRings + 1);
    const nums: number[] = [];
    const first: number[] = [];
    let id = 1;
    for (let i = 0; i < full.numRings; i++) {
      const start = this.ringSizeRad * (i + 0.5) - 0.5 * Math.PI;
      const stop = start + this.ringSizeRad;
      const dec = Math.min(Math.abs(start), Math.abs(stop));
      const n = Math.floor((2 * Math.PI * Math.cos(dec)) / this.ringSizeRad) + 1;
      nums.push(n);
      first.push(id);
      id += n;
    }
    this.ringNums = nums;
    this.ringFirstId = first;
    this.numTracts = id + 1;
  }

  /**
   * Ring number and tract number within the ring of a tract id: ring -1 is the south
   * cap, ring `numRings` the north cap (tract number 0 for both).
   */
  ringIndices(id: number): { ring: number; tractInRing: number } {
    this.checkTractId(id);
    if (id === 0) return { ring: -1, tractInRing: 0 };
    if (id === this.numTracts - 1) return { ring: this.config.numRings, tractInRing: 0 };
    // Binary search over the first ids of the rings.
    let lo = 0;
    let hi = this.ringFirstId.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.ringFirstId[mid]! <= id) lo = mid;
      else hi = mid - 1;
    }
    return { ring: lo, tractInRing: id - this.ringFirstId[lo]! };
  }

  /** Centre (degrees) of a tract. */
  tractCenter(id: number): SpherePoint {
    const { ring, tractInRing } = this.ringIndices(id);
    if (ring === -1) return { ra: 0, dec: -90 };
    if (ring === this.config.numRings) return { ra: 0, dec: 90 };
    const dec = this.ringSize * (ring + 1) - 90;
    let ra = (360 * tractInRing) / this.ringNums[ring]! + this.config.raStart;
    if (ra >= 360) ra -= 360;
    return { ra, dec };
  }

  /** The tract with this id (built on first use). */
  tract(id: number): TractInfo {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const center = this.tractCenter(id);
    const tract = new TractInfo(id, center, 0.5 * this.ringSize, this.config);
    this.cache.set(id, tract);
    return tract;
  }

  /** All tracts in id order (builds every tract: 18,938 for the default 120 rings). */
  *tracts(): IterableIterator<TractInfo> {
    for (let id = 0; id < this.numTracts; id++) yield this.tract(id);
  }

  /** The patch of a tract, by (x, y) index or sequential id. */
  patch(tractId: number, index: PatchIndex | number): PatchInfo {
    return this.tract(tractId).patch(index);
  }

  /**
   * Ring of a declination (degrees): -1 south cap, `numRings` north cap.
   * As LSST's `_decToRingNum`.
   */
  ringOfDec(dec: number): number {
    const d = (dec * Math.PI) / 180;
    const firstRingStart = this.ringSizeRad * 0.5 - 0.5 * Math.PI;
    if (d < firstRingStart) return -1;
    if (d > -firstRingStart) return this.config.numRings;
    return Math.trunc((d - firstRingStart) / this.ringSizeRad);
  }

  /** Tract number within `ring` whose centre RA is nearest `ra` (degrees). */
  private tractInRingOfRa(ra: number, ring: number): number {
    if (ring < 0 || ring >= this.config.numRings) return 0;
    const n = this.ringNums[ring]!;
    const twoPi = 2 * Math.PI;
    let delta = ((ra - this.config.raStart) * Math.PI) / 180;
    delta %= twoPi;
    if (delta < 0) delta += twoPi;
    const t = Math.trunc(delta / (twoPi / n) + 0.5);
    return t >= n ? 0 : t;
  }

  /**
   * The tract that owns (ra, dec) degrees: the ring containing dec, then the tract of
   * that ring whose centre RA is nearest (as LSST's RingsSkyMap.findTract).
   */
  findTract(ra: number, dec: number): TractInfo {
    return this.tract(this.findTractId(ra, dec));
  }

  /** Id of {@link findTract}'s tract, without building the tract. */
  findTractId(ra: number, dec: number): number {
    if (!Number.isFinite(ra) || !Number.isFinite(dec) || Math.abs(dec) > 90) {
      throw new SkyMapError(
        'SKYMAP_NO_SUCH_TRACT',
        `(ra, dec) = (${ra}, ${dec}) is not a sky position; dec must be in [-90, 90] degrees`,
        'coord',
      );
    }
    const ring = this.ringOfDec(dec);
    if (ring === -1) return 0;
    if (ring === this.config.numRings) return this.numTracts - 1;
    return this.ringFirstId[ring]! + this.tractInRingOfRa(ra, ring);
  }

  /**
   * Every tract whose box contains (ra, dec) degrees (tracts overlap, so often more
   * than one): the 3 x 3 neighbourhood in (ring, RA) around the owner plus both caps,
   * as LSST's `findAllTracts`.
   */
  findAllTracts(ra: number, dec: number): TractInfo[] {
    const ring = this.ringOfDec(dec);
    const result: TractInfo[] = [];
    for (let r = ring - 1; r <= ring + 1; r++) {
      if (r < 0 || r >= this.config.numRings) continue;
      const n = this.ringNums[r]!;
      const t0 = this.tractInRingOfRa(ra, r);
      for (let t = t0 - 1; t <= t0 + 1; t++) {
        const tt = ((t % n) + n) % n;
        const tract = this.tract(this.ringFirstId[r]! + tt);
        if (tract.contains(ra, dec) && !result.includes(tract)) result.push(tract);
      }
    }
    for (const id of [0, this.numTracts - 1]) {
      const tract = this.tract(id);
      if (tract.contains(ra, dec)) result.push(tract);
    }
    return result;
  }

  /**
   * Tracts and patches overlapping the region whose vertices are `points` (degrees), as
   * LSST's RingsSkyMap.findTractPatchList: every tract that contains at least one point,
   * with the patches its `findPatchList` returns. Tracts in order of discovery.
   */
  findTractPatchList(points: ReadonlyArray<SpherePoint>): TractPatchList[] {
    const result: TractPatchList[] = [];
    const seen = new Set<number>();
    for (const point of points) {
      for (const tract of this.findAllTracts(point.ra, point.dec)) {
        if (seen.has(tract.id)) continue;
        seen.add(tract.id);
        const patches = tract.findPatchList(points);
        if (patches.length > 0) result.push({ tract, patches });
      }
    }
    return result;
  }

  /**
   * Tracts and patches that a sky polygon (e.g. a CCD's `wcs.skyPolygon(bbox)`)
   * overlaps. Like {@link findTractPatchList}, but the polygon's edges are first
   * densified (points every `maxStep` degrees, default 0.05) so a tract that an edge
   * crosses without holding a vertex is found too. May include patches that only touch
   * the polygon's bounding box in tract pixels (LSST's behaviour).
   */
  findOverlaps(polygon: ReadonlyArray<SpherePoint>, maxStep = 0.05): TractPatchList[] {
    return this.findTractPatchList(densifyPolygon(polygon, maxStep));
  }

  private checkTractId(id: number): void {
    if (!(Number.isSafeInteger(id) && id >= 0 && id < this.numTracts)) {
      throw new SkyMapError(
        'SKYMAP_NO_SUCH_TRACT',
        `tract ${id} does not exist; this sky map has tracts 0..${this.numTracts - 1}`,
        'tract',
      );
    }
  }
}

/**
 * LSST's DiscreteSkyMap: tracts at explicit centres with explicit radii (degrees),
 * e.g. one tract over a deep field. Ids are the positions in `centers`.
 */
export class DiscreteSkyMap implements SkyMap {
  readonly config: DiscreteSkyMapConfig;
  readonly numTracts: number;
  private readonly tractList: readonly TractInfo[];

  constructor(config: Pick<DiscreteSkyMapConfig, 'centers' | 'radii'> & Partial<BaseSkyMapConfig>) {
    const full: DiscreteSkyMapConfig = {
      pixelScale: DEFAULT_RINGS_CONFIG.pixelScale,
      tractOverlap: DEFAULT_RINGS_CONFIG.tractOverlap,
      rotation: DEFAULT_RINGS_CONFIG.rotation,
      tractBuilder: DEFAULT_RINGS_CONFIG.tractBuilder,
      ...config,
    };
    validateBase(full);
    if (full.centers.length !== full.radii.length || full.centers.length === 0) {
      throw new SkyMapError(
        'SKYMAP_BAD_CONFIG',
        `need one radius per centre and at least one tract (got ${full.centers.length} centres, ${full.radii.length} radii)`,
        'radii',
      );
    }
    full.radii.forEach((r, i) => {
      if (!(Number.isFinite(r) && r > 0 && r < 45)) {
        throw new SkyMapError(
          'SKYMAP_BAD_CONFIG',
          `radius of tract ${i} must be in (0, 45) degrees, got ${r}`,
          'radii',
        );
      }
    });
    this.config = full;
    this.numTracts = full.centers.length;
    this.tractList = full.centers.map((c, i) => new TractInfo(i, c, full.radii[i]!, full));
  }

  tract(id: number): TractInfo {
    const t = this.tractList[id];
    if (!t || !Number.isSafeInteger(id)) {
      throw new SkyMapError(
        'SKYMAP_NO_SUCH_TRACT',
        `tract ${id} does not exist; this sky map has tracts 0..${this.numTracts - 1}`,
        'tract',
      );
    }
    return t;
  }

  patch(tractId: number, index: PatchIndex | number): PatchInfo {
    return this.tract(tractId).patch(index);
  }

  /** The tract whose centre is nearest (ties: lowest id), as LSST's BaseSkyMap. */
  findTract(ra: number, dec: number): TractInfo {
    let best = this.tractList[0]!;
    let bestSep = Number.POSITIVE_INFINITY;
    for (const t of this.tractList) {
      const sep = angularSeparation(ra, dec, t.center.ra, t.center.dec);
      if (sep < bestSep) {
        bestSep = sep;
        best = t;
      }
    }
    return best;
  }

  /** Every tract with patches overlapping the points' region (LSST BaseSkyMap). */
  findTractPatchList(points: ReadonlyArray<SpherePoint>): TractPatchList[] {
    const result: TractPatchList[] = [];
    for (const tract of this.tractList) {
      const patches = tract.findPatchList(points);
      if (patches.length > 0) result.push({ tract, patches });
    }
    return result;
  }

  /** {@link findTractPatchList} on a densified polygon (see RingsSkyMap.findOverlaps). */
  findOverlaps(polygon: ReadonlyArray<SpherePoint>, maxStep = 0.05): TractPatchList[] {
    return this.findTractPatchList(densifyPolygon(polygon, maxStep));
  }
}
