#!/usr/bin/python3
"""Generate FITS reference fixtures with astropy and fpack, and check our writer.

Usage (from the repository root; needs Debian's python3-astropy and libcfitsio-bin):

    apt-get install -y python3-astropy libcfitsio-bin
    /usr/bin/python3 scripts/make-fits-fixtures.py            # regenerate + check
    /usr/bin/python3 scripts/make-fits-fixtures.py --check-only

Part 1 writes small reference files into fixtures/fits/ref/ (every BITPIX, BSCALE/BZERO
and BLANK cases, a multi-extension file with awkward header cards, a binary table with
every TFORM code including variable-length arrays, tile-compressed images made by fpack
(CFITSIO) and astropy: RICE_1, GZIP_1, GZIP_2, PLIO_1, NOCOMPRESS, quantized floats with
NO_DITHER / SUBTRACTIVE_DITHER_1 / SUBTRACTIVE_DITHER_2, and CHECKSUM) plus
fixtures/fits/ref/expected.json: per HDU the header values, the shape and dtype of the
decoded data, the sha256 of its little-endian bytes (NaNs canonicalised to 0x7fc00000 /
0x7ff8000000000000) and a few sample pixels; per table column the same.

Part 2 runs node (tsx) to write files with THIS project's writer into
fixtures/fits/written/, then opens them with astropy (checksum verification on) and
compares data and header values with what the node side says it wrote; funpack must also
decompress the compressed ones. Any mismatch exits non-zero.
"""

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
from astropy.io import fits

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = os.path.join(ROOT, "fixtures", "fits", "ref")
WRITTEN = os.path.join(ROOT, "fixtures", "fits", "written")
RNG = np.random.default_rng(20240611)


def canon_bytes(arr):
    """Little-endian bytes with canonical NaNs (as the TS test canonicalises them)."""
    a = np.ascontiguousarray(arr)
    a = a.astype(a.dtype.newbyteorder("<"))
    if a.dtype.kind == "f":
        a = a.copy()
        a[np.isnan(a)] = np.nan
        if a.dtype.itemsize == 4:
            v = a.view(np.uint32)
            v[np.isnan(a)] = 0x7FC00000
        else:
            v = a.view(np.uint64)
            v[np.isnan(a)] = 0x7FF8000000000000
    return a.tobytes()


def sha(arr):
    return hashlib.sha256(canon_bytes(arr)).hexdigest()


def jsonable(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        v = int(v)
        return v if abs(v) <= 2**53 else {"bigint": str(v)}
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v):
            return {"float": "NaN"}
        if math.isinf(v):
            return {"float": "Infinity" if v > 0 else "-Infinity"}
        return v
    if isinstance(v, complex):
        return {"re": v.real, "im": v.imag}
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode("latin1")
    return str(v)


def samples(flat, n=6):
    if flat.size == 0:
        return []
    idx = sorted(set(np.linspace(0, flat.size - 1, n).astype(int).tolist()))
    return [[i, jsonable(flat[i])] for i in idx]


DTYPE_NAMES = {
    "uint8": "Uint8Array", "int8": "Int8Array", "int16": "Int16Array", "uint16": "Uint16Array",
    "int32": "Int32Array", "uint32": "Uint32Array", "int64": "BigInt64Array",
    "uint64": "BigUint64Array", "float32": "Float32Array", "float64": "Float64Array",
}


def header_values(h):
    out = {}
    for card in h.cards:
        k = card.keyword
        if k in ("COMMENT", "HISTORY", "") or k in out:
            continue
        try:
            out[k] = jsonable(card.value)
        except Exception:  # noqa: BLE001 - unparsable cards are left out
            continue
    return out


def describe_image(data, header, extra=None):
    d = {"type": "image", "header": header_values(header)}
    if data is None:
        d.update({"shape": [], "dtype": None})
        return d
    arr = np.asarray(data)
    native = arr.astype(arr.dtype.newbyteorder("="))
    d.update({
        "shape": list(reversed(arr.shape)),
        "dtype": DTYPE_NAMES[native.dtype.name],
        "sha256": sha(native),
        "samples": samples(native.ravel()),
    })
    if extra:
        d.update(extra)
    return d


