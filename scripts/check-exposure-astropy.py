#!/usr/bin/env python3
"""Check that exposures written by gpu-drp's writeExposure read correctly with astropy.

Run from the repository root:

    /usr/bin/python3 scripts/check-exposure-astropy.py [--out fixtures/exposure/astropy-check.txt]

The script asks Node (through tsx) to write two exposures into a temporary directory --
one uncompressed, one GZIP_2-compressed, both with xy0 = (100, 200), a TAN-SIP WCS,
visit info, a photometric calibration, a custom mask plane and a PSF -- together with a
JSON file of what our code says about them (pixel values, and sky positions of a few
parent pixels from our Wcs). It then opens the files with astropy and checks:

- the HDU layout (PRIMARY, IMAGE, MASK, VARIANCE, PSF) and data types;
- the pixel data of every plane against the values our code holds;
- astropy.wcs pixel -> world at those pixels against ours (astropy takes 0-based file
  pixels with origin=0; file pixel = parent pixel - xy0, since the header's CRPIX is
  FITS 1-based and describes file pixels);
- header values: visit info, FLUXMAG0, LTV1/LTV2, the 'A' alternate WCS and MP_* keys.

It prints a summary and exits 1 on any failure.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from astropy import log
from astropy.io import fits
from astropy.wcs import WCS

WRITER = r"""
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Header } from './src/fits/index.ts';
import { Wcs } from './src/geom/wcs.ts';
import { Exposure } from './src/image/exposure.ts';
import { writeExposure } from './src/image/exposure-fits.ts';
import { Mask, MaskPlaneDict } from './src/image/mask.ts';
import { MaskedImage } from './src/image/masked-image.ts';
import { PhotoCalib } from './src/image/photo-calib.ts';
import { GaussianPsf } from './src/image/psf.ts';

