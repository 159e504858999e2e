#!/usr/bin/python3
"""Golden vectors for src/geom/wcs.ts, computed with astropy.wcs (wcslib).

Usage (Debian: apt-get install -y python3-astropy):

    /usr/bin/python3 scripts/make-wcs-fixtures.py [output-dir]   # default fixtures/wcs

For each FITS header below it writes fixtures/wcs/<name>.json with
- the header cards (1-based CRPIX, as on disk),
- pixToSky: an 11 x 11 grid of 0-based pixel positions over a 4096 x 4096 CCD, from the
  outer pixel edges (-0.5, 4095.5) inwards, plus a few extra points, and astropy's
  all_pix2world(..., 0) for them (SIP included),
- skyToPix: sky positions of random pixels on and slightly around the CCD and astropy's
  all_world2pix(..., 0, tolerance=1e-12) for them.

The output is deterministic (fixed seeds); rerun after changing the cases and commit
the JSON files. Floats are written with repr(), which round-trips float64 exactly.
"""

import json
import sys
import warnings
from pathlib import Path

import astropy
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

NX = NY = 4096


def base_header(crval, crpix, **extra):
    h = fits.Header()
    h["CTYPE1"] = "RA---TAN"
    h["CTYPE2"] = "DEC--TAN"
    h["CRVAL1"] = crval[0]
    h["CRVAL2"] = crval[1]
    h["CRPIX1"] = crpix[0]
    h["CRPIX2"] = crpix[1]
    for k, v in extra.items():
        h[k] = v
    return h


def cd_cards(scale_arcsec, rotation_deg, flip=False):
    s = scale_arcsec / 3600.0
    r = np.deg2rad(rotation_deg)
    xm = 1.0 if flip else -1.0
    return {
        "CD1_1": float(np.cos(r) * s * xm),
        "CD1_2": float(np.sin(r) * s),
        "CD2_1": float(-np.sin(r) * s * xm),
        "CD2_2": float(np.cos(r) * s),
    }


def sip_terms(rng, order, reach, amplitudes):
    """Random SIP coefficients: a term of degree n moves a pixel at distance `reach`
    from CRPIX by about amplitudes[n] pixels."""
    terms = {}
    for p in range(order + 1):
        for q in range(order + 1 - p):
            n = p + q
            if n < 2:
                continue
            terms[(p, q)] = float(rng.normal() * amplitudes[n] / reach**n)
    return terms


def fit_inverse(h, order, crpix, margin=150):
    """Least-squares AP/BP of the given order over the CCD (plus a margin), as
    astrometry.net and LSST do: u = U + AP(U, V), v = V + BP(U, V)."""
    w = WCS(h)
    xs = np.linspace(-margin, NX - 1 + margin, 60)
    ys = np.linspace(-margin, NY - 1 + margin, 60)
    gx, gy = np.meshgrid(xs, ys)
    u = gx.ravel() + 1 - crpix[0]
    v = gy.ravel() + 1 - crpix[1]
    # sip_pix2foc returns focal-plane offsets already relative to CRPIX.
    foc = w.sip_pix2foc(np.column_stack([gx.ravel() + 1, gy.ravel() + 1]), 1)
    U = foc[:, 0]
    V = foc[:, 1]
    powers = [(p, q) for p in range(order + 1) for q in range(order + 1 - p)]
    # Scale columns so the normal equations stay well conditioned.
    scale = max(np.abs(U).max(), np.abs(V).max())
    design = np.column_stack([(U / scale) ** p * (V / scale) ** q for p, q in powers])
    ap, *_ = np.linalg.lstsq(design, u - U, rcond=None)
    bp, *_ = np.linalg.lstsq(design, v - V, rcond=None)
    err = np.hypot(design @ ap - (u - U), design @ bp - (v - V)).max()
    print(f"  AP/BP order {order}: max fit error {err:.2e} px over the CCD + {margin} px")
    cards = {"AP_ORDER": order, "BP_ORDER": order}
    for (p, q), ca, cb in zip(powers, ap, bp):
        cards[f"AP_{p}_{q}"] = float(ca / scale ** (p + q))
        cards[f"BP_{p}_{q}"] = float(cb / scale ** (p + q))
    return cards