def describe_table(hdu):
    cols = []
    for i, col in enumerate(hdu.columns):
        values = hdu.data[col.name]
        c = {"name": col.name, "format": col.format}
        fmt = str(col.format)
        if ("P" in fmt or "Q" in fmt) and fmt.rstrip(")").split("(")[0].endswith("L"):
            # Variable-length logicals: from the raw bytes, 'T' (or 1, as old astropy
            # wrote) -> true, 'F' -> false, 0 -> null.
            c["rows"] = [[logical_byte(b) for b in np.asarray(v).view(np.uint8)] for v in values]
        elif "P" in fmt or "Q" in fmt:
            rows = []
            for v in values:
                a = np.asarray(v)
                if a.dtype.kind in "SU":
                    rows.append(str(a.item() if a.ndim == 0 else "".join(a.astype(str))))
                elif a.dtype == bool:
                    rows.append([bool(x) for x in a])
                else:
                    rows.append([jsonable(x) for x in a.ravel()])
            c["rows"] = rows
        elif fmt.endswith("A") or "A" in fmt:
            # Trailing blanks are not significant (astropy strips them on element access).
            c["strings"] = [str(s).rstrip(" ") for s in np.asarray(values).ravel()]
        elif fmt.endswith("L"):
            # astropy maps null (0) logicals to False; the raw bytes keep them apart.
            raw = np.asarray(hdu.data.base)[col.name].view(np.uint8).ravel()
            c["logicals"] = [logical_byte(b) for b in raw]
        else:
            a = np.asarray(values)
            a = np.ascontiguousarray(a.astype(a.dtype.newbyteorder("=")))
            if a.dtype.kind == "c":
                a = a.view(np.float32 if a.dtype.itemsize == 8 else np.float64)
            if a.dtype == bool:  # X columns: bits as 0/1 bytes
                a = a.astype(np.uint8)
            native = a.astype(a.dtype.newbyteorder("="))
            c.update({
                "dtype": DTYPE_NAMES[native.dtype.name],
                "sha256": sha(native),
                "samples": samples(native.ravel()),
            })
        cols.append(c)
    return {"type": "bintable", "header": header_values(hdu.header), "nrows": len(hdu.data), "columns": cols}


def logical_byte(b):
    b = int(b)
    return True if b in (0x54, 1) else False if b == 0x46 else None


CONVENTION_BZERO = {8: -128, 16: 2**15, 32: 2**31, 64: 2**63}


def describe_plain_image(path, index, header):
    """Expected decoding of an uncompressed image, by the rules of this project (those
    of CFITSIO): scaled integers are computed in double precision and rounded to float32
    (8/16-bit) or float64, BLANK -> NaN; unscaled integers with BLANK keep their raw
    values (astropy would turn them into floats); unsigned conventions as astropy."""
    bitpix = header.get("BITPIX")
    bscale = header.get("BSCALE", 1)
    bzero = header.get("BZERO", 0)
    blank = header.get("BLANK")
    with fits.open(path, do_not_scale_image_data=True) as hl:
        raw = None if hl[index].data is None else np.array(hl[index].data)
    if raw is None or bitpix is None or bitpix < 0:
        with fits.open(path, uint=True) as hl:
            return describe_image(hl[index].data, header)
    convention = bscale == 1 and bzero == CONVENTION_BZERO.get(bitpix)
    if bscale == 1 and bzero == 0:
        return describe_image(raw, header, {} if blank is None else {"blank": blank})
    if convention:
        with fits.open(path, uint=True) as hl:
            return describe_image(hl[index].data, header)
    phys = raw.astype(np.float64) * bscale + bzero
    if blank is not None:
        phys[raw == blank] = np.nan
    return describe_image(phys.astype(np.float32 if bitpix <= 16 else np.float64), header)


def describe_file(path, nan_mask=None):
    out = []
    with fits.open(path) as hl:
        for hdu in hl:
            if isinstance(hdu, fits.CompImageHDU):
                try:
                    data = np.array(hdu.data)
                except ValueError:
                    # astropy cannot read NOCOMPRESS; CFITSIO's funpack can. (funpack is
                    # not the reference otherwise: CFITSIO 4.2's funpack misplaces the
                    # first tile of quantized images tiled in 2-D.)
                    data = funpacked(path, len(out))
                if nan_mask is not None and data.dtype.kind == "f":
                    # astropy 5.2 ignores the ZBLANK keyword, so null pixels come back as
                    # numbers; they are NaN in the source image, and must be after decoding.
                    data[nan_mask] = np.nan
                out.append(describe_image(data, hdu.header, {"compressed": hdu._header["ZCMPTYPE"]}))
            elif isinstance(hdu, fits.BinTableHDU):
                out.append(describe_table(hdu))
            elif isinstance(hdu, (fits.TableHDU, fits.GroupsHDU)):
                # ASCII tables and random groups: our reader keeps them undecoded.
                out.append({"type": "other", "header": header_values(hdu.header)})
            else:
                # The header as on disk: astropy rewrites BITPIX/BSCALE once data is read.
                header = hdu.header.copy()
                out.append(describe_plain_image(path, len(out), header))
    return out


