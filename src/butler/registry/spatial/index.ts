/**
 * Spherical geometry for the registry: regions (convex polygons, circles, lon/lat boxes,
 * points), exact overlap tests, and the HTM pixelization used to index regions in SQL.
 */

export { HtmPixelization } from './htm.ts';
export {
  type BoundingCap,
  Circle,
  ConvexPolygon,
  capsMayOverlap,
  convexHull,
  LonLatBox,
  PointRegion,
  parseStoredRegion,
  type Region,
  type RegionLiteralLike,
  regionFromLiteral,
  regionsOverlap,
  regionToJson,
} from './regions.ts';
export * from './vector.ts';
