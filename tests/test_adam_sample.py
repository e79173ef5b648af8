"""ADaM of the sample study: populations and every Table 1/3 mean, SD and responder count, computed
here from the ADaM XPT files (not by TLF code), plus structural rules of ADaM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from cdisc_als.cli import main
from cdisc_als.resources import SAMPLE_SDTM_DIR
from tests.published_check import half_up
from tests.test_sample_published import KNOWN_MEAN_SD_DEVIATIONS, PRINTED


@pytest.fixture(scope="module")
def adam(tmp_path_factory) -> dict[str, pd.DataFrame]:
    out: Path = tmp_path_factory.mktemp("adam")
    assert main(["adam", "--sdtm", str(SAMPLE_SDTM_DIR), "--out", str(out), "--quiet"]) == 0
    return {p.stem.upper(): pyreadstat.read_xport(str(p))[0] for p in out.glob("*.xpt")}


def _fas(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["FASFL"] == "Y"]


def _row_values(adam) -> dict[str, pd.DataFrame]:
    """USUBJID/TRT/AVAL of the variable behind each published row."""
    adsl, adqs, adre = _fas(adam["ADSL"]), _fas(adam["ADQS"]), _fas(adam["ADRE"])

    def from_adsl(var):
        return adsl[["TRT01P", var]].rename(columns={"TRT01P": "TRT", var: "AVAL"})

    def param(frame, code, column="AVAL", visit=None):
        rows = frame[frame["PARAMCD"] == code]
        if visit is not None:
            rows = rows[(rows["AVISITN"] == visit) & (rows["ANL01FL"] == "Y")]
        return rows[["TRTP", column]].rename(columns={"TRTP": "TRT", column: "AVAL"})

    return {
        "AGE": from_adsl("AGE"), "DURSYM": from_adsl("DURONSM"), "DURDIAG": from_adsl("DURDIAGM"),
        "ALSBL": from_adsl("BALSFRS"), "AALSBL": from_adsl("BAALS"), "FVCBL": from_adsl("BFVCPP"),
        "SF36BL": from_adsl("BSF36"), "ALSSLI": param(adqs, "ALSR1SLI"), "AALSSLI": param(adqs, "AALSSLI"),
        "FVCSLI": param(adre, "FVCPPSLI"), "ALSCHG4": param(adqs, "ALSR1TOT", "CHG", 4),
        "ALSCHG6": param(adqs, "ALSR1TOT", "CHG", 6), "ALSSC4": param(adqs, "ALSR1SC4"),
        "ALSSC6": param(adqs, "ALSR1SC6"), "AALSCHG4": param(adqs, "AALS106", "CHG", 4),
        "AALSSC4": param(adqs, "AALSSC4"), "FVCCHG4": param(adre, "FVCPP", "CHG", 4),
        "FVCSC4": param(adre, "FVCPPSC4"), "SF36CHG4": param(adqs, "SF363TOT", "CHG", 4),
    }


def test_populations(adam):
    adsl = adam["ADSL"]
    assert len(adsl) == 64 and adsl["USUBJID"].is_unique
    assert _fas(adsl)["TRT01P"].value_counts().to_dict() == {"BM-MSC + Riluzole": 32, "Riluzole Alone": 27}
    assert (adsl["SAFFL"] == "Y").all() and set(adsl["FASFL"]) == {"Y", "N"}
    msc = adsl[adsl["TRT01P"] == "BM-MSC + Riluzole"]
    assert msc["TRTSDT"].notna().sum() == 32
    assert adsl.loc[adsl["TRT01P"] == "Riluzole Alone", "TRTSDT"].isna().all()
    assert (msc["TRT01A"] == "Riluzole Alone").sum() == 1, "the MSC subject never injected is treated as control"


def test_every_table_1_and_3_mean_and_sd(adam):
    values = _row_values(adam)
    arm = {"MSC": "BM-MSC + Riluzole", "CONTROL": "Riluzole Alone"}
    deviations = {}
    for row, (dp, n1, m1, s1, n2, m2, s2) in PRINTED.items():
        data = values[row].dropna()
        for key, n, mean, sd in (("MSC", n1, m1, s1), ("CONTROL", n2, m2, s2)):
            x = data.loc[data["TRT"] == arm[key], "AVAL"]
            assert len(x) == n, (row, key, len(x))
            for stat, printed, got in (("mean", mean, half_up(x.mean(), dp)), ("sd", sd, half_up(x.std(ddof=1), dp))):
                if got != printed:
                    deviations[(row, key, stat)] = got
    assert deviations == KNOWN_MEAN_SD_DEVIATIONS
    assert half_up(values["ALSCHG4"].query("TRT == 'BM-MSC + Riluzole'")["AVAL"].mean(), 2) == "-1.69"


@pytest.mark.parametrize("paramcd, expected", [
    ("ALSR1PI4", {"BM-MSC + Riluzole": (22, 18, 13, 32), "Riluzole Alone": (5, 2, 1, 27)}),
    ("ALSR1PI6", {"BM-MSC + Riluzole": (20, 17, 8, 32), "Riluzole Alone": (6, 3, 1, 27)}),
])
def test_responders(adam, paramcd, expected):
    rows = _fas(adam["ADQS"])
    rows = rows[rows["PARAMCD"] == paramcd]
    for trt, (c1, c2, c3, n) in expected.items():
        arm = rows[rows["TRTP"] == trt]
        assert len(arm) == n and ((arm["CRIT1FL"] == "Y").sum(), (arm["CRIT2FL"] == "Y").sum(),
                                  (arm["CRIT3FL"] == "Y").sum()) == (c1, c2, c3)
        assert set(arm["CRIT1FL"]) <= {"Y", "N"}
    dead = rows[rows["AVAL"].isna()]
    if paramcd == "ALSR1PI6":
        assert len(dead) == 3 and (dead["CRIT1FL"] == "N").all(), "deaths before month 6 are poor responders"


def test_bds_rules(adam):
    for name in ("ADQS", "ADRE", "ADLB", "ADTTE"):
        frame = adam[name]
        pairs = frame[["PARAMCD", "PARAM"]].drop_duplicates()
        assert pairs["PARAMCD"].is_unique and pairs["PARAM"].is_unique, name
    for name in ("ADQS", "ADRE", "ADLB"):
        frame = adam[name]
        base = frame[frame["ABLFL"] == "Y"]
        assert not base.duplicated(["USUBJID", "PARAMCD"]).any(), name
        merged = frame.merge(base[["USUBJID", "PARAMCD", "AVAL"]].rename(columns={"AVAL": "BL"}),
                             on=["USUBJID", "PARAMCD"], how="left")
        has_base = merged["BASE"].notna()
        assert np.allclose(merged.loc[has_base, "BASE"], merged.loc[has_base, "BL"]), name
        chg = merged["CHG"].notna()
        assert np.allclose(merged.loc[chg, "CHG"], merged.loc[chg, "AVAL"] - merged.loc[chg, "BASE"]), name
        scheduled = frame[frame["ANL01FL"] == "Y"]
        assert not scheduled.duplicated(["USUBJID", "PARAMCD", "AVISITN"]).any(), name


def test_adtte(adam):
    adtte = adam["ADTTE"]
    assert set(adtte["CNSR"]) <= {0, 1, 2, 3, 4}
    events = adtte[adtte["CNSR"] == 0]
    assert (events["EVNTDESC"] != "").all() and (adtte.loc[adtte["CNSR"] > 0, "EVNTDESC"] == "").all()
    assert (adtte.loc[adtte["CNSR"] > 0, "CNSDTDSC"] != "").all()
    os_ = _fas(adtte[adtte["PARAMCD"] == "TTDEATH"])
    assert len(os_) == 59 and (os_["AVAL"] > 0).all() and os_["AVAL"].max() < 76
    deaths = os_[os_["CNSR"] == 0]
    assert set(deaths["SRCDOM"]) == {"DM"} and len(deaths) > 20
    assert (adtte.loc[adtte["PARAMCD"] == "TTTRACH", "EVNTDESC"].isin(["", "TRACHEOSTOMY"])).all()
    other = adtte[adtte["CNSR"] == 3]
    assert len(other) > 0 and set(other["SRCDOM"]) == {"SS"}


def test_adae_windows_and_flags(adam):
    adae = adam["ADAE"]
    assert len(adae) == 59
    for flag, counts in (("AW4FL", {"BM-MSC + Riluzole": 20, "Riluzole Alone": 22}),
                         ("AW6FL", {"BM-MSC + Riluzole": 21, "Riluzole Alone": 23})):
        assert adae[adae[flag] == "Y"].groupby("TRTA")["USUBJID"].nunique().to_dict() == counts
    adr = adae[adae["ADRFL"] == "Y"]
    assert len(adr) == 4 and adr["USUBJID"].nunique() == 3
    assert adae.loc[(adae["AESERFL"] == "Y") & (adae["AW6FL"] == "Y")].groupby("TRTA")["USUBJID"].nunique().to_dict() == {
        "BM-MSC + Riluzole": 3, "Riluzole Alone": 6}


def test_adlb_change_from_v5(adam):
    adlb = adam["ADLB"]
    assert set(adlb["AVISIT"]) == {"VISIT 5", "VISIT 6"}
    tgf = adlb[(adlb["PARAMCD"] == "TGFB1") & adlb["CHG"].notna()]
    assert len(tgf) == 28 and tgf["CHG"].mean() > 0
