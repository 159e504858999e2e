/**
 * Public surface of `src/geom`: boxes, angles, sphere points, WCS (TAN, TAN-SIP) and
 * sky maps. Conventions (0-based pixels, degrees, arcsec/pixel) are in docs/geom.md.
 */

export * from './angle.ts';
export * from './box.ts';
export * from './errors.ts';
export * from './fits-header.ts';
export * from './sip.ts';
export * from './skymap.ts';
export * from './sphere-point.ts';
export * from './wcs.ts';