def sip_header(name, rng, crval, crpix, order, amplitudes, rotation, with_inverse):
    h = base_header(crval, crpix, **cd_cards(0.2, rotation))
    h["CTYPE1"] = "RA---TAN-SIP"
    h["CTYPE2"] = "DEC--TAN-SIP"
    h["RADESYS"] = "ICRS"
    # Reach: distance from CRPIX to the farthest CCD corner, in pixels.
    corners = np.array([[0, 0], [NX, 0], [0, NY], [NX, NY]], dtype=float)
    reach = float(np.max(np.hypot(corners[:, 0] + 0.5 - crpix[0], corners[:, 1] + 0.5 - crpix[1])))
    h["A_ORDER"] = order
    h["B_ORDER"] = order
    for (p, q), c in sip_terms(rng, order, reach, amplitudes).items():
        h[f"A_{p}_{q}"] = c
    for (p, q), c in sip_terms(rng, order, reach, amplitudes).items():
        h[f"B_{p}_{q}"] = c
    if with_inverse:
        for k, v in fit_inverse(h, order + 1, crpix).items():
            h[k] = v
    return name, h


def cases():
    rng = np.random.default_rng(20260503)
    amps = {2: 3.0, 3: 1.2, 4: 0.4, 5: 0.12}
    out = [
        (
            "tan-cd",
            "TAN with a rotated CD matrix (30 deg), 0.2 arcsec/pixel, CRPIX at the CCD centre",
            base_header((150.1, 2.2), (2048.5, 2048.5), RADESYS="ICRS", **cd_cards(0.2, 30.0)),
        ),
        (
            "tan-pc-cdelt",
            "TAN with CDELT + PC (rotation -112 deg, slightly skewed), FK5 J2000, off-centre CRPIX",
            base_header(
                (45.0, -30.0),
                (1000.3, 3100.7),
                RADESYS="FK5",
                EQUINOX=2000.0,
                CDELT1=-5.5e-5,
                CDELT2=5.6e-5,
                PC1_1=float(np.cos(np.deg2rad(-112.0))),
                PC1_2=float(-np.sin(np.deg2rad(-112.0)) * 1.001),
                PC2_1=float(np.sin(np.deg2rad(-112.0))),
                PC2_2=float(np.cos(np.deg2rad(-112.0))),
            ),
        ),
        (
            "tan-crota2",
            "TAN with CDELT + CROTA2 = 17 deg (AIPS convention)",
            base_header(
                (300.0, 60.0), (2048.5, 2048.5), CDELT1=-6e-5, CDELT2=6e-5, CROTA2=17.0
            ),
        ),
        (
            "tan-near-north-pole",
            "TAN at dec 89.95: the CCD contains the north celestial pole",
            base_header((210.0, 89.95), (2048.5, 2048.5), **cd_cards(0.2, -10.0)),
        ),
        (
            "tan-north-pole-exact",
            "TAN with CRVAL at dec = +90 exactly (LONPOLE defaults to 0 there)",
            base_header((30.0, 90.0), (2048.5, 2048.5), **cd_cards(0.2, 0.0)),
        ),
        (
            "tan-south-pole",
            "TAN with CRVAL at dec = -90 exactly (LONPOLE defaults to 180)",
            base_header((0.0, -90.0), (1500.0, 2500.0), **cd_cards(0.25, 45.0)),
        ),
        (
            "tan-ra-zero",
            "TAN whose CCD straddles RA = 0 at dec -45",
            base_header((0.01, -45.0), (2048.5, 2048.5), **cd_cards(0.2, 5.0)),
        ),
        (
            "tan-lonpole",
            "TAN with an explicit non-default LONPOLE = 150 and an east-right (flipped) CD",
            base_header((80.0, 20.0), (2048.5, 2048.5), LONPOLE=150.0, **cd_cards(0.3, 0.0, True)),
        ),
        (
            "tan-wide",
            "TAN with 20 arcsec pixels (a 23-degree field) to exercise the projection far from CRVAL",
            base_header((120.0, -60.0), (2048.5, 2048.5), **cd_cards(20.0, 12.0)),
        ),
    ]
    sip_cases = [
        ("tan-sip2-inv", "TAN-SIP order 2 with fitted AP/BP (order 3)", (35.2, -4.7), (2048.5, 2048.5), 2, 20.0, True),
        ("tan-sip3", "TAN-SIP order 3 without AP/BP", (181.0, 45.0), (2100.0, 1990.0), 3, -75.0, False),
        ("tan-sip4-inv", "TAN-SIP order 4 with fitted AP/BP (order 5)", (359.99, 10.0), (2048.5, 2048.5), 4, 135.0, True),
        ("tan-sip5", "TAN-SIP order 5 without AP/BP", (270.0, -88.0), (2048.5, 2048.5), 5, 0.0, False),
        (
            "tan-sip3-offchip-inv",
            "TAN-SIP order 3 with CRPIX far off the CCD (a detector at the focal-plane edge), with AP/BP",
            (10.0, -20.0),
            (-9000.0, 14000.0),
            3,
            90.0,
            True,
        ),
        (
            "tan-sip5-offchip",
            "TAN-SIP order 5 with CRPIX off the CCD, without AP/BP",
            (220.0, 5.0),
            (6500.0, -3000.0),
            5,
            -30.0,
            False,
        ),
    ]
    for name, desc, crval, crpix, order, rot, inv in sip_cases:
        amp = {n: a for n, a in amps.items() if n <= order}
        if "offchip" in name:
            amp = {n: a * 4 for n, a in amp.items()}
        _, h = sip_header(name, rng, crval, crpix, order, amp, rot, inv)
        out.append((name, desc, h))
    return out


