"""The issue-16 outputs of the sample study's catalogue (stage shifts, time to stage progression,
event-free survival, CAFS and ALS/SURV, worst-rank slope, trajectories): every checked number is
computed here from the ADaM XPT files with pandas, scipy and lifelines, never by the code under test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml
from scipy import stats

from cdisc_als.cli import main
from cdisc_als.resources import MAPPINGS_DIR, SAMPLE_SDTM_DIR
from cdisc_als.study import load_study
from cdisc_als.tlf.index import write_index
from cdisc_als.tlf.run import run_tlf

NEW_OUTPUTS = ["T_SHIFT_KINGS", "T_SHIFT_MITOS", "T_STAGE_TTE", "T_EFS", "T_CAFS", "T_WORST", "F_KM_DPAV",
               "F_KM_KINGSP", "F_TRAJ"]
MSC, CONTROL = "BM-MSC + Riluzole", "Riluzole Alone"
MONTH = load_study().month_length_days


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    """ADaM of the sample study and the TLF stage run on the project catalogue's issue-16 entries."""
    base = tmp_path_factory.mktemp("endpoints")
    assert main(["adam", "--sdtm", str(SAMPLE_SDTM_DIR), "--out", str(base / "adam"), "--quiet"]) == 0
    doc = yaml.safe_load((MAPPINGS_DIR / "tlf" / "outputs.yaml").read_text())
    doc["outputs"] = [o for o in doc["outputs"] if o["id"] in NEW_OUTPUTS]
    assert [o["id"] for o in doc["outputs"]] == NEW_OUTPUTS
    catalogue = base / "outputs.yaml"
    catalogue.write_text(yaml.safe_dump(doc))
    result = run_tlf(base / "adam", base / "tlf", catalogue, study=load_study())
    assert not result.failed
    return base


def _xpt(out: Path, name: str) -> pd.DataFrame:
    return pyreadstat.read_xport(str(out / "adam" / f"{name}.xpt"))[0]


def _ard(out: Path, output: str) -> pd.DataFrame:
    return pd.read_csv(out / "tlf" / "ard" / f"{output}.csv", dtype=str, keep_default_na=False)


def _cell(ard: pd.DataFrame, row: str, stat: str, arm: str = "", level: str = "", **keys: str) -> str:
    sel = (ard["row_id"] == row) & (ard["stat_name"] == stat) & (ard["group1_level"] == arm)
    sel &= ard["variable_level"] == level
    for key, value in keys.items():
        sel &= ard[key] == value
    (value,) = ard.loc[sel, "stat_fmt"]
    return value


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (pd.to_datetime(later) - pd.to_datetime(earlier)).dt.days


def _fas(out: Path) -> pd.DataFrame:
    adsl = _xpt(out, "adsl")
    return adsl[adsl["FASFL"] == "Y"]


# ----------------------------------------------------------------------------------------------- shifts
@pytest.mark.parametrize(("output", "row", "paramcd"), [("T_SHIFT_KINGS", "KINGSHIFT", "KINGSTG"),
                                                        ("T_SHIFT_MITOS", "MITOSHIFT", "MITOSTG")])
