"""Reviewer's guide building blocks: explanations of remaining findings, the deaths/fatal AE account, and
reproducible DOCX/HTML rendering."""

from __future__ import annotations

import zipfile

import pandas as pd

from cdisc_als.guides.csdrg import deaths_and_adverse_events
from cdisc_als.guides.document import Document, write_docx, write_html
from cdisc_als.guides.inputs import NOT_EXPLAINED, GuideInputs
from cdisc_als.metadata import default_metadata
from cdisc_als.metadata.derivations import Derivations
from cdisc_als.study import load_study


def _inputs(sdtm: dict, explanations: list[dict] | None = None, issues: dict | None = None) -> GuideInputs:
    return GuideInputs(load_study(), default_metadata(), Derivations({}), sdtm, {}, {}, issues or {},
                       explanations or [])


def test_explanation_dataset_specific_first_then_general_then_not_explained():
    inputs = _inputs({}, [{"rule": "R1", "text": "general"}, {"rule": "R1", "dataset": "DM", "text": "for DM"},
                          {"rule": "SD0001", "text": "by P21 id"}])
    assert inputs.explain("R1", "", "DM") == "for DM"
    assert inputs.explain("R1", "", "AE") == "general"
    assert inputs.explain("R9", "SD0001", "AE") == "by P21 id"
    assert inputs.explain("R9", "", "AE") == NOT_EXPLAINED
    summary = pd.DataFrame({"dataset": ["DM", "AE"], "rule": ["R1", "R9"], "p21": ["", ""], "message": ["", ""],
                            "severity": ["warning"] * 2, "found": [1, 2]})
    inputs.issues = {"sdtm": summary}
    assert inputs.unexplained == 1


def test_deaths_after_the_trial_period_are_explained_with_counts():
    dm = pd.DataFrame({"USUBJID": ["A", "B", "C", "D"], "DTHFL": ["Y", "Y", "Y", ""],
                       "DTHDTC": ["2012-02-12", "2016-05-01", "2012-03-01", ""],
                       "RFENDTC": ["2012-02-12", "2012-09-01", "2012-06-01", "2012-09-01"]})
    ae = pd.DataFrame({"USUBJID": ["A", "C"], "AEOUT": ["FATAL", "RECOVERED/RESOLVED"], "AESDTH": ["Y", "N"]})
    ds = pd.DataFrame({"USUBJID": ["B"], "DSDECOD": ["DEATH"], "DSCAT": ["OTHER EVENT"]})
    text, rows = deaths_and_adverse_events(_inputs({"DM": dm, "AE": ae, "DS": ds}))
    # A died on the last day of its trial period with a fatal AE; C died within it without one; B died years later
    assert dict((r[0].strip(), r[1]) for r in rows) == {
        "Deaths (DM.DTHFL = Y)": 3, "within the trial period (DTHDTC <= RFENDTC)": 2, "with a fatal adverse event": 1,
        "after the trial period (long-term survival follow-up)": 1, "with a DS death record (DSCAT OTHER EVENT)": 1}
    assert "1 death(s) within the trial period have no fatal adverse event: C." in text


def test_docx_and_html_are_reproducible_and_escaped(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    doc = Document("Guide <1>", "sub")
    doc.heading("1 Part", 1)
    doc.paragraph("a < b & c")
    doc.table(["X", "Y"], [[1, None]])
    doc.bullets(["one"])
    write_docx(doc, tmp_path / "a.docx")
    write_docx(doc, tmp_path / "b.docx")
    assert (tmp_path / "a.docx").read_bytes() == (tmp_path / "b.docx").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.docx") as archive:
        core = archive.read("docProps/core.xml").decode()
        assert "2023-11-14T22:13:20Z" in core and "a &lt; b &amp; c" in archive.read("word/document.xml").decode()
    html = write_html(doc, tmp_path / "g.html").read_text()
    assert "Guide &lt;1&gt;" in html and "a &lt; b &amp; c" in html and 'id="1-part"' in html


def test_the_guides_count_and_describe_datasets_from_their_headers_and_read_only_what_they_use(tmp_path,
                                                                                               monkeypatch):
    from cdisc_als.export.xpt import XptVariable, write_xpt
    from cdisc_als.guides import inputs as guide_inputs

    write_xpt(pd.DataFrame({"USUBJID": ["A", "B"], "ARMCD": ["X", "Y"]}), tmp_path / "dm.xpt", "DM", "Demographics")
    write_xpt(pd.DataFrame({"USUBJID": ["A"] * 3, "QSTESTCD": ["Q1", "Q2", "Q1"], "QSSTRESN": [1.0, 2.0, 3.0]}),
              tmp_path / "qs.xpt", "QS", "Questionnaires", [XptVariable("USUBJID"), XptVariable("QSTESTCD"),
                                                            XptVariable("QSSTRESN", "Num")])
    decoded = []
    real = guide_inputs.read_dataset
    monkeypatch.setattr(guide_inputs, "read_dataset",
                        lambda path, usecols=None: (usecols is None and decoded.append(path.name)) or real(path, usecols))
    folder = guide_inputs.DatasetFolder(tmp_path)
    assert list(folder) == ["DM", "QS"] and len(folder) == 2 and "AE" not in folder
    assert "QS" in folder and decoded == []               # `in` answers from the file names, reads nothing
    assert folder.records("QS") == 3 and folder.columns("QS") == ["USUBJID", "QSTESTCD", "QSSTRESN"]
    assert folder.label("DM") == "Demographics"
    assert folder.values("QS", ["QSTESTCD"])["QSTESTCD"].value_counts().to_dict() == {"Q1": 2, "Q2": 1}
    assert decoded == []                                  # counted, described and a column read: nothing decoded whole
    assert folder["DM"]["ARMCD"].tolist() == ["X", "Y"] and folder.get("AE") is None
    assert folder["DM"] is folder["DM"] and decoded == ["dm.xpt"]      # read once when the guides index it
