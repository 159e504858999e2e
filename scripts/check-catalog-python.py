#!/usr/bin/python3
"""Check that gpu-drp source catalogs are readable by Python tools.

Writes the sample catalogs (bench/measure.ts writeSampleCatalogs: a seeded 512x512
simulated coadd, detected and measured on the CPU backend) into fixtures/catalog/ via
`npx tsx`, then reads them back:
  - sources.fits with astropy.table (column names, units, dtypes, row count, values)
  - sources.parquet with pyarrow and pandas when installed (Debian has no pyarrow
    package; the script says so and the JS test test/catalog reads the Parquet back)
and compares the two files value by value. Prints a summary and writes it to
fixtures/catalog/python-check.txt.

Usage: /usr/bin/python3 scripts/check-catalog-python.py   (from the repository root;
the system Python, which has Debian's astropy)
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "catalog")


def main() -> int:
    os.makedirs(OUT, exist_ok=True)
    code = (
        "import('./bench/measure.ts').then(async (m) => {"
        f" const n = await m.writeSampleCatalogs({json.dumps(OUT)}); console.log(n); }});"
    )
    rows = subprocess.run(
        ["npx", "tsx", "--eval", code], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip().splitlines()[-1]
    lines = [f"catalogs written by bench/measure.ts writeSampleCatalogs: {rows} rows"]
    ok = True

    import numpy as np
    from astropy.table import Table
    import astropy

    t = Table.read(os.path.join(OUT, "sources.fits"), hdu="SOURCES")
    lines.append(f"astropy {astropy.__version__}: sources.fits SOURCES {len(t)} rows, {len(t.colnames)} columns")
    expect = {"x": "pix", "ra": "deg", "psf_flux": "nJy", "ixx": "pix2"}
    for col, unit in expect.items():
        got = str(t[col].unit)
        lines.append(f"  {col}: dtype {t[col].dtype}, unit {got}")
        ok &= got == unit
    ok &= len(t) == int(rows)
    ok &= t["flag_blended"].dtype == bool
    ok &= bool(np.all((t["ra"] > 150.0) & (t["ra"] < 150.2)))
    ok &= bool(np.all(t["psf_flux_err"] > 0))

    try:
        import pyarrow
        import pyarrow.parquet as pq
        import pandas as pd

        pt = pq.read_table(os.path.join(OUT, "sources.parquet"))
        df = pd.read_parquet(os.path.join(OUT, "sources.parquet"))
        lines.append(f"pyarrow {pyarrow.__version__}: sources.parquet {pt.num_rows} rows, schema {pt.schema.types[:3]}...")
        lines.append(f"pandas {pd.__version__}: {len(df)} rows")
        meta = json.loads(pt.schema.metadata[b"gpu_drp.columns"])
        units = {c["name"]: c["unit"] for c in meta}
        ok &= units["psf_flux"] == "nJy"
        for col in t.colnames:
            a = np.asarray(t[col])
            b = df[col].to_numpy()
            same = np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
            if not same:
                lines.append(f"  MISMATCH {col}")
                ok = False
        lines.append("  parquet and fits agree on every column" if ok else "  parquet and fits differ")
    except ImportError as e:
        lines.append(f"pyarrow/pandas not installed ({e.name}); parquet check skipped "
                     "(Debian has no python3-pyarrow; see test/catalog for the JS read-back)")

    lines.append("RESULT: " + ("ok" if ok else "FAILED"))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(os.path.join(OUT, "python-check.txt"), "w") as f:
        f.write(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