def test_stage_shift_counts_every_subject_once_per_visit(out, output, row, paramcd):
    fas = _fas(out)
    adqs = _xpt(out, "adqs")
    stages = adqs[(adqs["PARAMCD"] == paramcd) & (adqs["ANL01FL"] == "Y") & adqs["USUBJID"].isin(fas["USUBJID"])]
    baseline = stages[stages["ABLFL"] == "Y"].set_index("USUBJID")["AVAL"]
    ard = _ard(out, output)
    visits = sorted(v for v in stages["AVISITN"].unique() if v > 0)
    headings = ard[(ard["row_id"] == row) & (ard["stat_name"] == "label") & (ard["variable"] == "AVISITN")]
    assert [float(v) for v in headings["variable_level"]] == visits, "the visits after the baseline visit"
    name = lambda v: "Missing" if pd.isna(v) else f"{v:g}"  # noqa: E731
    for visit in visits:
        at = stages[stages["AVISITN"] == visit].set_index("USUBJID")["AVAL"]
        for arm in (MSC, CONTROL):
            people = fas.loc[fas["TRT01P"] == arm, "USUBJID"]
            table = pd.crosstab(people.map(baseline).map(name), people.map(at).map(name))
            visit_text = f"{visit:g}"
            assert _cell(ard, row, "N", arm, group2_level=visit_text, group3="") == str(len(people))
            for base_level in table.index:
                for level in table.columns:
                    n = table.loc[base_level, level]
                    assert _cell(ard, row, "n", arm, level, group2_level=visit_text, group3_level=base_level) == str(n)
                total = table.loc[base_level].sum()
                assert _cell(ard, row, "N", arm, group2_level=visit_text, group3_level=base_level) == str(total)
                n = table.loc[base_level].iloc[0]
                assert _cell(ard, row, "pct", arm, table.columns[0], group2_level=visit_text,
                             group3_level=base_level) == f"{100 * n / total:.0f}"
    deaths = stages[stages["DTYPE"] == "PHANTOM"]
    assert len(deaths) and (deaths["AVAL"] == 5).all()
    last = f"{visits[-1]:g}"
    fives = ard[(ard["row_id"] == row) & (ard["stat_name"] == "n") & (ard["variable_level"] == "5")
                & (ard["group2_level"] == last)]
    assert fives["stat"].astype(int).sum() == (deaths["AVISITN"] == visits[-1]).sum()


def test_shift_table_prints_stage_columns_with_missing_and_total(out):
    html = (out / "tlf" / "tables" / "tables.html").read_text()
    start = html.index("Table 9.")
    block = html[start:html.index("</table>", start)]
    for header in ("Visit / arm / baseline stage", "Stage 1", "Stage 5 (death)", "Missing", "Total",
                   f"{MSC} (N = ", "VISIT 10 (month 6)"):
        assert header in block, header


# ------------------------------------------------------------------------------------------ time to event
def _median_text(kmf) -> str:
    """The KM median as SAS PROC LIFETEST prints it: the first time S(t) <= 0.5, or the midpoint to the
    next event time when S(t) equals 0.5 exactly (lifelines reports the next event time then)."""
    curve = kmf.survival_function_.iloc[:, 0]
    curve = curve[curve.diff().fillna(-1) != 0]                     # the event times (and 0)
    reached = curve[curve <= 0.5 + 1e-12]
    if reached.empty:
        return "NE"
    first = reached.index[0]
    if abs(reached.iloc[0] - 0.5) < 1e-12 and len(reached) > 1:
        return f"{(first + reached.index[1]) / 2:.1f}"
    return f"{first:.1f}"


def _tte(out: Path, paramcd: str) -> pd.DataFrame:
    adtte = _xpt(out, "adtte")
    fas = _fas(out)
    return adtte[(adtte["PARAMCD"] == paramcd) & adtte["USUBJID"].isin(fas["USUBJID"])]


@pytest.mark.parametrize(("output", "row", "paramcd", "rate_at"), [
    ("T_STAGE_TTE", "KINGSP", "TTKINGSP", 6), ("T_STAGE_TTE", "MITOSP", "TTMITOSP", 12),
    ("T_EFS", "DPAV", "TTDPAV", 12), ("T_EFS", "PAV", "TTPAV", 12), ("T_EFS", "PEG", "TTPEG", 24),
    ("T_EFS", "NIV", "TTNIV", 12)])
