"""Benchmark: write a 1,000,000-row QS-shaped frame as XPT v5 with our writer and with pyreadstat.

Prints rows/s for both, the ratio (goal >= 10x) and whether the content read back is identical
(values, labels; lengths differ only where pyreadstat cannot set them).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from cdisc_als.export.xpt import XptVariable, write_xpt

LABELS = {"STUDYID": "Study Identifier", "DOMAIN": "Domain Abbreviation", "USUBJID": "Unique Subject Identifier",
          "QSSEQ": "Sequence Number", "QSTESTCD": "Question Short Name", "QSTEST": "Question Name",
          "QSCAT": "Category of Question", "QSORRES": "Finding in Original Units",
          "QSSTRESN": "Numeric Finding in Standard Units", "VISITNUM": "Visit Number", "QSDTC": "Date/Time of Finding",
          "QSDY": "Study Day of Finding"}


def qs_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    subj = rng.integers(1, rows // 120 + 2, rows)
    test = rng.integers(1, 13, rows)
    score = rng.integers(0, 5, rows)
    return pd.DataFrame({
        "STUDYID": "ALSMSC2", "DOMAIN": "QS", "USUBJID": [f"ALSMSC2-01-{s:05d}" for s in subj],
        "QSSEQ": np.arange(1, rows + 1, dtype=float), "QSTESTCD": [f"ALSR1{t:02d}" for t in test],
        "QSTEST": [f"ALSR1-Item {t}" for t in test], "QSCAT": "ALSFRS-R", "QSORRES": score.astype(str),
        "QSSTRESN": score.astype(float), "VISITNUM": rng.integers(1, 11, rows).astype(float),
        "QSDTC": "2012-03-07", "QSDY": rng.integers(-91, 200, rows).astype(float)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    frame = qs_frame(args.rows)
    variables = [XptVariable(c, "Num" if frame[c].dtype.kind == "f" else "Char", None, LABELS[c]) for c in frame]
    with tempfile.TemporaryDirectory() as tmp:
        ours, theirs = Path(tmp) / "ours.xpt", Path(tmp) / "theirs.xpt"
        start = time.perf_counter()
        write_xpt(frame, ours, "QS", "Questionnaires", variables)
        t_ours = time.perf_counter() - start
        start = time.perf_counter()
        pyreadstat.write_xport(frame, str(theirs), file_label="Questionnaires", table_name="QS",
                               column_labels=[LABELS[c] for c in frame], file_format_version=5)
        t_theirs = time.perf_counter() - start
        a, ma = pyreadstat.read_xport(str(ours))
        b, mb = pyreadstat.read_xport(str(theirs))
        same = a.equals(b) and ma.column_labels == mb.column_labels and ma.file_label == mb.file_label
    print(f"rows: {args.rows:,}")
    print(f"cdisc_als writer: {t_ours:.2f} s, {args.rows / t_ours:,.0f} rows/s")
    print(f"pyreadstat:       {t_theirs:.2f} s, {args.rows / t_theirs:,.0f} rows/s")
    print(f"ratio: {t_theirs / t_ours:.1f}x (goal >= 10x)")
    print(f"identical values and labels read back: {same}")


if __name__ == "__main__":
    main()
