"""define.xml 2.1 (schema-valid, structurally complete), define.html and Dataset-JSON round trips."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cdisc_als.cli import main
from cdisc_als.compare import compare_datasets
from cdisc_als.resources import SAMPLE_SDTM_DIR

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1",
      "xlink": "http://www.w3.org/1999/xlink"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("export")
    sdtm, adam = base / "sdtm", base / "adam"
    shutil.copytree(SAMPLE_SDTM_DIR, sdtm, ignore=shutil.ignore_patterns("trace", "*.csv", "*.md"))
    assert main(["adam", "--sdtm", str(sdtm), "--out", str(adam), "--quiet"]) == 0
    assert main(["export", str(sdtm), str(adam)]) == 0
    return {"sdtm": sdtm, "adam": adam}


def _schema():
    odmlib = pytest.importorskip("odmlib")
    xmlschema = pytest.importorskip("xmlschema")
    return xmlschema.XMLSchema(str(Path(odmlib.__file__).parent / "schemas" / "define" / "2.1" / "define2-1-0.xsd"))


@pytest.mark.parametrize("stage", ["sdtm", "adam"])
def test_define_is_valid_define_xml_2_1(exported, stage):
    errors = list(_schema().iter_errors(str(exported[stage] / "define.xml")))
    assert not errors, str(errors[0])[:500]


def test_define_structure_sdtm(exported):
    root = ET.parse(exported["sdtm"] / "define.xml").getroot()
    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    assert mdv.get(f"{{{NS['def']}}}DefineVersion") == "2.1.0"
    groups = {g.get("Name"): g for g in mdv.findall("odm:ItemGroupDef", NS)}
    assert {"DM", "AE", "QS", "LB", "SUPPQS", "TS"} <= set(groups)
    assert groups["QS"].find("def:leaf", NS).get(f"{{{NS['xlink']}}}href") == "qs.xpt"
    item_oids = {i.get("OID") for i in mdv.findall("odm:ItemDef", NS)}
    for group in groups.values():
        for ref in group.findall("odm:ItemRef", NS):
            assert ref.get("ItemOID") in item_oids
    methods = {m.get("OID") for m in mdv.findall("odm:MethodDef", NS)}
    derived = [i for i in mdv.findall("odm:ItemDef", NS) if i.find("def:Origin", NS).get("Type") == "Derived"]
    assert derived and methods
    refs_with_method = {r.get("ItemOID") for g in groups.values() for r in g.findall("odm:ItemRef", NS) if r.get("MethodOID")}
    assert "IT.QS.QSSEQ" in refs_with_method
    qscat = mdv.find("odm:CodeList[@OID='CL.QSCAT']", NS)
    extended = [i.get("CodedValue") for i in qscat if i.get(f"{{{NS['def']}}}ExtendedValue") == "Yes"]
    assert set(extended) == {"ALSFRS-R", "AALS"}
    sex = mdv.find("odm:CodeList[@OID='CL.SEX']", NS)
    assert sex.find("odm:Alias", NS).get("Name") == "C66731"
    vlm = mdv.find("def:ValueListDef[@OID='VL.QS.QSSTRESN']", NS)
    assert len(vlm) >= 14, "one value-level item per QS test code"


def test_define_structure_adam_and_html(exported):
    root = ET.parse(exported["adam"] / "define.xml").getroot()
    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    groups = {g.get("Name") for g in mdv.findall("odm:ItemGroupDef", NS)}
    assert groups == {"ADSL", "ADQS", "ADRE", "ADLB", "ADAE", "ADTTE", "ADCAFS"}
    vlm = mdv.find("def:ValueListDef[@OID='VL.ADQS.AVAL']", NS)
    where = {w.find("odm:RangeCheck/odm:CheckValue", NS).text for w in mdv.findall("def:WhereClauseDef", NS)}
    assert len(vlm) > 20 and {"ALSR1TOT", "ALSR1PI4", "TTDEATH"} <= where
    html = (exported["adam"] / "define.html").read_text()
    assert "<h2 id=\"ADQS\">" in html and "BM-MSC + Riluzole" in html and "&lt;54" in html


def test_dataset_json_round_trips_to_the_xpt(exported):
    for stage, name in (("sdtm", "qs"), ("sdtm", "dm"), ("adam", "adsl"), ("adam", "adtte")):
        folder = exported[stage]
        result = compare_datasets(folder / f"{name}.xpt", folder / "json" / f"{name}.json")
        assert not result.values.size and not result.obs_only_in_base.size, result.report()
        assert set(result.bits) <= {"INFORMAT", "FORMAT"}, result.bits


def test_reexport_is_byte_identical(exported, tmp_path):
    before = (exported["sdtm"] / "define.xml").read_bytes()
    assert main(["export", str(exported["sdtm"]), "--no-json"]) == 0
    assert (exported["sdtm"] / "define.xml").read_bytes() == before