def test_kaplan_meier_and_cox(out, output, row, paramcd, rate_at):
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import logrank_test

    data = _tte(out, paramcd)
    ard = _ard(out, output)
    for arm in (MSC, CONTROL):
        part = data[data["TRTP"] == arm]
        kmf = KaplanMeierFitter().fit(part["AVAL"], part["CNSR"] == 0)
        assert _cell(ard, row, "n", arm, variable=paramcd) == str(len(part))
        assert _cell(ard, row, "events", arm, variable=paramcd) == str(int((part["CNSR"] == 0).sum()))
        assert _cell(ard, row, "median", arm, variable=paramcd) == _median_text(kmf)
        assert float(_cell(ard, row, "rate", arm, str(rate_at), variable=paramcd)) == pytest.approx(
            float(kmf.predict(rate_at)), abs=6e-4)
        bands = kmf.confidence_interval_survival_function_                 # log(-log) limits (lower, upper)
        for name, band in (("median_lcl", bands.iloc[:, 0]), ("median_ucl", bands.iloc[:, 1])):
            below = band[band <= 0.5]
            assert _cell(ard, row, name, arm, variable=paramcd) == (f"{below.index[0]:.1f}" if len(below) else "NE")
        at = bands[bands.index <= rate_at].iloc[-1]
        assert float(_cell(ard, row, "rate_lcl", arm, str(rate_at), variable=paramcd)) == pytest.approx(at.iloc[0],
                                                                                                     abs=6e-4)
        assert float(_cell(ard, row, "rate_ucl", arm, str(rate_at), variable=paramcd)) == pytest.approx(at.iloc[1],
                                                                                                     abs=6e-4)
    frame = pd.DataFrame({"T": data["AVAL"], "E": (data["CNSR"] == 0).astype(int),
                          "MSC": (data["TRTP"] == MSC).astype(float)})
    cox = CoxPHFitter().fit(frame, "T", "E").summary.loc["MSC"]
    assert _cell(ard, row, "hr", MSC, variable=paramcd) == f"{cox['exp(coef)']:.2f}"
    assert _cell(ard, row, "hr_lcl", MSC, variable=paramcd) == f"{cox['exp(coef) lower 95%']:.2f}"
    assert _cell(ard, row, "hr_ucl", MSC, variable=paramcd) == f"{cox['exp(coef) upper 95%']:.2f}"
    assert _cell(ard, row, "hr_pvalue", MSC, variable=paramcd) == _p_text(cox["p"])
    test = logrank_test(data.loc[data["TRTP"] == MSC, "AVAL"], data.loc[data["TRTP"] == CONTROL, "AVAL"],
                        data.loc[data["TRTP"] == MSC, "CNSR"] == 0, data.loc[data["TRTP"] == CONTROL, "CNSR"] == 0)
    sel = (ard["row_id"] == row) & (ard["stat_name"] == "pvalue")
    assert float(ard.loc[sel, "stat"].iloc[0]) == pytest.approx(test.p_value)


def _stratified_logrank(data: pd.DataFrame, stratum: str) -> float:
    """Stratified two-group log-rank written out: O - E and the hypergeometric variance summed over
    the strata's event times."""
    o_minus_e = variance = 0.0
    for _, part in data.groupby(stratum):
        for t in np.unique(part.loc[part["CNSR"] == 0, "AVAL"]):
            risk = part[part["AVAL"] >= t]
            n, n1 = len(risk), int((risk["TRTP"] == MSC).sum())
            dead = risk[(risk["AVAL"] == t) & (risk["CNSR"] == 0)]
            d, d1 = len(dead), int((dead["TRTP"] == MSC).sum())
            o_minus_e += d1 - d * n1 / n
            variance += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1) if n > 1 else 0.0
    return float(stats.chi2.sf(o_minus_e ** 2 / variance, 1))


@pytest.mark.parametrize(("output", "prefix", "paramcd"), [("T_STAGE_TTE", "KINGSP", "TTKINGSP"),
                                                           ("T_EFS", "DPAV", "TTDPAV")])
