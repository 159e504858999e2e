export { ImageError, ImageShapeError, MaskPlaneError } from './errors.ts';
export { Exposure, type ExposureInfo } from './exposure.ts';
export {
  ExposureError,
  type ExposureErrorCode,
  type ExposureErrorContext,
  isExposureError,
} from './exposure-errors.ts';
export {
  EXPOSURE_FORMAT,
  exposureFromFits,
  exposureToBytes,
  exposureToHdus,
  type ReadExposureOptions,
  readExposure,
  readPlainImageWithWeight,
  type WriteExposureOptions,
  writeExposure,
} from './exposure-fits.ts';
export { ImageF } from './image.ts';
export { DEFAULT_MASK_PLANES, MAX_MASK_PLANES, Mask, MaskPlaneDict } from './mask.ts';
export { MaskedImage } from './masked-image.ts';
export { AB_MAG_OF_ONE_NJY, AB_ZERO_POINT_NJY, PhotoCalib } from './photo-calib.ts';
export {
  allocFloat32,
  allocInt32,
  isShared,
  toSharedFloat32,
  toSharedInt32,
} from './pixel-buffer.ts';
export {
  DoubleGaussianPsf,
  FWHM_PER_SIGMA,
  GaussianPsf,
  ImagePsf,
  kernelSizeForSigma,
  Psf,
  type PsfKind,
  psfFromFits,
  type SecondMoments,
} from './psf.ts';
export { readVisitInfo, type VisitInfo, writeVisitInfo } from './visit-info.ts';
