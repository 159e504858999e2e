export { ImageError, ImageShapeError, MaskPlaneError } from './errors.ts';
export { ImageF } from './image.ts';
export { DEFAULT_MASK_PLANES, MAX_MASK_PLANES, Mask, MaskPlaneDict } from './mask.ts';
export { MaskedImage } from './masked-image.ts';
export {
  allocFloat32,
  allocInt32,
  isShared,
  toSharedFloat32,
  toSharedInt32,
} from './pixel-buffer.ts';