def test_deltafs_subgroups_and_strata(out, output, prefix, paramcd):
    from lifelines import CoxPHFitter, KaplanMeierFitter

    data = _tte(out, paramcd)
    ard = _ard(out, output)
    for level, part in data.groupby("DFSGR1"):
        if not level:
            continue
        for arm in (MSC, CONTROL):
            mine = part[part["TRTP"] == arm]
            keys = {"variable": paramcd, "group2": "DFSGR1", "group2_level": level}
            assert _cell(ard, f"{prefix}_DFS", "n", arm, **keys) == str(len(mine))
            kmf = KaplanMeierFitter().fit(mine["AVAL"], mine["CNSR"] == 0)
            assert _cell(ard, f"{prefix}_DFS", "median", arm, **keys) == _median_text(kmf)
    stratified = data[data["DFSGR1"] != ""]
    frame = pd.DataFrame({"T": stratified["AVAL"], "E": (stratified["CNSR"] == 0).astype(int),
                          "MSC": (stratified["TRTP"] == MSC).astype(float), "S": stratified["DFSGR1"]})
    cox = CoxPHFitter().fit(frame, "T", "E", strata=["S"]).summary.loc["MSC"]
    assert _cell(ard, f"{prefix}_STRAT", "hr", MSC, variable=paramcd) == f"{cox['exp(coef)']:.2f}"
    sel = (ard["row_id"] == f"{prefix}_STRAT") & (ard["stat_name"] == "pvalue")
    assert float(ard.loc[sel, "stat"].iloc[0]) == pytest.approx(_stratified_logrank(stratified, "DFSGR1"))
    method = ard.loc[(ard["row_id"] == f"{prefix}_STRAT") & (ard["stat_name"] == "method"), "stat_fmt"]
    assert method.tolist() == ["log-rank stratified by DFSGR1"]


# ------------------------------------------------------------------------------------------ CAFS and ranks
def _rank_sum(x: pd.Series, y: pd.Series) -> tuple[float, float]:
    """Z (sign: first group ranked higher) and two-sided p: scipy's asymptotic Mann-Whitney test with
    continuity and tie correction, the SAS NPAR1WAY normal approximation."""
    p = stats.mannwhitneyu(x, y, use_continuity=True, alternative="two-sided", method="asymptotic").pvalue
    ranks = stats.rankdata(pd.concat([x, y]))
    sign = 1.0 if ranks[: len(x)].mean() >= ranks[len(x):].mean() else -1.0
    return sign * stats.norm.isf(p / 2), p