def funpacked(path, index):
    tmp = path + ".funpacked"
    subprocess.run(["funpack", "-O", tmp, path], check=True)
    try:
        with fits.open(tmp, uint=True) as hl:
            # fpack'ed primary images come back as the primary array.
            hdu = hl[index] if index < len(hl) else hl[0]
            return np.array(hdu.data)
    finally:
        os.remove(tmp)


def raw_scaled(path, bitpix_dtype, raw, bscale, bzero, blank=None):
    """Writes an integer image with BSCALE/BZERO/BLANK cards over raw stored integers."""
    hdr = fits.Header()
    hdu = fits.PrimaryHDU(raw.astype(bitpix_dtype), header=hdr)
    hdu.header["BSCALE"] = bscale
    hdu.header["BZERO"] = bzero
    if blank is not None:
        hdu.header["BLANK"] = blank
    hdu.writeto(path, overwrite=True, checksum=True)
    # Expected physical values as CFITSIO computes them: double precision, then rounded.
    phys = raw.astype(np.float64) * bscale + bzero
    if blank is not None:
        phys[raw == blank] = np.nan
    out_dtype = np.float32 if np.dtype(bitpix_dtype).itemsize <= 2 else np.float64
    return phys.astype(out_dtype)


def make_reference():
    if os.path.isdir(REF):
        shutil.rmtree(REF)
    os.makedirs(REF)
    expected = {}

    def record(name, hdus):
        expected[name] = hdus

    # --- every BITPIX, unsigned and signed-byte conventions -----------------------------
    shape = (5, 7)  # numpy (ny, nx): NAXIS1 = 7, NAXIS2 = 5
    arrays = {
        "uint8": RNG.integers(0, 256, shape).astype(np.uint8),
        "int8": RNG.integers(-128, 128, shape).astype(np.int8),
        "int16": RNG.integers(-32768, 32768, shape).astype(np.int16),
        "uint16": RNG.integers(0, 65536, shape).astype(np.uint16),
        "int32": RNG.integers(-(2**31), 2**31, shape).astype(np.int32),
        "uint32": RNG.integers(0, 2**32, shape, dtype=np.uint64).astype(np.uint32),
        "int64": RNG.integers(-(2**63), 2**63 - 1, shape, dtype=np.int64),
        "uint64": RNG.integers(0, 2**64 - 1, shape, dtype=np.uint64),
        "float32": RNG.normal(0, 1e3, shape).astype(np.float32),
        "float64": RNG.normal(0, 1e10, shape),
    }
    arrays["float32"][1, 2] = np.nan
    arrays["float64"][0, 0] = np.inf
    for name, arr in arrays.items():
        path = os.path.join(REF, f"bitpix-{name}.fits")
        fits.PrimaryHDU(arr).writeto(path, overwrite=True, checksum=True)
        with fits.open(path, uint=True) as hl:
            back = hl[0].data
            assert back.dtype.name == arr.dtype.name, (name, back.dtype)
            assert np.array_equal(back, arr, equal_nan=True)
        record(os.path.basename(path), [describe_image(arr, fits.getheader(path))])

    # --- BSCALE/BZERO/BLANK ------------------------------------------------------------------
    raw16 = RNG.integers(-1000, 1000, shape).astype(np.int16)
    raw16[2, 3] = -32768
    phys = raw_scaled(os.path.join(REF, "scaled-int16-blank.fits"), np.int16, raw16, 0.25, 1000.5, -32768)
    record("scaled-int16-blank.fits", [describe_image(phys, fits.getheader(os.path.join(REF, "scaled-int16-blank.fits")))])
    raw32 = RNG.integers(-(2**30), 2**30, shape).astype(np.int32)
    phys = raw_scaled(os.path.join(REF, "scaled-int32.fits"), np.int32, raw32, 1.5e-3, -7.0)
    record("scaled-int32.fits", [describe_image(phys, fits.getheader(os.path.join(REF, "scaled-int32.fits")))])
    raw8 = RNG.integers(0, 256, shape).astype(np.uint8)
    phys = raw_scaled(os.path.join(REF, "scaled-uint8.fits"), np.uint8, raw8, 2.0, -3.0)
    record("scaled-uint8.fits", [describe_image(phys, fits.getheader(os.path.join(REF, "scaled-uint8.fits")))])
    # Unscaled integers with BLANK keep their raw values.
    rawb = RNG.integers(0, 100, shape).astype(np.int32)
    rawb[0, 1] = -999
    hdu = fits.PrimaryHDU(rawb)
    hdu.header["BLANK"] = -999
    hdu.writeto(os.path.join(REF, "blank-int32.fits"), overwrite=True)
    record("blank-int32.fits", [describe_image(rawb, hdu.header, {"blank": -999})])

    # --- multi-extension file with awkward header cards --------------------------------------
    ph = fits.Header()
    ph["OBJECT"] = "O'Brien's field"
    ph["LONGSTR"] = "This is a long string value that needs CONTINUE cards because it is " \
        "much longer than sixty-eight characters, with 'quotes' inside."
    ph["HIERARCH ESO DET CHIP NAME"] = "CCD-44"
    ph["HIERARCH LSST ISR OVERSCAN LEVEL"] = 1234.5
    ph["BIGINT"] = 2**62 + 1
    ph["EXPTIME"] = (30.0, "seconds")
    ph["FLAG"] = False
    ph["CPLX"] = complex(1.5, -2.25)
    ph["TRAILING"] = "abc   "
    ph["EMPTY"] = ""
    ph["COMMENT"] = "first comment"
    ph["COMMENT"] = "second comment"
    ph["HISTORY"] = "made by make-fits-fixtures.py"
    img = RNG.normal(100, 10, (6, 9)).astype(np.float32)
    mask = RNG.integers(0, 512, (6, 9)).astype(np.int32)
    var = RNG.uniform(1, 2, (6, 9)).astype(np.float32)
    hl = fits.HDUList([
        fits.PrimaryHDU(header=ph),
        fits.ImageHDU(img, name="IMAGE"),
        fits.ImageHDU(mask, name="MASK"),
        fits.ImageHDU(var, name="VARIANCE"),
        fits.ImageHDU(img[:2, :3].copy(), name="IMAGE", ver=2),
    ])
    path = os.path.join(REF, "mef.fits")
    hl.writeto(path, overwrite=True, checksum=True)
    record("mef.fits", describe_file(path))

    # --- binary table with every TFORM code --------------------------------------------------
    n = 5
    cols = [
        fits.Column(name="flag", format="L", array=np.array([True, False, True, True, False])),
        fits.Column(name="bits", format="11X", array=RNG.integers(0, 2, (n, 11)).astype(bool)),
        fits.Column(name="u8", format="B", array=RNG.integers(0, 256, n).astype(np.uint8), null=255),
        fits.Column(name="i8", format="B", array=np.array([-128, -1, 0, 1, 127], dtype=np.int8)),
        fits.Column(name="i16", format="I", array=np.array([-32768, -1, 0, 7, 32767], dtype=np.int16), unit="adu", null=-32768),
        fits.Column(name="u16", format="I", array=np.array([0, 1, 32768, 65535, 9], dtype=np.uint16)),
        fits.Column(name="i32", format="3J", array=RNG.integers(-(2**31), 2**31, (n, 3)).astype(np.int32), dim="(3)"),
        fits.Column(name="u32", format="J", array=np.array([0, 1, 2**31, 2**32 - 1, 5], dtype=np.uint32)),
        fits.Column(name="i64", format="K", array=np.array([-(2**63), -1, 0, 2**53 + 1, 2**63 - 1], dtype=np.int64)),
        fits.Column(name="scaled", format="I", array=np.array([2, 5, -6, 0, 200], dtype=np.int16)),
        fits.Column(name="name", format="8A", array=np.array(["alpha", "b", "", "gamma  ", "deltadel"])),
        fits.Column(name="f32", format="2E", array=RNG.normal(0, 1, (n, 2)).astype(np.float32), unit="mag"),
        fits.Column(name="f64", format="D", array=np.array([np.pi, -0.0, 1e300, np.nan, 2.0])),
        fits.Column(name="c64", format="C", array=np.array([1 + 2j, -1j, 0, 3.5, 2 - 2j], dtype=np.complex64)),
        fits.Column(name="c128", format="M", array=np.array([1 + 2j, -1j, 0, 3.5, 2 - 2j], dtype=np.complex128)),
        fits.Column(name="vla_j", format="PJ()", array=np.array([np.array([1, 2, 3], dtype=np.int32), np.array([], dtype=np.int32), np.array([7], dtype=np.int32), np.array([-1, -2], dtype=np.int32), np.array([9, 9, 9, 9], dtype=np.int32)], dtype=object)),
        fits.Column(name="vla_e", format="PE()", array=np.array([np.array([1.5], dtype=np.float32), np.array([2.5, 3.5], dtype=np.float32), np.array([], dtype=np.float32), np.array([0.25], dtype=np.float32), np.array([4, 5, 6], dtype=np.float32)], dtype=object)),
        fits.Column(name="vla_d", format="QD()", array=np.array([np.array([1.0, 2.0]), np.array([3.0]), np.array([]), np.array([4.0]), np.array([5.0, 6.0, 7.0])], dtype=object)),
    ]
    t = fits.BinTableHDU.from_columns(cols, name="CATALOG")
    # Scaled integer column: raw stored values 2, 5, ... with TSCAL/TZERO set afterwards,
    # so astropy writes the raw integers and reads back raw * 0.5 + 10.
    idx = [c.name for c in cols].index("scaled") + 1
    t.header.set(f"TSCAL{idx}", 0.5, after=f"TFORM{idx}")
    t.header.set(f"TZERO{idx}", 10.0, after=f"TSCAL{idx}")
    path = os.path.join(REF, "bintable.fits")
    # No checksum here: astropy 5.2 sums the table before writing the VLA heap, so its
    # own DATASUM is wrong for tables with variable-length arrays.
    fits.HDUList([fits.PrimaryHDU(), t]).writeto(path, overwrite=True)
    record("bintable.fits", describe_file(path))

    # --- tile compression by fpack (CFITSIO) -----------------------------------------------
    ny, nx = 40, 50
    yy, xx = np.mgrid[0:ny, 0:nx]
    sky = (1000 + 50 * np.exp(-((xx - 20) ** 2 + (yy - 15) ** 2) / 20.0) + RNG.normal(0, 5, (ny, nx))).astype(np.float32)
    sky[3, 4] = np.nan
    sky[10, :] = 0.0  # zero pixels: SUBTRACTIVE_DITHER_2 keeps them exactly
    ints16 = np.round(np.nan_to_num(sky)).astype(np.int16)
    ints16[3, 4] = -5
    ints32 = RNG.integers(-100000, 100000, (ny, nx)).astype(np.int32)
    ints8 = RNG.integers(0, 256, (ny, nx)).astype(np.uint8)
    maskplio = np.where(RNG.random((ny, nx)) < 0.1, RNG.integers(1, 300, (ny, nx)), 0).astype(np.int16)
    maskplio[5, 10:30] = 17
    src = {
        "f32": sky, "i16": ints16, "i32": ints32, "u8": ints8, "plio": maskplio,
        "u16": (ints16.astype(np.int32) + 30000).astype(np.uint16),
    }
    tmp = os.path.join(REF, "_tmp")
    os.makedirs(tmp)
    for key, arr in src.items():
        fits.PrimaryHDU(arr).writeto(os.path.join(tmp, f"{key}.fits"))
    fpack_cases = [
        ("fpack-rice-i16.fits", "i16", ["-r"]),
        ("fpack-rice-u16.fits", "u16", ["-r"]),
        ("fpack-rice-i32-tiles.fits", "i32", ["-r", "-t", "16,16"]),
        ("fpack-rice-u8.fits", "u8", ["-r"]),
        ("fpack-gzip1-i32.fits", "i32", ["-g1"]),
        ("fpack-gzip2-i16-tiles.fits", "i16", ["-g2", "-t", "7,9"]),
        ("fpack-plio-i16.fits", "plio", ["-p"]),
        ("fpack-nocompress-i16.fits", "i16", ["-d"]),
        ("fpack-rice-f32-dither1.fits", "f32", ["-r", "-q17", "4"]),
        ("fpack-rice-f32-nodither.fits", "f32", ["-r", "-q0", "4"]),
        ("fpack-rice-f32-dither2.fits", "f32", ["-r", "-qz17", "4"]),
        ("fpack-gzip2-f32-dither1-tiles.fits", "f32", ["-g2", "-q9", "8", "-t", "16,8"]),
        ("fpack-gzip2-f32-lossless.fits", "f32", ["-g2", "-q", "0"]),
    ]
    for name, key, args in fpack_cases:
        out = os.path.join(REF, name)
        argv = ["fpack", *args, "-O", out, os.path.join(tmp, f"{key}.fits")]
        subprocess.run(argv, check=True)
        record(name, describe_file(out, np.isnan(src[key]) if src[key].dtype.kind == "f" else None))

    # --- tile compression by astropy (its CFITSIO) ------------------------------------------
    const = sky.copy()
    const[0:8, :] = 7.0  # constant tiles cannot be quantized -> GZIP_COMPRESSED_DATA
    hdu = fits.CompImageHDU(const, compression_type="RICE_1", tile_size=(8, 50), quantize_level=4.0,
                            quantize_method=1, dither_seed=42, name="SCI")
    path = os.path.join(REF, "astropy-rice-f32-fallback.fits")
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, overwrite=True, checksum=True)
    record("astropy-rice-f32-fallback.fits", describe_file(path, np.isnan(const)))
    hdu = fits.CompImageHDU(ints16, compression_type="GZIP_1", tile_size=(10, 10), name="G1")
    path = os.path.join(REF, "astropy-gzip1-i16.fits")
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, overwrite=True)
    record("astropy-gzip1-i16.fits", describe_file(path))
    shutil.rmtree(tmp)

    with open(os.path.join(REF, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(REF, p)) for p in os.listdir(REF))
    print(f"wrote {len(expected)} reference files to {REF} ({total} bytes)")


