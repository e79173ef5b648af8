"""Permanent assisted ventilation from runs of daily NIV records, and the ADTTE event tokens that use
it and the stage progression (expected dates worked out by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_als.adam.adtte import build_adtte, event_source
from cdisc_als.adam.ventilation import derive_pav_onset, duration_hours
from cdisc_als.metadata.parameters import Parameter
from cdisc_als.resources import MAPPINGS_DIR
from cdisc_als.study import PermanentVentilation, load_study

T = pd.Timestamp
RULE = PermanentVentilation(min_hours_per_day=22, min_consecutive_days=7)


def test_iso_durations_to_hours():
    hours = duration_hours(pd.Series(["PT22H", "PT7.5H", "PT20H30M", "P1D", "PT0H", "", "22", "P1W", None]))
    assert hours.tolist()[:5] == [22.0, 7.5, 20.5, 24.0, 0.0]
    assert hours[5:].isna().all()


def _days(subject, start, hours):
    dates = pd.date_range(start, periods=len(hours), freq="D")
    return pd.DataFrame({"USUBJID": subject, "DATE": dates, "HOURS": hours,
                         "SRCSEQ": np.arange(1, len(hours) + 1, dtype=float)})


def test_pav_starts_on_the_first_day_of_the_first_long_enough_run():
    # days 1-6 >= 22 h (a run of 6: too short), day 7 21.9 h, days 8-14 >= 22 h (7 days): PAV on day 8
    a = _days("A", "2015-01-01", [22, 23, 24, 22, 22.5, 23, 21.9, 22, 22, 22, 23, 24, 22, 22, 24])
    # a missing day breaks a run: days 1-4 and 6-9 are both shorter than 7 days: no PAV
    b = _days("B", "2015-01-01", [23.0] * 9).drop(index=4)
    # two records on one day add up: 12 + 11 = 23 h counts; 7 days from 2015-03-01
    c = pd.concat([_days("C", "2015-03-01", [24.0] * 7), _days("C", "2015-03-01", [0.0]).assign(SRCSEQ=99.0)])
    c.loc[c.index[0], "HOURS"] = 12.0
    c = pd.concat([c, pd.DataFrame({"USUBJID": ["C"], "DATE": [T("2015-03-01")], "HOURS": [11.0],
                                    "SRCSEQ": [100.0]})])
    out = derive_pav_onset(pd.concat([a, b, c], ignore_index=True), RULE).set_index("USUBJID")
    assert out["DATE"].to_dict() == {"A": T("2015-01-08"), "C": T("2015-03-01")}
    assert out.loc["A", "SRCSEQ"] == 8.0
    shorter = derive_pav_onset(b, PermanentVentilation(min_hours_per_day=22, min_consecutive_days=4))
    assert shorter["DATE"].tolist() == [T("2015-01-01")]
    assert derive_pav_onset(a, PermanentVentilation(min_hours_per_day=24, min_consecutive_days=1))["DATE"].tolist() \
        == [T("2015-01-03")]


def _pr(rows):
    return pd.DataFrame([{"USUBJID": u, "PRSEQ": float(k), "PRDECOD": d, "PROCCUR": o, "PRSTDTC": dt, "PRDUR": dur}
                         for k, (u, d, o, dt, dur) in enumerate(rows, start=1)])


NIV = "NON-INVASIVE MECHANICAL VENTILATION"


def test_pav_token_and_not_occurred_records_in_adtte():
    study = load_study(MAPPINGS_DIR / "study.yaml")
    rows = [("S1", NIV, "N", "2015-01-01", "")]                         # not used that day: not NIV start
    rows += [("S1", NIV, "Y", f"2015-01-{d:02d}", "PT8H") for d in range(2, 10)]
    rows += [("S1", NIV, "Y", f"2015-01-{d:02d}", "PT23.5H") for d in range(10, 17)]
    sdtm = {"PR": _pr(rows)}
    adsl = pd.DataFrame({"USUBJID": ["S1"], "DTHDT": [pd.NaT]})
    pav = event_source(f"PAV(PR.PRDECOD={NIV})", sdtm, adsl, study)
    assert pav.data["DATE"].tolist() == [T("2015-01-10")] and pav.data["SRCSEQ"].tolist() == [10.0]
    start = event_source(f"PR.PRDECOD={NIV}", sdtm, adsl, study)
    assert start.data["DATE"].min() == T("2015-01-02")


def test_stage_progression_is_the_first_post_baseline_stage_above_baseline():
    study = load_study(MAPPINGS_DIR / "study.yaml")
    adqs = pd.DataFrame({"USUBJID": ["P1"] * 4 + ["P2"] * 3 + ["P3"],
                         "PARAMCD": "KINGSTG", "ANL01FL": "Y",
                         "AVISITN": [-3.0, 0.0, 1.0, 4.0, 0.0, 1.0, 2.0, 1.0],
                         "AVAL": [3.0, 2.0, 2.0, 3.0, 2.0, 2.0, 2.0, 3.0],
                         "BASE": [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, np.nan],
                         "ADT": [T("2012-01-01"), T("2012-04-01"), T("2012-05-01"), T("2012-08-01"),
                                 T("2012-04-01"), T("2012-05-01"), T("2012-06-01"), T("2012-05-01")],
                         "ASEQ": [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 1.0]})
    sdtm = {"SV": pd.DataFrame({"USUBJID": ["P1", "P2", "P3"], "VISITNUM": [1.0] * 3,
                                "SVSTDTC": ["2012-01-01"] * 3})}
    adsl = pd.DataFrame({"USUBJID": ["P1", "P2", "P3"], "DTHDT": [pd.NaT, pd.NaT, pd.NaT],
                         "LSTALVDT": [T("2013-01-01")] * 3})
    parameters = {"TTKINGSP": Parameter("ADTTE", "TTKINGSP", "Time to King's progression",
                                        source="ADQS.KINGSTG>BASE; DM.DTHDTC")}
    out = build_adtte(sdtm, adsl, study, parameters, {"ADQS": adqs}).set_index("USUBJID")
    # P1: the lead-in stage 3 > 2 is before baseline and does not count; month 4 does (event, ASEQ 4)
    assert (out.loc["P1", "ADT"], out.loc["P1", "CNSR"], out.loc["P1", "SRCSEQ"]) == (T("2012-08-01"), 0.0, 4.0)
    assert out.loc["P1", "AVAL"] == pytest.approx(214 / 30.4375)     # 2012-01-01 .. 2012-08-01: 213 days + 1
    # P2: never above baseline: censored at the last assessment, not at the last known alive date
    assert (out.loc["P2", "ADT"], out.loc["P2", "CNSR"], out.loc["P2", "CNSDTDSC"]) == (
        T("2012-06-01"), 1.0, "LAST ASSESSMENT")
    assert "P3" not in out.index                      # no baseline stage: no record
