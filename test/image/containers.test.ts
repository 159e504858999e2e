import { describe, expect, it } from 'vitest';
import { Box2I } from '../../src/geom/box.ts';
import { ImageShapeError, MaskPlaneError } from '../../src/image/errors.ts';
import { ImageF } from '../../src/image/image.ts';
import { DEFAULT_MASK_PLANES, Mask, MaskPlaneDict } from '../../src/image/mask.ts';
import { MaskedImage } from '../../src/image/masked-image.ts';
import { isShared } from '../../src/image/pixel-buffer.ts';

describe('image containers', () => {
  it('LSST mask planes and bits', () => {
    expect(DEFAULT_MASK_PLANES).toEqual({
      BAD: 0,
      SAT: 1,
      INTRP: 2,
      CR: 3,
      EDGE: 4,
      DETECTED: 5,
      DETECTED_NEGATIVE: 6,
      SUSPECT: 7,
      NO_DATA: 8,
    });
    const d = new MaskPlaneDict();
    expect(d.bitMask('EDGE', 'NO_DATA')).toBe((1 << 4) | (1 << 8));
    const e = d.withPlane('CLIPPED');
    expect(e.bit('CLIPPED')).toBe(9);
    expect(d.has('CLIPPED')).toBe(false);
    expect(() => d.bit('NOPE')).toThrow(MaskPlaneError);
    expect(() => new MaskPlaneDict({ A: 1, B: 1 })).toThrow(/assigned twice/);
    expect(() => new MaskPlaneDict({ A: 32 })).toThrow(/bits run 0..31/);
  });

  it('xy0, bbox and parent-coordinate access', () => {
    const im = new ImageF(4, 3, { xy0: { x: 100, y: -5 } });
    expect(im.bbox.equals(new Box2I(100, -5, 4, 3))).toBe(true);
    im.set(103, -3, 7);
    expect(im.data[2 * 4 + 3]).toBe(7);
    expect(im.get(103, -3)).toBe(7);
    expect(isShared(im.data)).toBe(true);
    const mi = MaskedImage.create(4, 3, { xy0: { x: 1, y: 2 } });
    expect(mi.mask.xy0).toEqual({ x: 1, y: 2 });
    const c = mi.clone();
    c.image.data[0] = 5;
    expect(mi.image.data[0]).toBe(0);
  });

  it('typed errors for bad shapes', () => {
    expect(() => new ImageF(-1, 2)).toThrow(ImageShapeError);
    expect(() => new ImageF(2, 2, { data: new Float32Array(3) })).toThrow(/needs 4 pixels/);
    expect(
      () =>
        new MaskedImage(
          new ImageF(2, 2),
          new Mask(2, 2, { xy0: { x: 1, y: 0 } }),
          new ImageF(2, 2),
        ),
    ).toThrow(/planes differ/);
  });
});