# ---------------------------------------------------------------------------------------
# Part 2: files written by this project must open in astropy with the same values.

NODE_WRITER = r"""
import { writeFits, Header } from './src/fits/index.ts';
import { writeFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
const dir = process.argv[2];
mkdirSync(dir, { recursive: true });
const sha = (a) => {
  const c = a instanceof Float32Array || a instanceof Float64Array ? a.slice() : a;
  if (c instanceof Float32Array) { const u = new Uint32Array(c.buffer); c.forEach((v, i) => { if (Number.isNaN(v)) u[i] = 0x7fc00000; }); }
  if (c instanceof Float64Array) { const u = new BigUint64Array(c.buffer); c.forEach((v, i) => { if (Number.isNaN(v)) u[i] = 0x7ff8000000000000n; }); }
  return createHash('sha256').update(new Uint8Array(c.buffer, c.byteOffset, c.byteLength)).digest('hex');
};
let seed = 12345;
const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const nx = 37, ny = 23, n = nx * ny;
const f32 = new Float32Array(n).map(() => 1000 + 30 * (rand() - 0.5)); f32[5] = NaN;
const i32 = new Int32Array(n).map(() => Math.floor(rand() * 2 ** 20) - 2 ** 19);
const u16 = new Uint16Array(n).map(() => Math.floor(rand() * 65536));
const i16 = new Int16Array(n).map(() => Math.floor(rand() * 2000) - 1000);
const u8 = new Uint8Array(n).map(() => Math.floor(rand() * 256));
const i8 = new Int8Array(n).map(() => Math.floor(rand() * 256) - 128);
const u32 = new Uint32Array(n).map(() => Math.floor(rand() * 2 ** 32));
const i64 = new BigInt64Array(n).map((_, i) => BigInt(i) * 123456789012345n - 2n ** 62n);
const f64 = new Float64Array(n).map(() => (rand() - 0.5) * 1e20);
const ph = new Header();
ph.set('OBJECT', "O'Brien");
ph.set('LONGSTR', 'x'.repeat(90) + ' end');
ph.set('ESO DET CHIP NAME', 'CCD-44', 'hierarch');
ph.set('BIGINT', 2n ** 62n + 1n);
ph.set('EXPTIME', 30.5, 'seconds');
ph.set('CPLX', { re: 1.5, im: -2.25 });
ph.set('FLAG', true);
ph.addComment('written by gpu-drp');
ph.addHistory('step 1');
const wcs = new Header();
wcs.set('CRVAL1', 150.123456789012);
wcs.set('CTYPE1', 'RA---TAN');
const expected = {};
const describe = (data, header) => ({ sha256: data ? sha(data) : null, dtype: data ? data.constructor.name : null, header });
const hv = (h) => Object.fromEntries(h.keys().filter((k) => !['CHECKSUM', 'DATASUM'].includes(k)).map((k) => { const v = h.get(k); return [k, typeof v === 'bigint' ? { bigint: String(v) } : v]; }));
await writeFits(dir + '/ours-mef.fits', [
  { header: ph, data: null },
  { name: 'IMAGE', header: wcs, data: f32, shape: [nx, ny] },
  { name: 'MASK', data: i32, shape: [nx, ny] },
  { name: 'VARIANCE', data: f32.map((v) => v / 10), shape: [nx, ny] },
]);
expected['ours-mef.fits'] = { hdus: [ describe(null, hv(ph)), describe(f32, hv(wcs)), describe(i32, {}), describe(f32.map((v) => v / 10), {}) ] };
const all = { u8, i8, i16, u16, i32, u32, i64, f32, f64 };
await writeFits(dir + '/ours-bitpix.fits', [{ data: null }, ...Object.entries(all).map(([name, data]) => ({ name, data, shape: [nx, ny] }))]);
expected['ours-bitpix.fits'] = { hdus: [describe(null, {}), ...Object.values(all).map((d) => describe(d, {}))] };
await writeFits(dir + '/ours-compressed.fits', [
  { data: null },
  { name: 'GZ2F', data: f32, shape: [nx, ny], compression: { type: 'GZIP_2' } },
  { name: 'RICEI', data: i32, shape: [nx, ny], compression: { type: 'RICE_1', tile: [16, 8] } },
  { name: 'RICEU', data: u16, shape: [nx, ny], compression: { type: 'RICE_1' } },
  { name: 'RICEB', data: u8, shape: [nx, ny], compression: { type: 'RICE_1' } },
  { name: 'RICEI16', data: i16, shape: [nx, ny], compression: { type: 'RICE_1', tile: [nx, ny] } },
  { name: 'GZ1D', data: f64, shape: [nx, ny], compression: { type: 'GZIP_1', tile: [10, 10] } },
]);
expected['ours-compressed.fits'] = { hdus: [describe(null, {}), ...[f32, i32, u16, u8, i16, f64].map((d) => describe(d, {}))] };
const rows = 4;
await writeFits(dir + '/ours-table.fits', [{
  type: 'bintable', name: 'CAT', columns: [
    { name: 'flag', data: [true, false, null, true] },
    { name: 'b', data: Uint8Array.from([0, 1, 254, 255]), null: 255 },
    { name: 'i', data: Int16Array.from([-32768, -1, 0, 32767]), unit: 'adu' },
    { name: 'j', data: Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), repeat: 2, null: 8 },
    { name: 'k', data: BigInt64Array.from([-(2n ** 63n), 0n, 2n ** 53n + 1n, 2n ** 63n - 1n]) },
    { name: 'u', data: Uint16Array.from([0, 1, 40000, 65535]) },
    { name: 'name', data: ['alpha', 'b', '', "it's"] },
    { name: 'e', data: Float32Array.from([1.5, NaN, -0, 3e38]), unit: 'mag' },
    { name: 'd', data: Float64Array.from([Math.PI, -1e-300, 0, 2]) },
    { name: 'vla', data: [Int32Array.from([1, 2]), new Int32Array(0), Int32Array.from([3]), Int32Array.from([4, 5, 6])] },
  ],
}]);
expected['ours-table.fits'] = { rows };
writeFileSync(dir + '/expected-ours.json', JSON.stringify(expected, null, 1) + '\n');
"""


