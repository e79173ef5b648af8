"""The metadata layer loads, covers every dataset later stages build, and rejects bad metadata."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cdisc_als.metadata import MetadataError, load_metadata
from cdisc_als.resources import MAPPINGS_DIR


def test_metadata_loads_and_covers_the_datasets():
    meta = load_metadata()
    assert set(meta.sdtm) >= {"DM", "AE", "QS", "LB", "FA", "MH", "RE", "PR", "EX", "DS", "SS", "SV", "TS", "SUPPQUAL"}
    assert set(meta.adam) >= {"ADSL", "ADQS", "ADTTE", "ADRE", "ADLB", "ADAE"}
    dm = meta.dataset("DM")
    assert dm.variable("USUBJID").core == "Req"
    assert dm.variable("SEX").codelist == "SEX"
    assert dm.variable("AGE").type == "Num" and dm.variable("AGE").length == 8
    assert meta.dataset("QS").keys[:2] == ("STUDYID", "USUBJID")
    for ds in meta.datasets.values():
        for var in ds.variables:
            assert len(var.name) <= 8 and len(var.label) <= 40 and var.label.isascii()


def test_codelists_have_c_codes_and_sponsor_extensions():
    meta = load_metadata()
    assert meta.codelist("SEX").c_code == "C66731" and not meta.codelist("SEX").extensible
    qscat = meta.codelist("QSCAT")
    assert qscat.extensible and {t.value for t in qscat.terms if t.extended} == {"ALSFRS-R", "AALS"}
    codes = meta.codelist("QSTESTCD").values
    assert {f"ALSR1{i:02d}" for i in range(1, 13) if i != 5} <= set(codes)
    assert {"ALSR105A", "ALSR105B"} <= set(codes)
    assert meta.codelist("LBTESTCD").lookup()["IL-6"] == "INTLK6"
    assert meta.codelist("UNIT").lookup()["PG/ML"] == "ng/L"
    assert meta.codelist("ELESCORIAL").sponsor and meta.codelist("ONSETSITE").sponsor


@pytest.fixture()
def mappings(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(MAPPINGS_DIR, target)
    return target


def _append_variable(mappings: Path, line: str) -> None:
    with (mappings / "metadata" / "variables.csv").open("a") as handle:
        handle.write(line + "\n")


@pytest.mark.parametrize("line, fragment", [
    ("DM,LONGNAME9,Too Long Name,Char,20,Perm,,Collected,99", "LONGNAME9"),
    ("DM,XLAB,This label is far longer than forty characters,Char,20,Perm,,Collected,99", "must be 1-40 ASCII"),
    ("DM,XNA,Label with \u00e9,Char,20,Perm,,Collected,99", "must be 1-40 ASCII"),
    ("DM,SEX,Sex again,Char,2,Req,SEX,Collected,99", "duplicate variables ['SEX']"),
    ("DM,XTYPE,Some Label,Text,20,Perm,,Collected,99", "type 'Text'"),
    ("DM,XLEN,Some Label,Char,201,Perm,,Collected,99", "length '201'"),
    ("DM,XCL,Some Label,Char,20,Perm,NOSUCHLIST,Collected,99", "NOSUCHLIST"),
    ("DM,XCORE,Some Label,Char,20,Optional,,Collected,99", "core 'Optional'"),
])
def test_bad_metadata_is_rejected(mappings, line, fragment):
    _append_variable(mappings, line)
    with pytest.raises(MetadataError) as info:
        load_metadata(mappings)
    assert fragment in str(info.value)


def test_all_problems_reported_at_once(mappings):
    _append_variable(mappings, "DM,LONGNAME9,Fine,Char,20,Perm,,Collected,98")
    _append_variable(mappings, "DM,XLEN,Fine,Char,0,Perm,,Collected,99")
    with pytest.raises(MetadataError) as info:
        load_metadata(mappings)
    assert len(info.value.problems) == 2
