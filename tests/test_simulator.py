"""Simulator building blocks, determinism, scale mode and the CLI."""

from __future__ import annotations

import filecmp
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc_als.cli import main
from cdisc_als.resources import SAMPLE_RAW_DIR
from cdisc_als.rounding import format_number, format_pvalue
from cdisc_als.simulate import items
from cdisc_als.simulate.ae import random_adverse_events
from cdisc_als.simulate.annealer import (
    Block,
    Bound,
    CountTarget,
    StudentTarget,
    SummaryRow,
    block_report,
    solve_block,
)
from cdisc_als.simulate.plan import ROLE_FAS
from cdisc_als.simulate.run import simulate


def test_annealer_hits_printed_rows_counts_and_test():
    block = Block(variables=("x",), n_subjects=20)
    a, b = tuple(range(10)), tuple(range(10, 20))
    block.rows += [SummaryRow("A", a, {"x": 1}, mean=0.4, sd=1.2, dp=1),
                   SummaryRow("B", b, {"x": 1}, mean=-0.9, sd=1.5, dp=1)]
    block.tests.append(StudentTarget("T", "A", "B", dp=2, p="0.047"))
    block.counts.append(CountTarget("A>=0", a, {"x": 1}, target=7))
    block.bounds.append(Bound(a + b, {"x": 1}, -4, 4))
    x = solve_block(block, [[0] for _ in range(20)], random.Random(0), max_iterations=500_000)
    report = block_report(block, x)
    assert format_number(report["A"]["mean"], 1) == "0.4" and format_number(report["A"]["sd"], 1) == "1.2"
    assert format_number(report["B"]["mean"], 1) == "-0.9" and format_number(report["B"]["sd"], 1) == "1.5"
    assert format_pvalue(report["T"]["p"]) == "0.047"
    assert sum(v[0] >= 0 for v in x[:10]) == 7
    assert min(v[0] for v in x) >= -4 and max(v[0] for v in x) <= 4


def test_annealer_reports_impossible_targets():
    block = Block(variables=("x",), n_subjects=3)
    block.rows.append(SummaryRow("A", (0, 1, 2), {"x": 1}, mean=1.5, sd=0.0, dp=2))  # integers cannot
    with pytest.raises(RuntimeError, match="cells still off: A"):
        solve_block(block, [[1], [1], [2]], random.Random(0), max_iterations=20_000)


def test_alsfrs_items_sum_to_totals_and_stay_monotone():
    rng = np.random.default_rng(0)
    bulbar = np.array([True, False])
    orders = items.deficit_orders(bulbar, rng)
    totals = np.array([48, 40, 33, 20, 0, 47, 30, 12])
    subject = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    scores = items.split_alsfrs(totals, subject, orders)
    assert (scores.sum(axis=1) == totals).all()
    assert scores.min() >= 0 and scores.max() <= 4
    assert (np.diff(scores[:5], axis=0) <= 0).all(), "a decline never raises an item"
    # bulbar onset (subject 0) has lost more of items 1-3 at total 33 than limb onset (subject 1) at 30
    assert scores[2, :3].sum() < scores[6, :3].sum()


def test_aals_subscores_sum_to_total():
    totals = np.array([30, 31, 80, 120, 164])
    shares = np.random.default_rng(1).gamma(4.0, 1.0, (5, 5))
    parts = items.split_aals(totals, shares)
    assert (parts.sum(axis=1) == totals).all()
    assert (parts >= items.AALS_MIN).all() and (parts <= items.AALS_MAX).all()


def test_scale_mode_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    counts = simulate(a, seed=5, subjects=300)
    simulate(b, seed=5, subjects=300)
    files = sorted(p.name for p in a.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(a, b, files, shallow=False)
    assert not mismatch and not errors and len(match) == 16          # 15 raw tables (niv included) + simulation.json
    assert counts["demog"] == 300
    c = tmp_path / "c"
    simulate(c, seed=6, subjects=300)
    assert not filecmp.cmp(a / "alsfrs.csv", c / "alsfrs.csv", shallow=False)


def test_scale_mode_never_repeats_a_subjects_term_on_one_start_date(tmp_path):
    # AE's natural key is subject, term and start date; 10,000 subjects used to give one repeat (seed 20181)
    start = np.datetime64("2012-01-01")
    plan = pd.DataFrame({"SUBJID": [f"S{i}" for i in range(400)], "ROLE": ROLE_FAS,
                         "VISDT_5": start, "VISDT_9": start + np.timedelta64(12, "D")})   # 6 possible days
    events = random_adverse_events(plan, np.random.default_rng(3))
    keys = [(ev.subjid, ev.pt, ev.start) for ev in events]
    assert len(keys) == len(set(keys)) and len(events) > 300


@pytest.mark.slow
def test_calibrated_regeneration_reproduces_the_shipped_sample(tmp_path):
    """The embedded sample study is exactly what `cdisc-als simulate` (seed 20181) writes."""
    out = tmp_path / "sample"
    simulate(out)
    files = sorted(p.name for p in SAMPLE_RAW_DIR.iterdir() if p.suffix in (".csv", ".json"))
    match, mismatch, errors = filecmp.cmpfiles(SAMPLE_RAW_DIR, out, files, shallow=False)
    assert not mismatch and not errors, mismatch


def test_cli_help_for_every_verb(capsys):
    for verb in ("run", "simulate", "sdtm", "adam", "validate", "export", "tlf", "compare", "check-raw"):
        with pytest.raises(SystemExit) as info:
            main([verb, "--help"])
        assert info.value.code == 0
        assert "usage: cdisc-als" in capsys.readouterr().out


def test_cli_simulate_and_run(tmp_path, capsys):
    raw = tmp_path / "raw"
    assert main(["simulate", "--subjects", "50", "--seed", "2", "--out", str(raw), "--quiet"]) == 0
    assert "demog" in capsys.readouterr().out
    assert main(["run", "--raw", str(raw), "--out", str(tmp_path / "out"), "--quiet", "--no-reference"]) == 0
    assert (tmp_path / "out" / "raw" / "raw_findings.csv").exists()
    assert (tmp_path / "out" / "sdtm" / "dm.xpt").exists()
    assert not (tmp_path / "out" / "tlf" / "reconciliation.csv").exists()


def test_console_script_runs_on_the_embedded_sample(tmp_path):
    exe = Path(sys.executable).with_name("cdisc-als")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "cdisc_als.cli"]
    done = subprocess.run([*cmd, "run", "--out", str(tmp_path / "out"), "--quiet"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "0 errors" in done.stdout
    index = (tmp_path / "out" / "index.html").read_text()
    for target in ("sdtm/dm.xpt", "adam/adsl.xpt", "sdtm/define.xml", "validation/sdtm/validation.html",
                   "tlf/tables/t1.rtf", "tlf/tables/l1.rtf", "tlf/figures/f_km_os.png", "tlf/reconciliation.csv"):
        assert f"href='{target}'" in index, target
    assert "known inconsistency" in index
