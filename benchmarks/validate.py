"""Benchmark: validation of 300,000 records with 200,000 findings against the same records with none.

Issue 13's targets: with findings, under 30 s and under 1 GB peak memory, and memory flat in the
number of findings (findings stream to CSV; only counts and the capped Details sheet stay in memory).
Each run is a fresh process (its peak resident memory is its own); the report (XLSX + details CSV) is
written as part of the run. Prints seconds, records/s, findings, peak memory and the ratio of the two
runs. --pilot also times the public pilot SDTM (goal under 6 s).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

PILOT = next((p / "shared" / "reference" / "cdiscpilot01" / "sdtm" for p in Path(__file__).resolve().parents
              if (p / "shared" / "reference" / "cdiscpilot01" / "sdtm").is_dir()), Path("shared-not-found"))


def make_study(folder: Path, records: int, findings: int) -> None:
    """DM of 1,000 subjects and an LB of `records` glucose results; `findings` of them lack their unit
    (one finding each: SD0026 missing LBORRESU; LBSTRESU stays, so no second rule fires)."""
    import pyreadstat

    folder.mkdir(parents=True, exist_ok=True)
    subjects = [f"BENCH-{i:04d}" for i in range(1000)]
    dm = pd.DataFrame({"STUDYID": "BENCH", "DOMAIN": "DM", "USUBJID": subjects, "RFSTDTC": "2020-01-01",
                       "ARMCD": "A", "ACTARMCD": "A", "AGE": 50.0, "AGEU": "YEARS"})
    rng = np.random.default_rng(13)
    per_subject = records // len(subjects)
    usubjid = np.repeat(subjects, per_subject)
    seq = np.tile(np.arange(1, per_subject + 1), len(subjects)).astype(float)
    day = (seq - 1).astype(int)
    dates = (pd.Timestamp("2020-01-01") + pd.to_timedelta(day, unit="D")).strftime("%Y-%m-%dT%H:%M")
    result = np.round(rng.normal(5.5, 0.8, len(seq)), 1)
    unit = np.where(np.arange(len(seq)) < findings, "", "mmol/L")
    lb = pd.DataFrame({"STUDYID": "BENCH", "DOMAIN": "LB", "USUBJID": usubjid, "LBSEQ": seq, "LBTESTCD": "GLUC",
                       "LBTEST": "Glucose", "LBORRES": result.astype(str), "LBORRESU": unit,
                       "LBSTRESC": result.astype(str), "LBSTRESN": result, "LBSTRESU": "mmol/L",
                       "LBBLFL": np.where(seq == 1, "Y", ""), "VISITNUM": seq, "LBDTC": dates, "LBDY": day + 1.0})
    labels = {c: c for c in lb.columns}
    pyreadstat.write_xport(dm, str(folder / "dm.xpt"), table_name="DM", file_format_version=5,
                           column_labels={c: c for c in dm.columns}, file_label="Demographics")
    pyreadstat.write_xport(lb, str(folder / "lb.xpt"), table_name="LB", file_format_version=5,
                           column_labels=labels, file_label="Laboratory Test Results")


def child(folder: str, out: str) -> None:
    """One timed validation in this (fresh) process; prints a JSON line."""
    from cdisc_als.validate.engine import validate_folder
    from cdisc_als.validate.report import write_xlsx

    start = time.perf_counter()
    result = validate_folder(folder, study_id="", out=out)
    write_xlsx(result, Path(out) / "validation.xlsx")
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    records = sum(len(d.frame) for d in result.datasets)
    print(json.dumps({"seconds": seconds, "records": records, "findings": result.total, "peak_mb": peak_mb}))


def timed(folder: Path, out: Path) -> dict:
    run = subprocess.run([sys.executable, __file__, "--child", str(folder), str(out)], capture_output=True,
                         text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def show(label: str, stats: dict) -> None:
    print(f"{label}: {stats['records']:,} records, {stats['findings']:,} findings: {stats['seconds']:.2f} s, "
          f"{stats['records'] / stats['seconds']:,.0f} records/s, peak memory {stats['peak_mb']:,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--findings", type=int, default=200_000)
    parser.add_argument("--pilot", type=Path, default=PILOT, help="pilot SDTM folder (timed when present)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        make_study(base / "with", args.records, args.findings)
        make_study(base / "without", args.records, 0)
        with_findings = timed(base / "with", base / "report_with")
        without = timed(base / "without", base / "report_without")
        show("with findings (goal < 30 s, < 1024 MB)", with_findings)
        show("without findings", without)
        print(f"ratio with/without: time {with_findings['seconds'] / without['seconds']:.2f}x, "
              f"peak memory {with_findings['peak_mb'] / without['peak_mb']:.2f}x")
        if args.pilot.is_dir():
            show("pilot SDTM (goal < 6 s)", timed(args.pilot, base / "report_pilot"))


if __name__ == "__main__":
    main()