const dir = process.argv[process.argv.length - 1];
const W = 300, H = 200, x0 = 100, y0 = 200;
const wcs = Wcs.tanSip({
  crpix: [-850.5, 1540.25],
  crval: [150.1, 2.2],
  cd: [[-5.4e-5, 8.0e-6], [8.0e-6, 5.4e-5]],
  sip: {
    a: { order: 3, coefficients: [[0, 0, 1e-7, 2e-11], [0, -2e-7, 3e-11], [3e-7, 1e-11], [4e-11]] },
    b: { order: 3, coefficients: [[0, 0, -1e-7, 1e-11], [0, 2e-7, -2e-11], [1e-7, 3e-11], [-1e-11]] },
  },
});
const planes = new MaskPlaneDict().withPlane('STREAK');
const metadata = new Header();
metadata.set('OBJECT', 'astropy-check');
const mi = new MaskedImage(
  Exposure.create(W, H, { xy0: { x: x0, y: y0 } }).image,
  new Mask(W, H, { xy0: { x: x0, y: y0 }, planes }),
  Exposure.create(W, H, { xy0: { x: x0, y: y0 } }).variance,
);
for (let j = 0; j < H; j++) for (let i = 0; i < W; i++) {
  const k = j * W + i;
  mi.image.data[k] = Math.sin(0.01 * k) * 1000 + 0.25 * i - 0.5 * j;
  mi.variance.data[k] = 100 + (k % 97);
  mi.mask.data[k] = k % 11 === 0 ? planes.bitMask('STREAK') : k % 13 === 0 ? planes.bitMask('BAD', 'SAT') : 0;
}
const exp = new Exposure(mi, {
  wcs,
  psf: new GaussianPsf(25, 25, 2.2),
  photoCalib: new PhotoCalib(0.48, 0.002),
  visitInfo: {
    visit: 4021, detector: 17, band: 'i', physicalFilter: 'i_39', exposureTime: 30,
    mjd: 60700.25, instrument: 'SimCam', boresightRa: 150.0, boresightDec: 2.25, rotationAngle: 8.5,
  },
  metadata,
});
await writeExposure(join(dir, 'plain.fits'), exp);
await writeExposure(join(dir, 'gzip2.fits'), exp, { compress: 'gzip2' });
const pixels = [[100, 200], [399, 399], [250.5, 300.25], [137, 281], [310, 222]];
const sky = pixels.map(([x, y]) => { const s = wcs.pixelToSky(x, y); return [s.ra, s.dec]; });
await writeFile(join(dir, 'expected.json'), JSON.stringify({
  W, H, x0, y0, pixels, sky,
  image: Array.from(mi.image.data), variance: Array.from(mi.variance.data), mask: Array.from(mi.mask.data),
  planes: planes.planes,
}));
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the summary to this file")
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    lines: list[str] = []
    failures = 0

    def check(ok: bool, what: str) -> None:
        nonlocal failures
        lines.append(f"{'PASS' if ok else 'FAIL'}  {what}")
        if not ok:
            failures += 1

    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(root, ".check-exposure-astropy.tmp.ts")
        with open(script, "w") as f:
            f.write(WRITER)
        try:
            subprocess.run(["npx", "tsx", script, tmp], cwd=root, check=True)
        finally:
            os.unlink(script)
        with open(os.path.join(tmp, "expected.json")) as f:
            exp = json.load(f)
        W, H, x0, y0 = exp["W"], exp["H"], exp["x0"], exp["y0"]
        image = np.array(exp["image"], dtype=np.float32).reshape(H, W)
        variance = np.array(exp["variance"], dtype=np.float32).reshape(H, W)
        mask = np.array(exp["mask"], dtype=np.int32).reshape(H, W)
        lines.append(f"astropy {__import__('astropy').__version__}, numpy {np.__version__}")
        for name in ("plain.fits", "gzip2.fits"):
            path = os.path.join(tmp, name)
            lines.append(f"--- {name}")
            with fits.open(path, checksum=True) as hdul:
                names = [h.name for h in hdul]
                check(names == ["PRIMARY", "IMAGE", "MASK", "VARIANCE", "PSF"], f"HDU names {names}")
                im, mk, vr = hdul["IMAGE"], hdul["MASK"], hdul["VARIANCE"]
                check(im.data.dtype.kind == "f" and im.data.dtype.itemsize == 4, f"IMAGE dtype {im.data.dtype}")
                check(mk.data.dtype.kind == "i" and mk.data.dtype.itemsize == 4, f"MASK dtype {mk.data.dtype}")
                check(vr.data.dtype.kind == "f" and vr.data.dtype.itemsize == 4, f"VARIANCE dtype {vr.data.dtype}")
                check(im.data.shape == (H, W), f"IMAGE shape {im.data.shape} (rows, columns)")
                check(bool(np.array_equal(im.data, image)), "IMAGE pixels equal ours bit for bit")
                check(bool(np.array_equal(vr.data, variance)), "VARIANCE pixels equal ours bit for bit")
                check(bool(np.array_equal(mk.data, mask)), "MASK pixels equal ours bit for bit")
                h = im.header
                check(h["LTV1"] == -x0 and h["LTV2"] == -y0, f"LTV1/LTV2 = {h['LTV1']}, {h['LTV2']}")
                check(
                    h["WCSNAMEA"] == "PARENT" and h["CRVAL1A"] == x0 and h["CRVAL2A"] == y0,
                    "alternate WCS A (PARENT) gives xy0",
                )
                planes = {k[3:]: v for k, v in mk.header.items() if k.startswith("MP_")}
                check(planes == exp["planes"], f"mask planes {planes}")
                w = WCS(h)
                check(w.wcs.ctype[0] == "RA---TAN-SIP" and w.sip is not None, f"astropy sees {list(w.wcs.ctype)} with SIP")
                worst = 0.0
                for (px, py), (ra, dec) in zip(exp["pixels"], exp["sky"]):
                    a_ra, a_dec = w.all_pix2world([[px - x0, py - y0]], 0)[0]
                    dra = (a_ra - ra + 180) % 360 - 180
                    sep = np.hypot(dra * np.cos(np.radians(dec)), a_dec - dec) * 3600
                    worst = max(worst, sep)
                check(worst < 1e-6, f"astropy pixel->world vs ours at {len(exp['pixels'])} pixels: max {worst:.2e} arcsec")
                with warnings.catch_warnings():
                    # The A/B SIP cards belong to the celestial WCS; astropy warns that the
                    # LINEAR 'A' WCS does not say -SIP. The 'A' WCS is purely linear.
                    warnings.simplefilter("ignore")
                    level = log.level
                    log.setLevel("WARNING")
                    a_parent = WCS(h, key="A")
                    log.setLevel(level)
                fx, fy = a_parent.wcs_pix2world([[0, 0], [W - 1, H - 1]], 0).T
                check(
                    list(fx) == [x0, x0 + W - 1] and list(fy) == [y0, y0 + H - 1],
                    "WCS 'A' maps file pixels to parent pixels",
                )
                p = hdul[0].header
                check(
                    p["VISIT"] == 4021 and p["DETECTOR"] == 17 and p["BAND"] == "i" and p["FILTER"] == "i_39",
                    "VISIT, DETECTOR, BAND, FILTER",
                )
                check(p["EXPTIME"] == 30 and abs(p["MJD-AVG"] - 60700.25) < 1e-9, "EXPTIME, MJD-AVG")
                check(abs(p["MJD-OBS"] - (60700.25 - 15 / 86400)) < 1e-9, "MJD-OBS = start of exposure")
                check(p["INSTRUME"] == "SimCam" and p["ROTPA"] == 8.5, "INSTRUME, ROTPA")
                check(abs(p["FLUXMAG0"] - 3631e9 / 0.48) < 1e-3 and p["PHOTCALM"] == 0.48, "PHOTCALM, FLUXMAG0")
                psf = hdul["PSF"]
                check(psf.header["PSFMODEL"] == "GAUSSIAN" and psf.data.shape == (25, 25), "PSF HDU")
                check(abs(float(psf.data.sum()) - 1) < 1e-12, f"PSF kernel sums to {psf.data.sum():.15f}")
    lines.append(f"{'OK' if failures == 0 else 'FAILED'}: {failures} failure(s)")
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write("# Output of: /usr/bin/python3 scripts/check-exposure-astropy.py --out fixtures/exposure/astropy-check.txt\n")
            f.write(text)
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
