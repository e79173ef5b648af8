"""ADaM derivation helpers on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_als.adam import derive as d

T = pd.Timestamp


def test_impute_date_first_mid_last_and_flags():
    dtc = pd.Series(["2012-03-04", "2012-03", "2012", "", "2012-02"])
    first, flag = d.impute_date(dtc, "first")
    assert first.tolist()[:3] == [T("2012-03-04"), T("2012-03-01"), T("2012-01-01")] and pd.isna(first[3])
    assert flag.tolist() == ["", "D", "M", "", "D"]
    mid, _ = d.impute_date(dtc, "mid")
    assert mid.tolist()[:3] == [T("2012-03-04"), T("2012-03-15"), T("2012-07-01")]
    last, _ = d.impute_date(dtc, "last")
    assert last.tolist()[1:3] == [T("2012-03-31"), T("2012-12-31")] and last[4] == T("2012-02-29")


def test_impute_date_bounds_apply_to_imputed_dates_only():
    dtc = pd.Series(["2012-03", "2012-03-02", "2012"])
    floor = pd.Series([T("2012-03-10")] * 3)
    date, flag = d.impute_date(dtc, "first", min_date=floor)
    assert date.tolist() == [T("2012-03-10"), T("2012-03-02"), T("2012-03-10")]
    date, _ = d.impute_date(pd.Series(["2012-03"]), "last", max_date=pd.Series([T("2012-03-20")]))
    assert date[0] == T("2012-03-20")


def test_study_day_has_no_day_zero():
    ref = pd.Series([T("2012-03-07")] * 3)
    assert d.study_day(pd.Series([T("2012-03-07"), T("2012-03-08"), T("2012-03-06")]), ref).tolist() == [1, 2, -1]


def test_months_between_uses_the_month_length_given():
    start, end = pd.Series([T("2012-01-01")]), pd.Series([T("2012-01-31")])
    assert d.months_between(start, end, 30.4375)[0] == pytest.approx(31 / 30.4375)
    assert d.months_between(start, end, 30.0)[0] == pytest.approx(31 / 30)
    assert d.months_between(start, end, 28.0, add_one=False)[0] == pytest.approx(30 / 28)


def test_merge_first_and_last_record():
    target = pd.DataFrame({"USUBJID": ["A", "B", "C"]})
    source = pd.DataFrame({"USUBJID": ["A", "A", "B"], "EXSTDTC": ["2012-02-01", "2012-01-05", "2012-03-01"]})
    first = d.merge_first_last(target, source, "USUBJID", ["EXSTDTC"], {"TRTSDTC": "EXSTDTC"})
    last = d.merge_first_last(target, source, "USUBJID", ["EXSTDTC"], {"TRTEDTC": "EXSTDTC"}, keep="last")
    assert first["TRTSDTC"].tolist()[:2] == ["2012-01-05", "2012-03-01"] and pd.isna(first["TRTSDTC"][2])
    assert last["TRTEDTC"].tolist()[0] == "2012-02-01"


def test_baseline_change_and_subject_without_post_baseline():
    frame = pd.DataFrame({"USUBJID": ["A", "A", "A", "B"], "PARAMCD": ["T"] * 4, "AVAL": [40.0, 38.0, 35.0, 30.0],
                          "_POST": [False, False, True, False]})
    out = d.derive_baseline(frame, ["USUBJID", "PARAMCD"], baseline_mask=~frame["_POST"])
    assert out["ABLFL"].tolist() == ["", "Y", "", "Y"]
    assert out["BASE"].tolist() == [38.0, 38.0, 38.0, 30.0]
    assert np.isnan(out["CHG"][0]) and out["CHG"][2] == -3.0 and np.isnan(out["CHG"][3])
    assert out["PCHG"][2] == pytest.approx(-3 / 38 * 100)


def test_slopes_change_and_improvement():
    lead = d.two_point_slope(pd.Series([40.0, 40.0, 36.0]), pd.Series([34.0, 37.0, 38.0]), 3)   # -2, -1, +2/3
    follow = d.two_point_slope(pd.Series([34.0, 37.0, 38.0]), pd.Series([32.0, 37.0, 36.0]), 4)  # -0.5, 0, -0.5
    assert lead.tolist()[:2] == [-2.0, -1.0] and follow.tolist() == [-0.5, 0.0, -0.5]
    assert d.slope_change(follow, lead).tolist()[:2] == [1.5, 1.0]
    improvement = d.slope_improvement(follow, lead)
    assert improvement.tolist()[:2] == [75.0, 100.0]
    assert np.isnan(improvement[2]), "a positive lead-in slope has nothing to improve on"


def test_criterion_flags_exact_thresholds_and_forced_no():
    value = pd.Series([50.0, 49.999, 75.0, np.nan, 120.0])
    c50, c75, c100 = d.criterion_flags(value, [50, 75, 100])
    assert c50.tolist() == ["Y", "N", "Y", "", "Y"] and c75.tolist() == ["N", "N", "Y", "", "Y"]
    assert c100.tolist() == ["N", "N", "N", "", "Y"]
    (forced,) = d.criterion_flags(value, [50], force_no=pd.Series([False, False, False, True, False]))
    assert forced[3] == "N"


def _src(name, rows, cnsr, desc):
    return d.EventSource(name, pd.DataFrame(rows, columns=["USUBJID", "DATE"]), cnsr, desc, "X", "XDTC")


def test_time_to_event_first_event_ties_and_censoring():
    subjects = pd.DataFrame({"USUBJID": ["A", "B", "C", "D"], "STARTDT": [T("2012-01-01")] * 4})
    death = _src("DEATH", [("A", T("2013-01-01")), ("B", T("2012-06-01"))], 0, "DEATH")
    trach = _src("TRACH", [("A", T("2012-06-01")), ("B", T("2012-06-01"))], 0, "TRACHEOSTOMY")
    cutoff = _src("CUTOFF", [("C", T("2018-02-28"))], 2, "DATA CUT-OFF DATE")
    alive = _src("ALIVE", [("C", T("2018-02-28")), ("D", T("2014-05-05")), ("D", T("2015-05-05"))], 1,
                 "LAST KNOWN ALIVE DATE")
    out = d.derive_tte(subjects, [death, trach], [cutoff, alive], 30.4375).set_index("USUBJID")
    assert out.loc["A", "ADT"] == T("2012-06-01") and out.loc["A", "EVNTDESC"] == "TRACHEOSTOMY"
    assert out.loc["B", "EVNTDESC"] == "DEATH", "same-day events: the first source in the list wins"
    assert out.loc["C", "CNSR"] == 2 and out.loc["C", "CNSDTDSC"] == "DATA CUT-OFF DATE" and out.loc["C", "EVNTDESC"] == ""
    assert out.loc["D", "CNSR"] == 1 and out.loc["D", "ADT"] == T("2015-05-05"), "latest censoring date"
    assert out.loc["A", "CNSR"] == 0 and out.loc["A", "AVAL"] == pytest.approx(153 / 30.4375)


def test_time_to_event_data_cutoff_censors_later_events_at_the_cutoff():
    """Cut-off 2013-06-30: A died before it (event); B died after it (censored at the cut-off, CNSR 2,
    not an event); C was last seen alive after it (censored at the cut-off); D was last seen before it
    (CNSR 1 at its own date); E died exactly on the cut-off date (still an event)."""
    subjects = pd.DataFrame({"USUBJID": list("ABCDE"), "STARTDT": [T("2013-01-01")] * 5})
    death = _src("DEATH", [("A", T("2013-03-01")), ("B", T("2014-01-10")), ("E", T("2013-06-30"))], 0, "DEATH")
    alive = _src("ALIVE", [("A", T("2013-03-01")), ("B", T("2014-01-10")), ("C", T("2015-01-01")),
                           ("D", T("2013-02-01")), ("E", T("2013-06-30"))], 1, "LAST KNOWN ALIVE DATE")
    cutoff = d.DataCutoff(T("2013-06-30"))
    out = d.derive_tte(subjects, [death], [alive], 30.0, cutoff).set_index("USUBJID")
    assert out.loc["A", "CNSR"] == 0 and out.loc["A", "AVAL"] == pytest.approx(60 / 30)   # Jan 1 -> Mar 1: 59 days + 1
    for subject in "BC":
        assert out.loc[subject, "CNSR"] == 2 and out.loc[subject, "ADT"] == T("2013-06-30")
        assert out.loc[subject, "CNSDTDSC"] == "DATA CUT-OFF DATE" and out.loc[subject, "EVNTDESC"] == ""
        assert out.loc[subject, "AVAL"] == pytest.approx(181 / 30)                        # 180 days + 1
    assert out.loc["D", "CNSR"] == 1 and out.loc["D", "ADT"] == T("2013-02-01")
    assert out.loc["E", "CNSR"] == 0 and out.loc["E", "EVNTDESC"] == "DEATH"


def test_death_before_v9_gives_no_slope_but_poor_responder():
    from cdisc_als.adam.bds import slope_records

    wide = pd.DataFrame({1.0: [40.0, 41.0], 5.0: [37.0, 38.0], 9.0: [35.0, np.nan]}, index=["A", "B"])
    dates = pd.DataFrame(index=["A", "B"])
    follow = slope_records(wide, dates, 5.0, 9.0, 4, "SF4", "slope", "MONTH 0-4", 104.0)
    assert follow["USUBJID"].tolist() == ["A"], "no follow-up value, no slope record"
