"""What the simulator guarantees about disease history and NIV (docs/simulator.md), checked on the
shipped sample, on a scale-mode study and on hand-built inputs."""

from __future__ import annotations

import filecmp

import numpy as np
import pandas as pd
import pytest

from cdisc_als.resources import SAMPLE_RAW_DIR
from cdisc_als.simulate import calibrate as cal
from cdisc_als.simulate import scale, tables
from cdisc_als.simulate.niv import niv_periods, niv_table
from cdisc_als.simulate.plan import (
    DIAGNOSIS_MARGIN_DAYS,
    RILUZOLE_MIN_DAYS,
    SF_SHORT_RILUZOLE,
    check_history_dates,
    empty_plan,
)
from cdisc_als.simulate.run import NIV_USE_STREAM, simulate

T = pd.Timestamp
DAYS = pd.Timedelta(days=1)


def _read(folder, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


def _histories(folder) -> pd.DataFrame:
    """alshist joined to demog; a partial onset (YYYY-MM) on the 15th, the imputation day."""
    hist = _read(folder, "alshist").merge(_read(folder, "demog")[["SUBJID", "ICDT", "SFREASON"]], on="SUBJID")
    onset = hist["ONSETDT"].where(hist["ONSETDT"].str.len() == 10, hist["ONSETDT"] + "-15")
    return pd.DataFrame({"SUBJID": hist["SUBJID"], "ONSET": pd.to_datetime(onset),
                         "DIAG": pd.to_datetime(hist["DIAGDT"]), "CONSENT": pd.to_datetime(hist["ICDT"]),
                         "RILUZOLE": pd.to_datetime(hist["RILUSTDT"]), "SFREASON": hist["SFREASON"]})


def _assert_eligibility_dates(folder) -> pd.DataFrame:
    h = _histories(folder)
    assert DIAGNOSIS_MARGIN_DAYS == 90 and RILUZOLE_MIN_DAYS == 90
    bad = h[~(h["ONSET"] < h["DIAG"])]
    assert bad.empty, f"onset not before diagnosis: {bad['SUBJID'].tolist()}"
    bad = h[~(h["DIAG"] <= h["CONSENT"] - 90 * DAYS)]
    assert bad.empty, f"diagnosis less than 90 days before consent: {bad['SUBJID'].tolist()}"
    short = h["SFREASON"] == SF_SHORT_RILUZOLE
    on_time = h[~short]
    assert (on_time["RILUZOLE"] >= on_time["DIAG"]).all(), "riluzole before the diagnosis"
    assert (on_time["RILUZOLE"] <= on_time["CONSENT"] - 90 * DAYS).all(), "riluzole less than 90 days at consent"
    late = h[short]
    assert ((late["CONSENT"] - late["RILUZOLE"]).dt.days.between(14, 89)).all()
    return h


def test_shipped_sample_keeps_onset_diagnosis_and_riluzole_dates():
    h = _assert_eligibility_dates(SAMPLE_RAW_DIR)
    assert len(h) == 71 and (h["SFREASON"] == "RILUZOLE LESS THAN 3 MONTHS").sum() == 1
    # subject 01-006 (issue 12) had its diagnosis after consent and after death
    s006 = h.set_index("SUBJID").loc["006"]
    assert s006["DIAG"] <= s006["CONSENT"] - 90 * DAYS


def test_scale_mode_keeps_the_same_dates(tmp_path):
    simulate(tmp_path, seed=5, subjects=300)
    _assert_eligibility_dates(tmp_path)


def test_baseline_search_bounds_the_diagnosis_per_subject():
    lows = np.full(cal.N_MSC + cal.N_CTL, 180)
    lows[[0, 40]] = 184
    block = cal.baseline_block(lows)
    diag = [b for b in block.bounds if b.coef == {"diag_days": 1}]
    assert [(b.lo, b.hi, len(b.members)) for b in diag] == [(180, 1500, 57), (184, 1500, 2)]
    assert diag[1].members == (0, 40)
    with pytest.raises(ValueError, match="58 diagnosis bounds for 59 subjects"):
        cal.baseline_block(lows[:-1])


def _plan(consent: list[str], diagnosis: list[str], onset: list[str], reasons: list[str]) -> pd.DataFrame:
    plan = empty_plan(len(consent))
    plan["SUBJID"] = [f"{i + 1:03d}" for i in range(len(consent))]
    plan["ICDT"] = pd.to_datetime(consent).to_numpy().astype("datetime64[D]")
    plan["DIAGDT"] = pd.to_datetime(diagnosis).to_numpy().astype("datetime64[D]")
    plan["ONSETDT"] = pd.to_datetime(onset).to_numpy().astype("datetime64[D]")
    plan["SFREASON"] = reasons
    return plan


def test_history_check_names_each_offending_subject():
    plan = _plan(["2012-06-01"] * 3, ["2012-03-03", "2012-03-04", "2012-01-01"],
                 ["2011-06-01", "2011-06-01", "2012-01-01"], ["", "", ""])
    # 2012-06-01 - 90 days = 2012-03-03: subject 001 is on the margin, 002 one day late, 003 onset = diagnosis
    assert check_history_dates(plan) == ["subject 002: onset 2011-06-01, diagnosis 2012-03-04, consent 2012-06-01",
                                         "subject 003: onset 2012-01-01, diagnosis 2012-01-01, consent 2012-06-01"]


def test_riluzole_window_by_hand():
    plan = _plan(["2012-06-01"] * 4, ["2012-01-01"] * 4, ["2011-06-01"] * 4, ["", "", "", SF_SHORT_RILUZOLE])
    # window 2012-01-01 .. 2012-03-03 (consent - 90 days): 62 days apart in the leap year 2012, 63 whole
    # days, so fraction 0.5 is day 31 (2012-02-01); the short-riluzole window is 14..89 days before consent
    starts = tables.riluzole_starts(plan, np.array([0.0, 0.5, 0.9999, 0.9999]))
    assert [str(d) for d in starts] == ["2012-01-01", "2012-02-01", "2012-03-03", "2012-03-04"]
    starts = tables.riluzole_starts(plan, np.array([0.0, 0.0, 0.0, 0.0]))
    assert str(starts[3]) == "2012-05-18"                       # short riluzole: 14 days before consent
    plan.loc[1, "DIAGDT"] = np.datetime64("2012-03-04")
    with pytest.raises(ValueError, match=r"subjects \['002'\]"):
        tables.riluzole_starts(plan, np.zeros(4))


def _by_hand_inputs() -> tuple[pd.DataFrame, pd.DataFrame]:
    procedures = pd.DataFrame([
        ("001", "NON-INVASIVE VENTILATION", "2014-01-10"), ("001", "TRACHEOSTOMY", "2014-03-01"),
        ("002", "NON-INVASIVE VENTILATION", "2014-02-01"),
        ("003", "NON-INVASIVE VENTILATION", "2015-06-01"),
        ("004", "NON-INVASIVE VENTILATION", "2017-06-01"),
        ("005", "NON-INVASIVE VENTILATION", "2014-03"),                        # partial: no period
        ("006", "TRACHEOSTOMY", "2014-03-01"),                                  # no NIV
        ("007", "NON-INVASIVE VENTILATION", "2014-01-01"), ("007", "TRACHEOSTOMY", "2014-06-01"),
    ], columns=["SUBJID", "PROC", "PROCDT"])
    survival = pd.DataFrame([
        ("001", "2014-05-01", "DEAD", "2014-05-01"), ("002", "2014-04-15", "DEAD", "2014-04-15"),
        ("003", "2016-01-01", "ALIVE", ""), ("003", "2018-01-20", "ALIVE", ""),
        ("004", "2018-05-01", "ALIVE", ""),                                     # after the cut-off
        ("007", "2014-05-01", "DEAD", "2014-05-01"),                            # dies before the tracheostomy date
    ], columns=["SUBJID", "CONTACTDT", "STATUS", "DEATHDT"])
    return procedures, survival


def test_niv_periods_by_hand():
    procedures, survival = _by_hand_inputs()
    periods = niv_periods(procedures, survival, np.datetime64("2018-02-28"))
    got = [(s, str(a.date()), str(b.date()), r) for s, a, b, r in periods.itertuples(index=False)]
    assert got == [("001", "2014-01-10", "2014-03-01", "TRACHEOSTOMY"), ("002", "2014-02-01", "2014-04-15", "DEATH"),
                   ("003", "2015-06-01", "2018-01-20", "ALIVE"), ("004", "2017-06-01", "2018-02-28", "ALIVE"),
                   ("007", "2014-01-01", "2014-05-01", "DEATH")]


def test_niv_table_by_hand_is_sorted_and_inside_its_periods():
    procedures, survival = _by_hand_inputs()
    niv = niv_table(procedures, survival, np.datetime64("2018-02-28"), np.random.default_rng(3))
    assert list(niv.columns) == ["SUBJID", "NIVDT", "HOURS"]
    assert niv["HOURS"].str.fullmatch(r"\d{1,2}\.\d").all()
    assert niv.equals(niv.sort_values(["SUBJID", "NIVDT"]).reset_index(drop=True))
    span = niv.groupby("SUBJID")["NIVDT"].agg(["min", "max", "size"])
    assert span.loc["002", "min"] >= "2014-02-01" and span.loc["002", "max"] <= "2014-04-15"
    assert span.loc["001", "max"] <= "2014-03-01" and span.loc["004", "max"] <= "2018-02-28"
    assert span.loc["002", "size"] <= 74                               # 74 days, minus download gaps
    assert set(span.index) == {"001", "002", "003", "004", "007"}


def _niv_ends(folder) -> pd.DataFrame:
    """Each NIV user's first allowed and last allowed day, from the raw procedures and survival tables."""
    proc = _read(folder, "procedures")
    surv = _read(folder, "survival")
    proc["PROCDT"] = pd.to_datetime(proc["PROCDT"])
    start = proc[proc["PROC"] == "NON-INVASIVE VENTILATION"].groupby("SUBJID")["PROCDT"].min()
    trach = proc[proc["PROC"] == "TRACHEOSTOMY"].groupby("SUBJID")["PROCDT"].min()
    dead = surv[surv["DEATHDT"] != ""]
    death = pd.to_datetime(dead["DEATHDT"]).groupby(dead["SUBJID"]).min()
    alive = surv[surv["STATUS"] == "ALIVE"]
    last_alive = pd.to_datetime(alive["CONTACTDT"]).groupby(alive["SUBJID"]).max()
    out = pd.DataFrame({"START": start}).join(trach.rename("TRACH")).join(death.rename("DEATH"))
    out = out.join(last_alive.rename("ALIVE"))
    end = out[["TRACH", "DEATH"]].min(axis=1)
    out["END"] = end.fillna(out["ALIVE"].clip(upper=T("2018-02-28")))
    return out


def _assert_niv_inside_periods(folder) -> pd.DataFrame:
    niv = _read(folder, "niv")
    assert not niv.duplicated(["SUBJID", "NIVDT"]).any()
    assert niv.equals(niv.sort_values(["SUBJID", "NIVDT"]).reset_index(drop=True))
    assert niv["HOURS"].str.fullmatch(r"\d{1,2}\.\d").all() and niv["HOURS"].astype(float).between(0, 24).all()
    ends = _niv_ends(folder)
    assert (ends["START"] < ends["END"]).all(), "an NIV start on or after its tracheostomy/death/last contact"
    span = pd.to_datetime(niv["NIVDT"]).groupby(niv["SUBJID"]).agg(["min", "max"]).join(ends, how="left")
    assert (span["min"] >= span["START"]).all() and (span["max"] <= span["END"]).all()
    assert set(span.index) == set(ends.index)
    return niv


def _reaches_pav(hours: pd.Series, dates: pd.Series) -> bool:
    """At least 22 hours on each of 7 consecutive calendar days (study.yaml permanent_ventilation)."""
    run, previous = 0, None
    for day, h in zip(pd.to_datetime(dates), hours.astype(float), strict=True):
        if h < 22:
            run = 0
        else:
            run = run + 1 if previous is not None and day - previous == DAYS else 1
        previous = day
        if run >= 7:
            return True
    return False


def test_shipped_sample_niv_records_lie_in_their_periods():
    niv = _assert_niv_inside_periods(SAMPLE_RAW_DIR)
    pav = [s for s, d in niv.groupby("SUBJID") if _reaches_pav(d["HOURS"], d["NIVDT"])]
    assert 0 < len(pav) < niv["SUBJID"].nunique()


def test_shipped_sample_niv_comes_from_its_own_stream():
    """niv.csv is exactly the NIV generator run on the written procedures and survival tables with a fresh
    default_rng([seed, NIV_USE_STREAM]): no draw of the shared stream feeds it, and it feeds none."""
    expected = niv_table(_read(SAMPLE_RAW_DIR, "procedures"), _read(SAMPLE_RAW_DIR, "survival"),
                         np.datetime64("2018-02-28"), np.random.default_rng([20181, NIV_USE_STREAM]))
    assert expected.equals(_read(SAMPLE_RAW_DIR, "niv"))


def _same_files(a, b, names: list[str]) -> None:
    match, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    assert not mismatch and not errors, mismatch


def test_scale_mode_niv_streams_leave_the_other_tables_unchanged(tmp_path, monkeypatch):
    wired = tmp_path / "wired"
    simulate(wired, seed=8, subjects=400)
    _assert_niv_inside_periods(wired)
    assert len(_read(wired, "niv")) > 0
    others = sorted(p.name for p in wired.iterdir() if p.suffix == ".csv" and p.stem not in ("niv", "procedures"))
    assert len(others) == 13
    # without the daily NIV records, every other table keeps its bytes
    monkeypatch.setattr(tables, "niv_table", lambda *args: pd.DataFrame(columns=["SUBJID", "NIVDT", "HOURS"]))
    unwired = tmp_path / "unwired"
    simulate(unwired, seed=8, subjects=400)
    _same_files(wired, unwired, [*others, "procedures.csv"])
    assert _read(unwired, "niv").empty
    # without the NIV starts too, only procedures.csv loses its NIV rows
    monkeypatch.setattr(scale, "niv_starts", lambda plan, rng: np.full(len(plan), np.datetime64("NaT", "D")))
    no_starts = tmp_path / "no_starts"
    simulate(no_starts, seed=8, subjects=400)
    _same_files(wired, no_starts, others)
    proc = _read(wired, "procedures")
    without = _read(no_starts, "procedures")
    assert proc[proc["PROC"] != "NON-INVASIVE VENTILATION"].reset_index(drop=True).equals(without)


def test_scale_mode_niv_starts_by_hand():
    plan = empty_plan(4)
    plan["VISDT_1"] = np.array(["2012-01-01"] * 4, dtype="datetime64[D]")
    plan["DTHDT"] = np.array(["2012-01-03", "2014-01-01", "NaT", "2013-01-01"], dtype="datetime64[D]")
    plan["TRACHDT"] = np.array(["NaT", "2013-06-01", "NaT", "NaT"], dtype="datetime64[D]")
    starts = scale.niv_starts(plan, np.random.default_rng(0), share=1.0)
    assert str(starts[0]) == "2012-01-02"                        # one day strictly between V1 and death
    assert np.datetime64("2012-01-01") < starts[1] < np.datetime64("2013-06-01")      # before the tracheostomy
    assert starts[1] >= np.datetime64("2013-06-01") - np.timedelta64(600, "D")
    assert np.isnat(starts[2])                                   # neither tracheostomy nor death
    assert np.datetime64("2012-01-01") < starts[3] < np.datetime64("2013-01-01")
    assert np.isnat(scale.niv_starts(plan, np.random.default_rng(0), share=0.0)).all()
