"""define.xml 2.1 (schema-valid, structurally complete, with comments, value-level metadata and analysis results
metadata), its stylesheet, define.html and Dataset-JSON 1.1 (JSON and NDJSON) agreeing with define.xml."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cdisc_als.cli import main
from cdisc_als.compare import compare_datasets
from cdisc_als.export.schema import DefineSchemaError, define_schema_problems, validate_define
from cdisc_als.resources import SAMPLE_SDTM_DIR

SCHEMAS = Path(__file__).parent / "data" / "datasetjson"
EPOCH = "1700000000"       # 2023-11-14T22:13:20 UTC

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1",
      "xlink": "http://www.w3.org/1999/xlink"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("export")
    sdtm, adam = base / "sdtm", base / "adam"
    shutil.copytree(SAMPLE_SDTM_DIR, sdtm, ignore=shutil.ignore_patterns("trace", "*.csv", "*.md"))
    assert main(["adam", "--sdtm", str(sdtm), "--out", str(adam), "--quiet"]) == 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        assert main(["export", str(sdtm), str(adam)]) == 0
    return {"sdtm": sdtm, "adam": adam}


@pytest.mark.parametrize("stage", ["sdtm", "adam"])
def test_define_is_valid_define_xml_2_1(exported, stage):
    assert define_schema_problems(exported[stage] / "define.xml") == []


def test_export_refuses_a_define_that_breaks_the_schema(exported, tmp_path):
    broken = tmp_path / "define.xml"
    text = (exported["sdtm"] / "define.xml").read_text().replace('Repeating="Yes"', 'Repeating="Often"', 1)
    broken.write_text(text)
    with pytest.raises(DefineSchemaError, match="Repeating"):
        validate_define(broken)


def test_define_header_stylesheet_and_creation_time(exported):
    text = (exported["sdtm"] / "define.xml").read_text()
    assert '<?xml-stylesheet type="text/xsl" href="define2-1.xsl"?>' in text
    assert (exported["sdtm"] / "define2-1.xsl").read_text().startswith("<?xml")
    root = ET.parse(exported["sdtm"] / "define.xml").getroot()
    assert root.get("CreationDateTime") == "2023-11-14T22:13:20", "SOURCE_DATE_EPOCH"
    standards = root.findall("odm:Study/odm:MetaDataVersion/def:Standards/def:Standard", NS)
    assert [s.get("Version") for s in standards] == ["3.4", "2025-03-28"], "CT version from the study spec"


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
    for name, test in (("LB", "LBTESTCD"), ("RE", "RETESTCD"), ("QS", "QSTESTCD")):
        vl = mdv.find(f"def:ValueListDef[@OID='VL.{name}.{name}STRESN']", NS)
        assert len(vl) == len(set(_xpt(exported["sdtm"], name)[test])), name
    comments = {c.get("OID"): c.find("odm:Description/odm:TranslatedText", NS).text
                for c in mdv.findall("def:CommentDef", NS)}
    assert "OTHER EVENT" in comments["COM.DS"] and "ASSIGNED, NOT TREATED" in comments["COM.DM.RFSTDTC"]
    assert groups["DS"].get(f"{{{NS['def']}}}CommentOID") == "COM.DS"
    assert {"TA", "TE", "TV", "TI", "SE"} <= set(groups) and groups["TS"].get("IsReferenceData") == "Yes"
    methods = {m.get("OID"): m.find("odm:Description/odm:TranslatedText", NS).text for m in mdv.findall("odm:MethodDef", NS)}
    assert "latest full date" in methods["MT.DM.RFPENDTC"] and "no day 0" in methods["MT.AE.AESTDY"]
    assert not [t for t in methods.values() if "No derivation text" in t]
    dtc = mdv.find("odm:ItemDef[@OID='IT.AE.AESTDTC']", NS)
    assert dtc.get("DataType") == "date" and dtc.get("Length") is None


def _xpt(folder: Path, name: str):
    import pyreadstat

    return pyreadstat.read_xport(str(folder / f"{name.lower()}.xpt"))[0]


def test_define_structure_adam_and_html(exported):
    root = ET.parse(exported["adam"] / "define.xml").getroot()
    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    groups = {g.get("Name") for g in mdv.findall("odm:ItemGroupDef", NS)}
    assert groups == {"ADSL", "ADQS", "ADRE", "ADLB", "ADAE", "ADTTE", "ADCAFS"}
    vlm = mdv.find("def:ValueListDef[@OID='VL.ADQS.AVAL']", NS)
    where = {w.find("odm:RangeCheck/odm:CheckValue", NS).text for w in mdv.findall("def:WhereClauseDef", NS)}
    assert len(vlm) > 20 and {"ALSR1TOT", "ALSR1PI4", "TTDEATH"} <= where
    for name in ("ADQS", "ADRE", "ADLB", "ADTTE", "ADCAFS"):
        vl = mdv.find(f"def:ValueListDef[@OID='VL.{name}.AVAL']", NS)
        assert len(vl) == len(set(_xpt(exported["adam"], name)["PARAMCD"])), name
    methods = {m.get("OID"): m.find("odm:Description/odm:TranslatedText", NS).text for m in mdv.findall("odm:MethodDef", NS)}
    assert methods["MT.ADCAFS.AVAL.CAFSR4"].startswith("Rank of CAFSS4"), "ADCAFS value-level method from parameters.csv"
    assert mdv.find("odm:ItemDef[@OID='IT.ADCAFS.AVAL.CAFSR4']", NS) is not None
    assert methods["MT.ADQS.AVAL.ALSR1SC4"].startswith("Month 0-4 slope - lead-in slope"), "parameters.csv derivation"
    assert methods["MT.ADLB.AVAL.TGFB1"].startswith("LB.LBSTRESN where LBTESTCD = TGFB1")
    assert not [t for t in methods.values() if "docstrings" in t or "No derivation text" in t]
    predecessor = mdv.find("odm:ItemDef[@OID='IT.ADQS.TRTP']/def:Origin", NS)
    assert predecessor.get("Type") == "Predecessor" and predecessor.find("odm:Description/odm:TranslatedText", NS).text == "ADSL.TRT01P"
    html = (exported["adam"] / "define.html").read_text()
    assert "<h2 id=\"ADQS\">" in html and "BM-MSC + Riluzole" in html and "&lt;54" in html
    assert "built-in method" not in html and "<td>STUDYID USUBJID PARAMCD AVISITN ADT</td>" in html


def test_analysis_results_metadata_for_table_3_and_survival(exported):
    arm = "{http://www.cdisc.org/ns/arm/v1.0}"
    root = ET.parse(exported["adam"] / "define.xml").getroot()
    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    displays = {d.get("Name"): d for d in mdv.iter(f"{arm}ResultDisplay")}
    assert set(displays) == {"T3", "KM"}
    results = {r.get("OID"): r for d in displays.values() for r in d.iter(f"{arm}AnalysisResult")}
    primary = results["AR.T3.ALSCHG4"]
    assert primary.get("AnalysisPurpose") == "PRIMARY OUTCOME MEASURE"
    assert results["AR.T3.AALSCHG4"].get("AnalysisPurpose") == "SECONDARY OUTCOME MEASURE"
    assert results["AR.KM.OS"].get("AnalysisReason") == "DATA DRIVEN"
    where_oid = primary.find(f"{arm}AnalysisDatasets/{arm}AnalysisDataset/def:WhereClauseRef", NS).get("WhereClauseOID")
    clause = mdv.find(f"def:WhereClauseDef[@OID='{where_oid}']", NS)
    checks = {c.get(f"{{{NS['def']}}}ItemOID"): c.find("odm:CheckValue", NS).text for c in clause}
    assert checks == {"IT.ADQS.PARAMCD": "ALSR1TOT", "IT.ADQS.AVISITN": "4", "IT.ADQS.ANL01FL": "Y", "IT.ADQS.FASFL": "Y"}
    variables = [v.get("ItemOID") for v in primary.iter(f"{arm}AnalysisVariable")]
    assert variables == ["IT.ADQS.CHG", "IT.ADQS.TRTP"]
    fvc = results["AR.T3.FVCCHG4"].find(f"{arm}AnalysisDatasets/{arm}AnalysisDataset", NS)
    assert fvc.get("ItemGroupOID") == "IG.ADRE"
    leaves = {leaf.get("ID"): leaf.get(f"{{{NS['xlink']}}}href") for leaf in mdv.findall("def:leaf", NS)}
    assert leaves["LF.T3.ARD"] == "../tlf/ard/T3.csv" and leaves["LF.KM.TABLE"] == "../tlf/tables/km.rtf"
    code = primary.find(f"{arm}ProgrammingCode/{arm}Code").text
    assert code.startswith("cdisc-als tlf") and "output T3, row ALSCHG4" in code
    assert "pooled variance" in primary.find(f"{arm}Documentation/odm:Description/odm:TranslatedText", NS).text


def test_dataset_json_round_trips_to_the_xpt(exported):
    for stage, name in (("sdtm", "qs"), ("sdtm", "dm"), ("adam", "adsl"), ("adam", "adtte")):
        folder = exported[stage]
        result = compare_datasets(folder / f"{name}.xpt", folder / "json" / f"{name}.json")
        assert not result.values.size and not result.obs_only_in_base.size, result.report()
        assert set(result.bits) <= {"INFORMAT", "FORMAT"}, result.bits


def test_reexport_is_byte_identical(exported, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    files = ("define.xml", "define.html", "define2-1.xsl", "json/dm.json", "json/ts.ndjson")
    before = {f: (exported["sdtm"] / f).read_bytes() for f in files}
    assert main(["export", str(exported["sdtm"])]) == 0
    assert {f: (exported["sdtm"] / f).read_bytes() for f in files} == before


@pytest.mark.parametrize("stage", ["sdtm", "adam"])
def test_every_dataset_json_file_validates_against_the_official_schema(exported, stage):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((SCHEMAS / "dataset.schema.json").read_text())
    full = jsonschema.Draft201909Validator(schema)
    row = jsonschema.Draft201909Validator({"$defs": schema["$defs"], "$ref": "#/$defs/Row"})
    files = sorted((exported[stage] / "json").glob("*.json"))
    assert len(files) == len(list(exported[stage].glob("*.xpt")))
    for path in files:
        doc = json.loads(path.read_text())
        problems = [e.message for e in full.iter_errors(doc)]
        assert not problems, (path.name, problems[:3])
        lines = path.with_suffix(".ndjson").read_text().splitlines()
        meta = json.loads(lines[0])
        assert not [e.message for e in full.iter_errors(meta)], path.name
        assert meta == {k: v for k, v in doc.items() if k != "rows"}
        rows = [json.loads(line) for line in lines[1:]]
        assert rows == doc["rows"] and all(row.is_valid(r) for r in rows[:50])


@pytest.mark.parametrize("stage", ["sdtm", "adam"])
def test_dataset_json_agrees_with_define_on_oids_and_data_types(exported, stage):
    root = ET.parse(exported[stage] / "define.xml").getroot()
    study = root.find("odm:Study", NS)
    mdv = study.find("odm:MetaDataVersion", NS)
    items = {i.get("OID"): i for i in mdv.findall("odm:ItemDef", NS)}
    json_types = {"text": "string", "integer": "integer", "float": "float", "date": "date", "datetime": "datetime"}
    for path in sorted((exported[stage] / "json").glob("*.json")):
        doc = json.loads(path.read_text())
        assert doc["studyOID"] == study.get("OID") and doc["metaDataVersionOID"] == mdv.get("OID")
        group = mdv.find(f"odm:ItemGroupDef[@OID='{doc['itemGroupOID']}']", NS)
        assert group is not None, path.name
        assert [r.get("ItemOID") for r in group.findall("odm:ItemRef", NS)] == [c["itemOID"] for c in doc["columns"]]
        for k, column in enumerate(doc["columns"]):
            item = items[column["itemOID"]]
            defined = item.get("DataType")
            if column.get("targetDataType"):
                assert (column["dataType"], column["targetDataType"], defined) == ("date", "integer", "integer")
                assert item.get(f"{{{NS['def']}}}DisplayFormat") == column["displayFormat"] == "DATE9."
                assert all(v is None or len(v) == 10 for v in (row[k] for row in doc["rows"])), "ISO dates"
            else:
                assert column["dataType"] == json_types.get(defined, "string"), (path.name, column["name"], defined)
            if column["dataType"] == "integer":
                assert all(v is None or isinstance(v, int) for v in (row[k] for row in doc["rows"])), column["name"]
