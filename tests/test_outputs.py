"""Output folders: built in staging and swapped in whole; failures leave the previous output untouched
and the partial one marked incomplete; files honour the umask; every run writes a manifest."""

from __future__ import annotations

import json
import os
import stat

import pytest

from cdisc_als.io import atomic_write_text
from cdisc_als.outputs import (
    INCOMPLETE,
    MANIFEST,
    OutputFolderError,
    run_timestamp,
    staged_output,
    write_manifest,
)


def test_rerun_replaces_the_whole_folder(tmp_path):
    target = tmp_path / "out"
    with staged_output(target) as out:
        atomic_write_text(out / "suppss.xpt", "old")
        write_manifest(out, {})
    with staged_output(target) as out:
        atomic_write_text(out / "dm.xpt", "new")
        write_manifest(out, {})
    assert sorted(p.name for p in target.iterdir()) == ["dm.xpt", MANIFEST], "no file of the previous run survives"
    assert not list(tmp_path.glob(".out.*")), "no staging folder is left behind"


def test_failed_run_keeps_the_previous_output_and_marks_the_partial_one(tmp_path):
    target = tmp_path / "out"
    with staged_output(target) as out:
        atomic_write_text(out / "dm.xpt", "complete")
        write_manifest(out, {})
    with pytest.raises(RuntimeError), staged_output(target) as out:
        atomic_write_text(out / "dm.xpt", "half")
        raise RuntimeError("ADaM failed")
    assert (target / "dm.xpt").read_text() == "complete"
    incomplete = tmp_path / "out.incomplete"
    assert (incomplete / "dm.xpt").read_text() == "half"
    assert "RuntimeError: ADaM failed" in (incomplete / INCOMPLETE).read_text()
    with staged_output(target) as out:
        write_manifest(out, {})
    assert not incomplete.exists(), "a later complete run clears the incomplete folder"


def test_interrupted_run_is_marked_incomplete(tmp_path):
    with pytest.raises(KeyboardInterrupt), staged_output(tmp_path / "out") as out:
        atomic_write_text(out / "x.csv", "a")
        raise KeyboardInterrupt
    assert not (tmp_path / "out").exists()
    assert "interrupted" in (tmp_path / "out.incomplete" / INCOMPLETE).read_text()


def test_foreign_folder_is_refused_unless_overwrite(tmp_path):
    target = tmp_path / "home"
    target.mkdir()
    (target / "thesis.docx").write_text("precious")
    with pytest.raises(OutputFolderError, match="not empty and holds no cdisc-als run"), staged_output(target):
        pass
    assert (target / "thesis.docx").exists()
    with staged_output(target, overwrite=True) as out:
        write_manifest(out, {})
    assert not (target / "thesis.docx").exists()


def test_files_honour_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        os.umask(0o077)
        atomic_write_text(tmp_path / "b.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "b.txt").stat().st_mode) == 0o600


def test_manifest_records_inputs_outputs_and_versions(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "demog.csv").write_text("SUBJID\n001\n")
    spec = tmp_path / "study.yaml"
    spec.write_text("study_id: X\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "dm.xpt").write_bytes(b"abc")
    manifest = json.loads(write_manifest(out, {"raw": raw, "study": spec}, ["run", "--raw", "raw"]).read_text())
    # sha256("abc") and sha256("SUBJID\n001\n") computed independently (hashlib / sha256sum)
    assert manifest["outputs"] == {"dm.xpt": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}
    assert manifest["inputs"]["raw"]["files"] == {
        "demog.csv": "4062ea590cbb715e02cd0c81e2018fc98abe02bf3f78d163c2cfaf5124276d3b"}
    assert manifest["inputs"]["study"] == {
        "file": "study.yaml", "sha256": "1c59af34d4ca6624588e48b1d2b31a9cc8b7984af67798d6129a1afb5fca5810"}
    assert manifest["created"] == "2023-11-14T22:13:20+00:00" == run_timestamp().isoformat()
    assert manifest["command"] == ["cdisc-als", "run", "--raw", "raw"]
    assert {"pandas", "pyreadstat", "pydantic"} <= set(manifest["dependencies"])
