/**
 * gpu-drp's library entry point. Conventions (0-based pixels, integer coordinates at
 * pixel centres, degrees, nJy, LSST mask planes) are in the README and docs/.
 *
 * - FITS: `readFits`, `writeFits`, `fitsToBytes`, `Header`, `FitsError` (src/fits).
 * - Geometry: `Box2I`, `Wcs` (`Wcs.fromFitsHeader`, `pixelToSky`, `skyToPixel`), sky maps.
 * - Images: `ImageF`, `Mask`, `MaskedImage`, `Exposure`, PSFs, `readExposure`, `writeExposure`.
 * - Compute: `createBackend({ backend: 'auto' | 'webgpu' | 'cpu' })`.
 * - Ops: `convolve`, `warp`, `stack`, `coaddMean` (streaming warp + MEAN), each on
 *   either backend with the same answers.
 */
export * from './compute/index.ts';
export * from './fits/index.ts';
export * from './geom/index.ts';
export * from './image/index.ts';
export { type CoaddParams, coaddMean } from './ops/coadd/index.ts';
export { type ConvolveParams, convolve, type Kernel } from './ops/convolve/index.ts';
export { OpError, OpInputError } from './ops/errors.ts';
export { type StackParams, type StackResult, stack } from './ops/stack/index.ts';
export {
  type WarpParams,
  type WarpResult,
  type WarpSource,
  type WarpTarget,
  warp,
} from './ops/warp/index.ts';