def make_fixture(name, description, header, seed):
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w = WCS(header)
    edges = np.linspace(-0.5, NX - 0.5, 11)
    gx, gy = np.meshgrid(edges, edges)
    extra = np.array([[0.0, 0.0], [NX - 1.0, NY - 1.0], [2047.5, 2047.5], [1234.25, 3210.75]])
    px = np.concatenate([gx.ravel(), extra[:, 0]])
    py = np.concatenate([gy.ravel(), extra[:, 1]])
    world = w.all_pix2world(np.column_stack([px, py]), 0)
    # Sky -> pixel: random pixels on and up to 100 px around the CCD, their sky
    # positions from astropy, then astropy's iterative inverse of those.
    n = 75
    rx = rng.uniform(-100.0, NX + 99.0, n)
    ry = rng.uniform(-100.0, NY + 99.0, n)
    sky = w.all_pix2world(np.column_stack([rx, ry]), 0)
    back = w.all_world2pix(sky, 0, tolerance=1e-12, maxiter=200, adaptive=False, detect_divergence=True, quiet=False)
    cards = []
    for card in header.cards:
        v = card.value
        if isinstance(v, (np.floating,)):
            v = float(v)
        cards.append([card.keyword, v])
    return {
        "name": name,
        "description": description,
        "generator": "scripts/make-wcs-fixtures.py",
        "astropy": astropy.__version__,
        "numpy": np.__version__,
        "ccd": [NX, NY],
        "pixelOrigin": 0,
        "header": cards,
        "pixToSky": {
            "x": px.tolist(),
            "y": py.tolist(),
            "ra": world[:, 0].tolist(),
            "dec": world[:, 1].tolist(),
        },
        "skyToPix": {
            "ra": sky[:, 0].tolist(),
            "dec": sky[:, 1].tolist(),
            "x": back[:, 0].tolist(),
            "y": back[:, 1].tolist(),
            "xTrue": rx.tolist(),
            "yTrue": ry.tolist(),
        },
    }


def main():
    outdir = Path(sys.argv[1] if len(sys.argv) > 1 else "fixtures/wcs")
    outdir.mkdir(parents=True, exist_ok=True)
    index = []
    for i, (name, desc, header) in enumerate(cases()):
        fixture = make_fixture(name, desc, header, seed=1000 + i)
        path = outdir / f"{name}.json"
        path.write_text(json.dumps(fixture, indent=1) + "\n")
        resid = np.hypot(
            np.array(fixture["skyToPix"]["x"]) - np.array(fixture["skyToPix"]["xTrue"]),
            np.array(fixture["skyToPix"]["y"]) - np.array(fixture["skyToPix"]["yTrue"]),
        ).max()
        print(f"{path}: astropy round-trip max {resid:.2e} px")
        index.append(name)
    (outdir / "index.json").write_text(json.dumps({"fixtures": index}, indent=1) + "\n")


if __name__ == "__main__":
    main()
