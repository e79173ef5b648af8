"""Bad specifications, bad SDTM inputs to ADaM and the other verbs, bad output paths, interruptions,
internal errors and oversized requests: each gives its exit status and one line naming the problem
(or its findings), never a traceback, and outputs that are complete or marked incomplete."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from cdisc_als.cli import main
from cdisc_als.export.xpt import write_xpt
from cdisc_als.resources import PROJECT_DIR
from tests.bad_input.harness import Case, check_outcome, nothing, run_case

STUDY = PROJECT_DIR / "mappings" / "study.yaml"


def _study_text(folder: Path, old: str, new: str) -> None:
    text = STUDY.read_text(encoding="utf-8")
    assert old in text
    (folder / "study.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")


def _with_study(old, new):
    def edit(folder):
        _study_text(folder, old, new)
    return edit


def _check_raw_with_study(data, out):
    return ["check-raw", str(data), "--out", str(out), "--study", str(data / "study.yaml")]


def _mappings_copy(edit_path: str, old: str, new: str):
    """Edit: a copy of the project's mappings (into the input folder) with one file changed."""
    def edit(folder):
        shutil.copytree(PROJECT_DIR / "mappings", folder / "mappings")
        path = folder / "mappings" / edit_path
        text = path.read_text(encoding="utf-8")
        assert old in text, (edit_path, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return edit


def _sdtm_with_mappings(data, out):
    return ["sdtm", "--raw", str(data), "--out", str(out), "--quiet", "--mappings", str(data / "mappings")]


def _rewrite_xpt(name, change):
    """Edit: read <name>.xpt, change the frame, write it back (XPT v5)."""
    def edit(folder):
        path = folder / f"{name}.xpt"
        frame, meta = pyreadstat.read_xport(str(path))
        write_xpt(change(frame), path, name.upper(), meta.file_label or "")
    return edit


def _delete(name):
    def edit(folder):
        (folder / name).unlink()
    return edit


def _adae_flags(out):
    adae = pyreadstat.read_xport(str(out / "adae.xpt"))[0]
    first = adae.iloc[0]
    assert pd.isna(first["ASTDT"]) and first["AW4FL"] != "Y" and first["AW6FL"] != "Y", first.to_dict()
    findings = pd.read_csv(out / "adam_findings.csv", dtype=str)
    assert findings["action"].tolist() == ["value set to missing"]


def _records(name, n):
    def check(out):
        assert len(pyreadstat.read_xport(str(out / f"{name}.xpt"))[0]) == n
    return check


def _no_files(out):
    assert not out.exists() or not any(out.iterdir())


def _compare_args(data, out):
    return ["compare", str(data / "dm.xpt"), str(data / "qs.xpt")]


def _symlinked_trace(data, out):
    outside = data.parent / "outside"
    outside.mkdir()
    out.mkdir()
    (out / "trace").symlink_to(outside)
    return ["sdtm", "--raw", str(data), "--out", str(out), "--quiet"]


def _nothing_outside(out):
    assert not any((out.parent / "outside").iterdir()), "a file was written through the symbolic link"
    assert (out / "INCOMPLETE.txt").is_file()


def _out_is_a_file(data, out):
    out.write_text("not a folder")
    return ["sdtm", "--raw", str(data), "--out", str(out), "--quiet"]


def _run_out_is_a_file(data, out):
    out.write_text("not a folder")
    return ["run", "--raw", str(data), "--out", str(out), "--quiet"]


SDTM_CASES = [
    Case("dm-without-arm", "SDTM variable missing (DM without ARM)", _rewrite_xpt("dm", lambda f: f.drop(columns="ARM")),
         verb="adam", exit=2, stderr="DM.ARM: variable missing from dm.xpt"),
    Case("ds-missing", "required SDTM dataset missing", _delete("ds.xpt"), verb="adam", exit=2,
         stderr="DS: dataset missing"),
    Case("age-character", "SDTM variable of the wrong type", _rewrite_xpt("dm", lambda f: f.assign(AGE=f["AGE"].astype(str))),
         verb="adam", exit=2, stderr="DM.AGE: character"),
    Case("ae-dataset-absent", "optional SDTM dataset absent", _delete("ae.xpt"), verb="adam", exit=0,
         check=_records("adae", 0)),
    Case("zero-row-dataset", "zero-row dataset (valid)", _rewrite_xpt("lb", lambda f: f.iloc[:0]), verb="adam", exit=0,
         check=_records("adlb", 0)),
    Case("zero-row-required-datasets", "required datasets without records (QS, RE, SV, DS, MH, FA)",
         lambda f: [_rewrite_xpt(name, lambda frame: frame.iloc[:0])(f) for name in ("qs", "re", "sv", "ds", "mh", "fa")],
         verb="adam", exit=0, check=_records("adqs", 0)),
    Case("text-named-xpt", "text file named .xpt", lambda f: (f / "qs.xpt").write_text("USUBJID,QSTESTCD\n"),
         verb="adam", exit=2, stderr="qs.xpt: not a SAS transport (XPORT) file"),
    Case("xpt-cut-in-half", "XPT file cut in half", lambda f: (f / "dm.xpt").write_bytes(
             (f / "dm.xpt").read_bytes()[: (f / "dm.xpt").stat().st_size // 2]), verb="adam", exit=2, stderr="dm.xpt"),
    Case("implausible-sdtm-date", "implausible date in SDTM (kept out of analysis windows)",
         _rewrite_xpt("ae", lambda f: f.assign(AESTDTC=["1899-06-14", *f["AESTDTC"].iloc[1:]])), verb="adam", exit=0,
         findings=(("ADAM-DATE-IMPLAUSIBLE", "ae.xpt", 1, "AESTDTC"),), check=_adae_flags),
    Case("compare-text-named-xpt", "compare given a text file named .xpt",
         lambda f: (f / "qs.xpt").write_text("not an XPT file\n"), verb="compare", exit=2, argv=_compare_args,
         stderr="qs.xpt: cannot be read"),
]

RAW_CASES = [
    Case("study-control-character", "control character (a raw \\x0b) in the study spec",
         _with_study("title: Repeated intrathecal", "title: Repeated\x0bintrathecal"), exit=2,
         argv=_check_raw_with_study, stderr="study.yaml"),
    Case("study-title-control", "control character in the study title (escaped in YAML)",
         _with_study("title: Repeated intrathecal autologous BM-MSC in ALS (phase 2, randomized, open label)",
                     'title: "Repeated\\x01intrathecal"'), exit=2,
         argv=_check_raw_with_study, stderr="title: must not contain control characters"),
    Case("study-not-yaml", "study spec that is not YAML", _with_study("study_id: ALSMSC2", "study_id: [ALSMSC2"),
         exit=2, argv=_check_raw_with_study, stderr="not valid YAML"),
    Case("study-unknown-key", "unknown key in the study spec", _with_study("month_length_days:", "month_lenght_days:"),
         exit=2, argv=_check_raw_with_study, stderr="month_lenght_days: unknown key"),
    Case("mapping-unknown-rule", "mapping spec with an unknown rule",
         _mappings_copy("sdtm/AE.yaml", "{rule: assign, from: AETERM}", "{rule: asign, from: AETERM}"), exit=2,
         argv=_sdtm_with_mappings, stderr="AE.yaml: sources[0].variables.AETERM"),
    Case("mapping-control-character", "control character in a mapping spec value",
         _mappings_copy("sdtm/AE.yaml", "DOMAIN: {rule: hardcode, value: AE}", 'DOMAIN: {rule: hardcode, value: "A\\tE"}'),
         exit=2, argv=_sdtm_with_mappings, stderr="AE.yaml.sources[0].variables.DOMAIN.value: 'A\\x09E' contains a control"),
    Case("metadata-label-tab", "control character in a metadata label",
         _mappings_copy("metadata/variables.csv", "Unique Subject Identifier", "Unique Subject\tIdentifier"), exit=2,
         argv=_sdtm_with_mappings, stderr="label"),
    Case("raw-model-not-yaml", "raw data model that is not YAML",
         _mappings_copy("raw/tables.yaml", "subject_table: demog", "subject_table: [demog"), exit=2,
         argv=_sdtm_with_mappings, stderr="tables.yaml"),
    Case("raw-folder-missing", "raw folder that does not exist", nothing, exit=2,
         argv=lambda data, out: ["check-raw", str(data / "nowhere")], stderr="raw data folder not found"),
    Case("symlink-inside-out", "symbolic link inside --out pointing elsewhere", nothing, exit=2, argv=_symlinked_trace,
         stderr="would leave the output folder", check=_nothing_outside),
    Case("out-is-a-file", "--out names a file", nothing, exit=2, argv=_out_is_a_file, stderr="out"),
    Case("run-out-is-a-file", "run --out names a file", nothing, exit=2, argv=_run_out_is_a_file,
         stderr="is not a folder"),
    Case("simulate-too-large", "simulate beyond its size limit", nothing, exit=2,
         argv=lambda data, out: ["simulate", "--subjects", "50000000", "--out", str(out)], stderr="200,000",
         check=lambda out: _no_files(out)),
    Case("tlf-without-adam", "tlf without --adam", nothing, exit=2,
         argv=lambda data, out: ["tlf", "--out", str(out)], stderr="--adam is required"),
]


@pytest.mark.parametrize("case", SDTM_CASES, ids=[c.id for c in SDTM_CASES])
def test_bad_sdtm_input(case, small_sdtm, tmp_path, log_dir):
    source = tmp_path / "sdtm"
    shutil.copytree(small_sdtm, source, ignore=shutil.ignore_patterns("trace", "*.csv"))
    outcome = run_case(case, source, tmp_path / "work")
    check_outcome(case, outcome, tmp_path / "work" / "in", log_dir)


@pytest.mark.parametrize("case", RAW_CASES, ids=[c.id for c in RAW_CASES])
def test_bad_spec_path_or_request(case, small_raw, tmp_path, log_dir):
    outcome = run_case(case, small_raw, tmp_path)
    check_outcome(case, outcome, tmp_path / "in", log_dir)


def _quiet_main(argv):
    with contextlib.redirect_stdout(io.StringIO()):
        return main(argv)


def test_internal_error_is_one_line_and_a_log(small_raw, tmp_path, log_dir, monkeypatch, capsys):
    """An unexpected exception: exit 2, one line naming the log file, the traceback in the log, the
    output folder marked incomplete."""
    import cdisc_als.sdtm.pipeline as pipeline

    def broken(*args, **kwargs):
        raise KeyError("an internal bug")

    monkeypatch.setattr(pipeline, "run_sdtm", broken)
    out = tmp_path / "out"
    out.mkdir()
    assert main(["sdtm", "--raw", str(small_raw), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    logs = list(log_dir.iterdir())
    assert len(logs) == 1 and str(logs[0]) in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and "Traceback" in logs[0].read_text() and "an internal bug" in logs[0].read_text()
    assert "internal error" in (out / "INCOMPLETE.txt").read_text()


def test_sigint_during_run_leaves_output_marked_incomplete(small_raw, tmp_path, monkeypatch, capsys):
    """Ctrl-C in the middle of `run`: exit 130, one line, the previous output untouched and the partial
    one in <out>.incomplete/ with INCOMPLETE.txt."""
    import cdisc_als.adam.pipeline as adam_pipeline

    out = tmp_path / "run"
    out.mkdir()
    (out / "run_manifest.json").write_text("{}")          # a previous complete run

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(adam_pipeline, "run_adam", interrupted)
    assert _quiet_main(["run", "--raw", str(small_raw), "--out", str(out), "--quiet"]) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and "interrupted by SIGINT" in err
    assert sorted(p.name for p in out.iterdir()) == ["run_manifest.json"]
    marker = tmp_path / "run.incomplete" / "INCOMPLETE.txt"
    assert "interrupted by SIGINT" in marker.read_text()
    assert (tmp_path / "run.incomplete" / "sdtm" / "dm.xpt").is_file()


def test_sigterm_stops_a_real_process_cleanly(small_raw, tmp_path):
    """SIGTERM sent to a running `cdisc-als run`: exit 143, one line, output marked incomplete."""
    out = tmp_path / "run"
    env = {**os.environ, "CDISC_ALS_LOG_DIR": str(tmp_path / "logs"), "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen([sys.executable, "-m", "cdisc_als.cli", "run", "--raw", str(small_raw), "--out",
                                str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                               cwd=PROJECT_DIR)
    lines = []
    deadline = time.monotonic() + 120
    for line in process.stderr:
        lines.append(line)
        if "mapping SDTM" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGTERM)
    rest = process.stderr.read()
    assert process.wait(timeout=60) == 143
    messages = [line for line in rest.splitlines() if line.startswith("cdisc-als")]
    assert "Traceback" not in rest and len(messages) == 1 and "interrupted by SIGTERM" in messages[0], rest
    assert "SIGTERM" in (tmp_path / "run.incomplete" / "INCOMPLETE.txt").read_text()
    assert not out.exists()
