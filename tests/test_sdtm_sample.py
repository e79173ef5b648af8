"""The SDTM of the sample study: counts, keys, sequences, study days, terminology, XPT limits, drift."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from cdisc_als.cli import main
from cdisc_als.metadata import load_metadata
from cdisc_als.resources import SAMPLE_RAW_DIR, SAMPLE_SDTM_DIR
from cdisc_als.sdtm.pipeline import run_sdtm
from cdisc_als.study import load_study


@pytest.fixture(scope="module")
def sdtm_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sdtm")
    assert main(["sdtm", "--raw", str(SAMPLE_RAW_DIR), "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def data(sdtm_dir) -> dict[str, tuple[pd.DataFrame, object]]:
    return {p.stem.upper(): pyreadstat.read_xport(str(p)) for p in sdtm_dir.glob("*.xpt")}


@pytest.fixture(scope="module")
def raw() -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in SAMPLE_RAW_DIR.glob("*.csv")}


def test_sample_sdtm_has_not_drifted(sdtm_dir):
    """sample_sdtm/ is exactly what `make sample-sdtm` writes (regenerate it when mappings change)."""
    files = sorted(p.name for p in SAMPLE_SDTM_DIR.glob("*.xpt")) + ["reconciliation.csv"]
    assert len(files) >= 15
    match, mismatch, errors = filecmp.cmpfiles(SAMPLE_SDTM_DIR, sdtm_dir, files, shallow=False)
    assert not mismatch and not errors, f"regenerate with `make sample-sdtm`: {mismatch + errors}"


def test_dm_has_every_screened_subject(data):
    dm = data["DM"][0]
    assert len(dm) == 71 and dm["USUBJID"].is_unique
    assert (dm["ARMNRS"] == "SCREEN FAILURE").sum() == 7
    assert dm.loc[dm["ARMNRS"] != "SCREEN FAILURE", "ARMCD"].value_counts().to_dict() == {"MSC": 33, "CONTROL": 31}
    randomized = dm[dm["ARMCD"] != ""]
    assert (randomized["RFSTDTC"] != "").all(), "RFSTDTC for every randomized subject"
    msc = randomized[randomized["ARMCD"] == "MSC"]
    assert (msc["RFXSTDTC"] != "").sum() == 32 and (msc["ARMNRS"] == "ASSIGNED, NOT TREATED").sum() == 1
    assert (randomized.loc[randomized["ARMCD"] == "CONTROL", "RFXSTDTC"] == "").all()
    assert set(dm["DTHFL"]) <= {"Y", ""} and ((dm["DTHFL"] == "Y") == (dm["DTHDTC"] != "")).all()


def test_qs_has_12_alsfrs_items_per_administration(data, raw):
    qs = data["QS"][0]
    als = qs[qs["QSCAT"] == "ALSFRS-R"]
    per_visit = als.groupby(["USUBJID", "VISITNUM"]).size()
    assert (per_visit == 12).all() and len(per_visit) == len(raw["alsfrs"])
    assert set(als["QSTESTCD"]) <= {f"ALSR1{i:02d}" for i in range(1, 13)} | {"ALSR105A", "ALSR105B"}
    assert (als.groupby(["USUBJID", "VISITNUM"])["QSTESTCD"].apply(lambda s: s.str.startswith("ALSR105").sum()) == 1).all()
    assert (qs["QSSTRESN"].dropna() >= 0).all()
    supp = data["SUPPQS"][0]
    respondent = supp[supp["QNAM"] == "QSRESPBY"]
    assert len(respondent) == len(raw["alsfrs"]) and set(respondent["IDVAR"]) == {"QSGRPID"}
    assert set(respondent["IDVARVAL"]) <= set(als["QSGRPID"])
    baseline = qs[qs["QSLOBXFL"] == "Y"]
    assert not baseline.duplicated(["USUBJID", "QSCAT", "QSTESTCD"]).any()
    with_v5 = set(qs.loc[qs["VISITNUM"] == 5, "USUBJID"])
    assert set(baseline.loc[baseline["USUBJID"].isin(with_v5), "VISITNUM"]) == {5.0}, "baseline is the V5 assessment"
    assert set(baseline.loc[~baseline["USUBJID"].isin(with_v5), "VISITNUM"]) <= {1.0, 2.0}


def test_lb_csf_only_for_msc_at_v5_and_v6(data):
    lb, dm = data["LB"][0], data["DM"][0]
    arms = dm.set_index("USUBJID")["ARMCD"]
    assert set(lb["USUBJID"].map(arms)) == {"MSC"}
    assert set(lb["VISITNUM"]) == {5.0, 6.0}
    assert set(lb["LBTESTCD"]) == {"TGFB1", "TGFB2", "TGFB3", "INTLK6", "INTLK10", "INTLK1B", "MCP1", "TNF"}
    assert set(lb["LBSPEC"]) == {"CEREBROSPINAL FLUID"} and set(lb["LBSTRESU"]) == {"ng/L"}


def test_ae_records_equal_raw_rows(data, raw):
    ae = data["AE"][0]
    assert len(ae) == len(raw["ae"])
    assert set(ae["AESER"]) == {"Y", "N"}
    fatal = ae[ae["AEOUT"] == "FATAL"]
    assert (fatal["AESDTH"] == "Y").all() and len(fatal) == 4


def test_fa_mh_and_supporting_domains(data):
    fa, mh = data["FA"][0], data["MH"][0]
    assert set(fa["FATESTCD"]) == {"LOCONSET", "DXCRITMT"} and len(fa) == 2 * 71
    assert set(fa["FAOBJ"]) == {"AMYOTROPHIC LATERAL SCLEROSIS"}
    assert set(mh["MHEVDTYP"]) == {"SYMPTOM ONSET", "DIAGNOSIS"}
    assert set(data["RE"][0]["RETESTCD"]) == {"FVC", "FVCPP"}
    pr = data["PR"][0]
    assert {"BONE MARROW ASPIRATION", "TRACHEOSTOMY"} <= set(pr["PRTRT"])
    assert set(data["EX"][0]["EXROUTE"]) == {"INTRATHECAL"} and len(data["EX"][0]) == 64
    assert {"INFORMED CONSENT OBTAINED", "RANDOMIZED", "COMPLETED", "DEATH"} <= set(data["DS"][0]["DSDECOD"])
    assert set(data["SS"][0]["SSSTRESC"]) <= {"ALIVE", "DEAD"}
    assert "REGID" in set(data["TS"][0]["TSPARMCD"])


def test_keys_unique_and_seq_consecutive(data):
    meta = load_metadata()
    for name, (frame, _) in data.items():
        if name.startswith("SUPP"):
            assert not frame.duplicated(["USUBJID", "IDVARVAL", "QNAM"]).any()
            assert (frame["QVAL"] != "").all()
            continue
        keys = [k for k in meta.dataset(name).keys if k in frame.columns]
        assert not frame.duplicated(keys).any(), (name, keys)
        seq = f"{name}SEQ"
        if seq in frame.columns and "USUBJID" in frame.columns:
            for _, group in frame.groupby("USUBJID"):
                assert group[seq].tolist() == list(range(1, len(group) + 1)), name


def test_study_days_follow_dtc_and_rfstdtc(data):
    ref = data["DM"][0].set_index("USUBJID")["RFSTDTC"]
    checked = 0
    for name, (frame, _) in data.items():
        for dy in [c for c in frame.columns if c.endswith("DY")]:
            dtc = dy[:-2] + "DTC" if dy[:-2] + "DTC" in frame.columns else dy[:-3] + "DTC"
            if dtc not in frame.columns:
                continue
            full = frame[dtc].str.len().ge(10) & frame["USUBJID"].map(ref).fillna("").str.len().ge(10)
            days = (pd.to_datetime(frame.loc[full, dtc].str[:10]) - pd.to_datetime(frame.loc[full, "USUBJID"].map(ref))).dt.days
            expected = np.where(days >= 0, days + 1, days)
            assert np.array_equal(frame.loc[full, dy].to_numpy(), expected), (name, dy)
            assert (frame[dy] != 0).all()
            checked += 1
    assert checked >= 10


def test_terminology_and_xpt_limits(data):
    meta = load_metadata()
    qs_codes = set(meta.codelist("QSTESTCD").values)
    assert set(data["QS"][0]["QSTESTCD"]) <= qs_codes
    assert set(data["LB"][0]["LBTESTCD"]) <= set(meta.codelist("LBTESTCD").values)
    assert set(data["FA"][0]["FATESTCD"]) <= set(meta.codelist("FATESTCD").values)
    for name, (frame, info) in data.items():
        assert len(name) <= 8 and len(info.file_label) <= 40
        for col, label in zip(info.column_names, info.column_labels, strict=True):
            assert len(col) <= 8 and label and len(label) <= 40, (name, col)
        for col in frame.select_dtypes(include="object"):
            values = frame[col].astype(str)
            assert values.map(str.isascii).all() and (values.str.len() <= 200).all(), (name, col)


def test_every_raw_row_is_accounted_for(sdtm_dir, raw):
    rec = pd.read_csv(sdtm_dir / "reconciliation.csv")
    for _, row in rec.iterrows():
        assert row["rows"] == row["rejected"] + row["mapped"] + row["not_used"]
        assert row["rows"] == len(raw[row["table"]])
    assert rec["rejected"].sum() == 0 and rec["not_used"].sum() == 0
    trace = pd.read_csv(sdtm_dir / "trace" / "qs.csv")
    assert set(trace["_SRC_FILE"]) == {"alsfrs.csv", "aals.csv", "sf36.csv"} and trace["_SRC_ROW"].min() == 2


def test_bad_value_is_missing_and_bad_key_rejects_the_row(tmp_path):
    """A bad start date leaves the AE mapped without a start date; a bad key (AELINE) rejects the row."""
    raw_dir = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW_DIR, raw_dir)
    ae = pd.read_csv(raw_dir / "ae.csv", dtype=str, keep_default_na=False)
    ae.loc[0, "AESTDT"] = "2012-13-01"
    ae.loc[1, "AELINE"] = "one"
    ae.to_csv(raw_dir / "ae.csv", index=False, lineterminator="\n")
    result = run_sdtm(raw_dir, tmp_path / "out", load_study())
    rec = result.reconciliation.set_index("table")
    assert rec.loc["ae", "rejected"] == 1 and rec.loc["ae", "mapped"] == len(ae) - 1
    rows = result.unmapped_rows
    assert rows.iloc[0]["file"] == "ae.csv" and rows.iloc[0]["row"] == 3 and "RAW-INTEGER" in rows.iloc[0]["reason"]
    assert len(result.datasets["AE"]) == len(ae) - 1
    bad_date = [f for f in result.findings if f.rule == "RAW-PARTIAL-DATE"]
    assert [(f.row, f.column, f.value, f.action) for f in bad_date] == [(2, "AESTDT", "2012-13-01",
                                                                         "value set to missing")]
    trace = result.traces["AE"]
    mapped = result.datasets["AE"][(trace["_SRC_ROW"] == 2).to_numpy()]
    assert len(mapped) == 1 and mapped["AESTDTC"].iloc[0] == "" and mapped["AETERM"].iloc[0] == ae.loc[0, "AETERM"]