def decode_expected(v):
    if isinstance(v, dict) and "bigint" in v:
        return int(v["bigint"])
    return v


def check_written():
    os.makedirs(WRITTEN, exist_ok=True)
    script = os.path.join(WRITTEN, "_writer.mts")
    with open(script, "w") as f:
        f.write(NODE_WRITER.replace("./src/fits/index.ts", os.path.join(ROOT, "src", "fits", "index.ts")))
    try:
        subprocess.run(["node", "--import", "tsx", script, WRITTEN], check=True, cwd=ROOT)
    finally:
        os.remove(script)
    with open(os.path.join(WRITTEN, "expected-ours.json")) as f:
        expected = json.load(f)
    problems = []
    for name, exp in expected.items():
        path = os.path.join(WRITTEN, name)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # checksum failures and verify warnings are errors
            hl = fits.open(path, checksum=True, uint=True)
            hl.verify("exception")
        if name == "ours-table.fits":
            problems += check_table(hl[1])
            continue
        for i, e in enumerate(exp["hdus"]):
            hdu = hl[i]
            if e["sha256"] is not None:
                data = np.asarray(hdu.data)
                native = data.astype(data.dtype.newbyteorder("="))
                got = DTYPE_NAMES[native.dtype.name]
                if got != e["dtype"]:
                    problems.append(f"{name}[{i}]: dtype {got} != {e['dtype']}")
                if sha(native) != e["sha256"]:
                    problems.append(f"{name}[{i}]: data differ")
            for k, v in e["header"].items():
                if k in ("SIMPLE", "BITPIX", "NAXIS", "EXTEND"):
                    continue
                want = decode_expected(v)
                got = hdu.header.get(k)
                if isinstance(want, dict) and "re" in want:
                    want = complex(want["re"], want["im"])
                if got != want:
                    problems.append(f"{name}[{i}]: {k} = {got!r}, expected {want!r}")
        if "compressed" in name:
            out = os.path.join(WRITTEN, "_funpacked.fits")
            subprocess.run(["funpack", "-O", out, path], check=True)
            with fits.open(out, uint=True) as un:
                for i, e in enumerate(exp["hdus"]):
                    if e["sha256"] is None:
                        continue
                    data = np.asarray(un[i].data)
                    if sha(data.astype(data.dtype.newbyteorder("="))) != e["sha256"]:
                        problems.append(f"{name}[{i}]: funpack gives different data")
            os.remove(out)
        hl.close()
    if problems:
        print("written-file check FAILED:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print(f"written-file check passed for {len(expected)} files in {WRITTEN}")


def check_table(hdu):
    p = []
    d = hdu.data
    def eq(label, got, want):
        g, w = np.asarray(got), np.asarray(want)
        same = list(g.ravel()) == list(w.ravel()) if g.dtype.kind in "OUS" else np.array_equal(g, w, equal_nan=True)
        if not same:
            p.append(f"ours-table.fits column {label}: {got!r} != {want!r}")
    eq("flag", [x if x is None else bool(x) for x in d["flag"].tolist()], [True, False, False, True])
    eq("b", d["b"], [0, 1, 254, 255])
    if hdu.header.get("TNULL2") != 255:
        p.append("TNULL2 missing")
    eq("i", d["i"], [-32768, -1, 0, 32767])
    if hdu.header.get("TUNIT3") != "adu":
        p.append("TUNIT3 missing")
    eq("j", d["j"], [[1, 2], [3, 4], [5, 6], [7, 8]])
    eq("k", d["k"], [-(2**63), 0, 2**53 + 1, 2**63 - 1])
    eq("u", d["u"], [0, 1, 40000, 65535])
    if d["u"].dtype != np.uint16:
        p.append(f"u dtype {d['u'].dtype}")
    eq("name", list(d["name"]), ["alpha", "b", "", "it's"])
    eq("e", d["e"], np.array([1.5, np.nan, -0.0, 3e38], dtype=np.float32))
    eq("d", d["d"], [np.pi, -1e-300, 0, 2])
    vla = [list(x) for x in d["vla"]]
    if vla != [[1, 2], [], [3], [4, 5, 6]]:
        p.append(f"vla {vla}")
    return p


ASTROPY = os.path.join(ROOT, "fixtures", "fits", "astropy")


def describe_astropy_files():
    """Expected values for the copies of astropy's own test files (read by astropy)."""
    expected = {}
    for name in sorted(os.listdir(ASTROPY)):
        if not name.endswith(".fits"):
            continue
        path = os.path.join(ASTROPY, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                expected[name] = describe_file(path)
            except Exception as e:  # noqa: BLE001 - recorded, the TS test decides
                expected[name] = {"astropy_error": f"{type(e).__name__}: {e}"}
    with open(os.path.join(ASTROPY, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"described {len(expected)} astropy test files")


if __name__ == "__main__":
    if "--check-only" not in sys.argv:
        make_reference()
        describe_astropy_files()
    check_written()
