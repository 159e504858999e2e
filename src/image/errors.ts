/** Errors raised by the image containers. */

/** Base class of image-container errors; `code` is stable across releases. */
export class ImageError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ImageError';
    this.code = code;
  }
}

/** Raised when planes of one MaskedImage (or two images that must match) differ in size or origin. */
export class ImageShapeError extends ImageError {
  constructor(message: string) {
    super('IMAGE_SHAPE', message);
    this.name = 'ImageShapeError';
  }
}

/** Raised for an unknown mask plane name or a full plane dictionary. */
export class MaskPlaneError extends ImageError {
  constructor(message: string) {
    super('MASK_PLANE', message);
    this.name = 'MaskPlaneError';
  }
}
