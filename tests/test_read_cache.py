"""Decoding a dataset file once per run (read_cache.shared_reads) and counting records from the headers
(xpt_structure.describe_xpt): every reader gets its own data, a rewritten file is read again, counts agree
with a full read."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from cdisc_als.export.xpt import XptVariable, write_xpt
from cdisc_als.read_cache import shared_reads
from cdisc_als.xpt_reader import read_xpt
from cdisc_als.xpt_structure import describe_xpt
from tests.shared_data import pilot_dir

VARIABLES = [XptVariable("USUBJID", "Char", 8, "Subject"), XptVariable("AVAL", "Num", 8, "Value")]


def _write(path, frame):
    write_xpt(frame, path, "AD", "Analysis", VARIABLES)


def test_every_reader_gets_its_own_copy_and_the_file_is_decoded_once(tmp_path):
    path = tmp_path / "ad.xpt"
    _write(path, pd.DataFrame({"USUBJID": ["A", "B", "C"], "AVAL": [1.0, 2.0, np.nan]}))
    with shared_reads() as cache:
        first = read_xpt(path)
        first.frame.loc[0, "AVAL"] = 99.0
        first.frame["USUBJID"] = "changed"
        second = read_xpt(path, usecols=["AVAL"])
        third = read_xpt(path)
        assert (cache.misses, cache.hits) == (1, 2)
    assert second.frame.columns.tolist() == ["AVAL"]
    assert second.frame["AVAL"].tolist()[:2] == [1.0, 2.0]
    assert third.frame["USUBJID"].tolist() == ["A", "B", "C"]


def test_a_file_rewritten_in_the_run_is_read_again(tmp_path):
    path = tmp_path / "ad.xpt"
    _write(path, pd.DataFrame({"USUBJID": ["A"], "AVAL": [1.0]}))
    with shared_reads():
        assert read_xpt(path).frame["AVAL"].tolist() == [1.0]
        _write(path, pd.DataFrame({"USUBJID": ["A", "B"], "AVAL": [5.0, 6.0]}))
        os.utime(path, ns=(1, 1))          # a different modification time even on a coarse clock
        assert read_xpt(path).frame["AVAL"].tolist() == [5.0, 6.0]


def test_nothing_is_kept_beyond_the_limit_or_outside_the_block(tmp_path):
    path = tmp_path / "ad.xpt"
    _write(path, pd.DataFrame({"USUBJID": ["A"] * 100, "AVAL": np.arange(100.0)}))
    with shared_reads(limit=10) as cache:        # 10 bytes: the dataset does not fit
        read_xpt(path)
        read_xpt(path)
        assert (cache.misses, cache.hits, cache.used) == (2, 0, 0)
    with shared_reads() as cache:
        read_xpt(path)
        assert cache.used > 0
    assert cache.used == 0


def test_a_written_file_too_big_for_the_cache_is_not_even_built(tmp_path, monkeypatch):
    """100 records of one number and one text column take at least 100 x (8 + 1) = 900 bytes kept: with a
    limit of 899 the writer does not build what it would keep; with 2,000 it keeps it."""
    import cdisc_als.xpt_written as written

    built = []
    real = written.kept_as_read
    monkeypatch.setattr(written, "kept_as_read", lambda *a: built.append(1) or real(*a))
    frame = pd.DataFrame({"USUBJID": ["A"] * 100, "AVAL": np.arange(100.0)})
    for limit, kept in ((899, False), (2000, True)):
        built.clear()
        with shared_reads(limit=limit) as cache:
            _write(tmp_path / "ad.xpt", frame)
            assert bool(built) == kept and (cache.used > 0) == kept


@pytest.mark.parametrize("rows", [0, 1, 3, 9, 10, 11])
@pytest.mark.parametrize("last", ["x", ""])
def test_describe_counts_records_as_a_full_read_does(tmp_path, rows, last):
    # 8-byte records: with 1 to 9 of them the last 80-byte block holds blank padding that must not count
    path = tmp_path / "pad.xpt"
    frame = pd.DataFrame({"C": ["x"] * max(rows - 1, 0) + [last] * min(rows, 1)})
    write_xpt(frame, path, "PAD", "Padding", [XptVariable("C", "Char", 8, "Text")])
    layout = describe_xpt(path)
    assert layout.records == len(read_xpt(path).frame)
    assert (layout.name, layout.label) == ("PAD", "Padding")
    if last:       # a blank last record inside the padding block is ambiguous in XPT v5; otherwise all agree
        assert layout.records == rows == len(pyreadstat.read_xport(str(path))[0])


def test_the_pilot_read_through_the_cache_is_the_pilot_read_directly():
    for path in sorted((pilot_dir() / "adam").glob("*.xpt")):
        direct = read_xpt(path)
        with shared_reads():
            read_xpt(path)
            kept = read_xpt(path)
            part = read_xpt(path, usecols=["USUBJID", direct.frame.columns[-1]])
        pd.testing.assert_frame_equal(kept.frame, direct.frame)
        assert [c.name for c in kept.columns] == [c.name for c in direct.columns]
        pd.testing.assert_frame_equal(part.frame, direct.frame[part.frame.columns.tolist()])
        assert part.frame.columns.tolist() == [c for c in direct.frame.columns
                                               if c in ("USUBJID", direct.frame.columns[-1])]


def test_describe_on_the_pilot_gives_pyreadstat_counts_and_labels():
    for path in sorted((pilot_dir() / "adam").glob("*.xpt")):
        frame, meta = pyreadstat.read_xport(str(path))
        layout = describe_xpt(path)
        assert (layout.records, layout.label) == (len(frame), meta.file_label or ""), path.name


def test_a_folder_whose_last_reader_is_done_is_released(tmp_path):
    (tmp_path / "sdtm").mkdir()
    (tmp_path / "adam").mkdir()
    _write(tmp_path / "sdtm" / "dm.xpt", pd.DataFrame({"USUBJID": ["A"], "AVAL": [1.0]}))
    _write(tmp_path / "adam" / "adsl.xpt", pd.DataFrame({"USUBJID": ["A"], "AVAL": [2.0]}))
    with shared_reads() as cache:
        read_xpt(tmp_path / "sdtm" / "dm.xpt")
        read_xpt(tmp_path / "adam" / "adsl.xpt")
        kept = cache.used
        cache.release(tmp_path / "sdtm")
        assert 0 < cache.used < kept
        read_xpt(tmp_path / "adam" / "adsl.xpt")
        read_xpt(tmp_path / "sdtm" / "dm.xpt")
        assert (cache.hits, cache.misses) == (1, 3)


def test_every_file_a_run_writes_is_kept_as_a_reader_decodes_it(tmp_path):
    """SDTM and ADaM of the sample study written inside shared_reads(): the writer kept every XPT file (no file
    decoded: no cache miss), and what it kept is what decoding the file gives (frame, variables, codes)."""
    from cdisc_als.adam.pipeline import run_adam
    from cdisc_als.resources import SAMPLE_RAW_DIR
    from cdisc_als.sdtm.pipeline import run_sdtm
    from cdisc_als.study import load_study
    from tests.xpt_checks import assert_kept_as_read

    study = load_study()
    with shared_reads(limit=1 << 40) as cache:
        run_sdtm(SAMPLE_RAW_DIR, tmp_path / "sdtm", study)
        sdtm = sorted((tmp_path / "sdtm").glob("*.xpt"))
        kept = {path: cache.get(path) for path in sdtm}       # before anything reads them
        assert len(sdtm) > 15 and cache.misses == 0
        run_adam(tmp_path / "sdtm", tmp_path / "adam", study)
        adam = sorted((tmp_path / "adam").glob("*.xpt"))
        kept |= {path: cache.get(path) for path in adam}
        assert len(adam) >= 7 and cache.misses == 0           # ADaM read every SDTM file from what was kept
    for path, dataset in kept.items():
        assert_kept_as_read(dataset, path)


def test_a_file_too_large_to_keep_gets_a_note_used_by_validation_and_guides(tmp_path, monkeypatch):
    """With a read cache too small for any dataset, the writer leaves a note on each file instead: the
    validation then does not read the file to check it for damage (its rules read it once), and the guides
    count parameters from the note; both give what reading the files gives."""
    import cdisc_als.validate.datasets as loading
    from cdisc_als.adam.pipeline import run_adam
    from cdisc_als.guides.inputs import DatasetFolder
    from cdisc_als.read_cache import written_note
    from cdisc_als.resources import SAMPLE_SDTM_DIR
    from cdisc_als.study import load_study
    from cdisc_als.validate.engine import validate_folder

    study = load_study()
    reads = []
    real_read = loading.read_dataset
    with shared_reads(limit=1):
        run_adam(SAMPLE_SDTM_DIR, tmp_path / "adam", study)
        note = written_note(tmp_path / "adam" / "adqs.xpt")
        monkeypatch.setattr(loading, "read_dataset", lambda path, *a: reads.append(path) or real_read(path, *a))
        stubs = loading.load_folder(tmp_path / "adam").datasets
        assert reads == [] and not any(d.loaded for d in stubs)         # nothing read to be checked for damage
        noted = validate_folder(tmp_path / "adam", study_id=study.study_id)
        noted_counts = DatasetFolder(tmp_path / "adam").value_counts("ADQS", "PARAMCD")
    monkeypatch.setattr(loading, "read_dataset", real_read)
    plain = validate_folder(tmp_path / "adam", study_id=study.study_id)
    adqs = read_xpt(tmp_path / "adam" / "adqs.xpt").frame
    assert note is not None and note.counts["PARAMCD"] == adqs["PARAMCD"].value_counts().to_dict()
    assert [(d.name, d.records, d.types) for d in stubs] == [(d.name, d.records, d.types) for d in plain.datasets]
    pd.testing.assert_frame_equal(noted.counts, plain.counts)
    pd.testing.assert_frame_equal(noted.details, plain.details)
    assert noted_counts.sort_index().to_dict() == adqs["PARAMCD"].value_counts().sort_index().to_dict()
    os.utime(tmp_path / "adam" / "adqs.xpt", ns=(1, 1))             # changed since: the note no longer holds
    with shared_reads(limit=1) as cache:
        assert cache.noted(tmp_path / "adam" / "adqs.xpt") is None