def _p_text(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


@pytest.mark.parametrize(("row", "ranks", "scores"), [("CAFS4", "CAFSR4", "CAFSS4"), ("CAFS6", "CAFSR6", "CAFSS6"),
                                                       ("ALSSURV4", "ALSSR4", None), ("ALSSURV6", "ALSSR6", None)])
def test_cafs_and_als_surv_mean_ranks_and_tests(out, row, ranks, scores):
    adcafs = _xpt(out, "adcafs")
    adcafs = adcafs[adcafs["USUBJID"].isin(_fas(out)["USUBJID"])]
    ard = _ard(out, "T_CAFS")
    rank = adcafs[adcafs["PARAMCD"] == ranks]
    for arm in (MSC, CONTROL):
        mine = rank.loc[rank["TRTP"] == arm, "AVAL"]
        assert _cell(ard, row, "n", arm, variable=ranks) == str(len(mine))
        assert _cell(ard, row, "mean", arm, variable=ranks) == f"{mine.mean():.1f}"
    z, p = _rank_sum(rank.loc[rank["TRTP"] == MSC, "AVAL"], rank.loc[rank["TRTP"] == CONTROL, "AVAL"])
    assert _cell(ard, row, "statistic", MSC, variable=ranks) == f"{z:.2f}"
    assert _cell(ard, row, "pvalue", MSC, variable=ranks) == _p_text(p)
    assert (ard.loc[(ard["row_id"] == row) & (ard["group1_level"] == CONTROL), "stat_name"] != "statistic").all()
    if scores:
        u = adcafs[adcafs["PARAMCD"] == scores]
        first = u["TRTP"] == MSC
        n1, n2, n = int(first.sum()), int((~first).sum()), len(u)
        z_fs = u.loc[first, "AVAL"].sum() / np.sqrt(n1 * n2 / (n * (n - 1)) * (u["AVAL"] ** 2).sum())
        assert _cell(ard, row, "statistic", MSC, variable=scores) == f"{z_fs:.2f}"
        assert _cell(ard, row, "pvalue", MSC, variable=scores) == _p_text(2 * stats.norm.sf(abs(z_fs)))


@pytest.mark.parametrize(("row", "paramcd", "months"), [("WR_SC4", "ALSR1SC4", 4), ("WR_SC6", "ALSR1SC6", 6)])
def test_worst_rank_of_the_slope_change(out, row, paramcd, months):
    fas = _fas(out).set_index("USUBJID")
    adqs = _xpt(out, "adqs")
    value = adqs[adqs["PARAMCD"] == paramcd].set_index("USUBJID")["AVAL"].reindex(fas.index)
    death_day = _days(fas["DTHDT"], fas["RFSTDT"])
    died = value.isna() & (death_day <= months * MONTH)
    # worst-rank composite: deaths below every observed value, ordered by time of death
    composite = pd.Series(np.nan, index=fas.index)
    composite[died] = -1e6 + death_day[died]
    composite[value.notna()] = value[value.notna()]
    ranks = pd.Series(stats.rankdata(composite.dropna()), index=composite.dropna().index)
    ard = _ard(out, "T_WORST")
    for arm in (MSC, CONTROL):
        members = fas.index[fas["TRT01P"] == arm]
        assert _cell(ard, row, "n_died", arm, variable=paramcd) == str(int(died[members].sum()))
        assert _cell(ard, row, "n_value", arm, variable=paramcd) == str(int(value[members].notna().sum()))
        assert _cell(ard, row, "mean", arm, variable=paramcd) == f"{ranks.reindex(members).mean():.1f}"
    msc, control = (composite[fas["TRT01P"] == arm].dropna() for arm in (MSC, CONTROL))
    z, p = _rank_sum(msc, control)
    assert _cell(ard, row, "statistic", MSC, variable=paramcd) == f"{z:.2f}"
    assert _cell(ard, row, "pvalue", MSC, variable=paramcd) == _p_text(p)
    if months == 6:
        assert died.sum() > 0, "the sample study has deaths before month 6 without a month-6 slope"


# ------------------------------------------------------------------------------------------------ figures
def test_trajectory_figure_counts_subjects_and_deaths(out):
    fas = _fas(out)
    adqs = _xpt(out, "adqs")
    totals = adqs[(adqs["PARAMCD"] == "ALSR1TOT") & (adqs["ANL01FL"] == "Y") & adqs["USUBJID"].isin(fas["USUBJID"])]
    ard = _ard(out, "F_TRAJ")
    for arm in (MSC, CONTROL):
        people = fas[fas["TRT01P"] == arm]
        mine = totals[totals["TRTP"] == arm]
        months = _days(people["DTHDT"], people["RFSTDT"]) / MONTH
        assert _cell(ard, "TRAJECTORIES", "n", arm, variable="AVAL") == str(mine["USUBJID"].nunique())
        assert _cell(ard, "TRAJECTORIES", "points", arm, variable="AVAL") == str(len(mine))
        assert _cell(ard, "TRAJECTORIES", "deaths", arm, variable="AVAL") == str(int(people["DTHDT"].notna().sum()))
        assert _cell(ard, "TRAJECTORIES", "deaths_drawn", arm, variable="AVAL") == str(int((months <= 12).sum()))
    assert (out / "tlf" / "figures" / "f_traj.png").stat().st_size > 20_000


def test_km_figures_and_the_index_page(out):
    data = _tte(out, "TTDPAV")
    km = _ard(out, "F_KM_DPAV")
    for arm in (MSC, CONTROL):
        part = data[data["TRTP"] == arm]
        assert _cell(km, "KM", "n_at_risk", arm, "12") == str(int((part["AVAL"] >= 12).sum()))
    page = write_index(out, "endpoints").read_text()
    for output in NEW_OUTPUTS:
        assert f"href='tlf/tables/{output.lower()}.rtf'" in page, output
    for figure in ("f_km_dpav", "f_km_kingsp", "f_traj"):
        assert f"href='tlf/figures/{figure}.png'" in page, figure
