"""The XPT v5 writer: same content as SAS/pyreadstat files, refusals, reproducibility, IBM floats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from cdisc_als.compare import compare_datasets, read_xpt
from cdisc_als.export.xpt import XptError, XptVariable, ibm_from_ieee, ieee_from_ibm, write_xpt, xpt_bytes
from tests.shared_data import pilot_dir


def _variables(ds) -> list[XptVariable]:
    return [XptVariable(n, "Num" if a.type == "num" else "Char", a.length, a.label, a.format, a.informat)
            for n, a in ds.attrs.items()]


@pytest.mark.parametrize("relative", ["sdtm/dm.xpt", "sdtm/ae.xpt", "sdtm/lbur.xpt", "sdtm/suppdm.xpt",
                                      "adam/adsl.xpt", "adam/adtte.xpt"])
def test_rewriting_real_files_keeps_values_labels_lengths_and_formats(tmp_path, relative):
    source = pilot_dir() / relative
    original = read_xpt(source)
    target = tmp_path / source.name
    write_xpt(original.frame, target, original.name, original.label, _variables(original))
    result = compare_datasets(source, target)
    assert result.sysinfo == 0, result.report()


def test_same_frame_same_values_as_pyreadstat(tmp_path):
    frame = pd.DataFrame({"A": ["x", "yy", ""], "B": [1.5, np.nan, -2.0], "C": ["", "", "z"]})
    write_xpt(frame, tmp_path / "ours.xpt", "T", "Test", [XptVariable("A", "Char", 2, "Letters"),
                                                          XptVariable("B", "Num", 8, "Numbers"),
                                                          XptVariable("C", "Char", 1, "More")])
    pyreadstat.write_xport(frame, str(tmp_path / "theirs.xpt"), file_label="Test", table_name="T",
                           column_labels=["Letters", "Numbers", "More"], file_format_version=5)
    a, ma = pyreadstat.read_xport(str(tmp_path / "ours.xpt"))
    b, mb = pyreadstat.read_xport(str(tmp_path / "theirs.xpt"))
    pd.testing.assert_frame_equal(a, b)
    assert ma.column_labels == mb.column_labels and ma.file_label == mb.file_label
    assert ma.variable_storage_width == mb.variable_storage_width
    ours, theirs = (tmp_path / "ours.xpt").read_bytes(), (tmp_path / "theirs.xpt").read_bytes()
    marker = b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"
    assert ours[ours.index(marker):] == theirs[theirs.index(marker):], "observation records are byte-identical"


def test_refuses_what_xpt_v5_cannot_hold_and_lists_every_problem(tmp_path):
    frame = pd.DataFrame({"LONGNAME9": ["a"], "TXT": ["caf\u00e9"], "BIG": [1e80], "WIDE": ["x" * 201]})
    variables = [XptVariable("LONGNAME9", "Char", None, "ok"), XptVariable("TXT", "Char", None, "y" * 41),
                 XptVariable("BIG", "Num", 8, "Big"), XptVariable("WIDE", "Char", None, "Wide")]
    with pytest.raises(XptError) as info:
        write_xpt(frame, tmp_path / "bad.xpt", "TOOLONGDS", "z" * 41, variables)
    text = str(info.value)
    for fragment in ("dataset name 'TOOLONGDS'", "dataset label", "LONGNAME9: variable name", "TXT: label",
                     "is not ASCII", "outside the IBM floating-point range", "longer than 200"):
        assert fragment in text, fragment
    assert not list(tmp_path.iterdir()), "nothing half-written"
    with pytest.raises(XptError, match="longer than 3"):
        write_xpt(pd.DataFrame({"A": ["abcd"]}), tmp_path / "x.xpt", "X", "", [XptVariable("A", "Char", 3, "A")])


def test_reruns_are_byte_identical_and_empty_datasets_work(tmp_path):
    frame = pd.DataFrame({"A": ["x"], "B": [1.0]})
    assert xpt_bytes(frame, "T", "Label") == xpt_bytes(frame.copy(), "T", "Label")
    empty = frame.iloc[:0]
    write_xpt(empty, tmp_path / "e.xpt", "E", "Empty", [XptVariable("A", "Char", 4, "A"), XptVariable("B", "Num", 8, "B")])
    data, meta = pyreadstat.read_xport(str(tmp_path / "e.xpt"))
    assert len(data) == 0 and meta.column_names == ["A", "B"]


def test_ibm_float_round_trip():
    values = np.array([0.0, 1.0, -1.0, 0.1, 123456.789, 1e-60, 5e74, -3.25, np.nan])
    back = ieee_from_ibm(ibm_from_ieee(values))
    assert np.allclose(back[:-1], values[:-1], rtol=1e-15, atol=0) and np.isnan(back[-1])
    assert ibm_from_ieee(np.array([1.0]))[0].tolist() == [0x41, 0x10, 0, 0, 0, 0, 0, 0]
    assert ibm_from_ieee(np.array([np.nan]))[0].tolist() == [0x2E, 0, 0, 0, 0, 0, 0, 0]
