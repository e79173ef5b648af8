"""The CDISC pilot (three arms), configured only in mappings/tlf/pilot/outputs.yaml: every checked value
is computed here independently from the XPT files (pandas, lifelines), never by the code under test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from cdisc_als.cli import main
from cdisc_als.resources import MAPPINGS_DIR
from tests.shared_data import pilot_dir

CATALOGUE = MAPPINGS_DIR / "tlf" / "pilot" / "outputs.yaml"
ARMS = ["Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pilot")
    assert main(["tlf", "--adam", str(pilot_dir() / "adam"), "--catalogue", str(CATALOGUE), "--out", str(out)]) == 0
    return out


def _xpt(name: str) -> pd.DataFrame:
    frame, _ = pyreadstat.read_xport(str(pilot_dir() / "adam" / f"{name}.xpt"))
    return frame


def _ard(run: Path, output: str) -> pd.DataFrame:
    return pd.read_csv(run / "ard" / f"{output}.csv", dtype=str, keep_default_na=False)


def _cell(ard: pd.DataFrame, row: str, stat: str, arm: str, level: str = "", variable: str | None = None) -> str:
    sel = (ard["row_id"] == row) & (ard["stat_name"] == stat) & (ard["group1_level"] == arm)
    sel &= ard["variable_level"] == level
    if variable is not None:
        sel &= ard["variable"] == variable
    (value,) = ard.loc[sel, "stat_fmt"]
    return value


def test_cli_writes_ard_tables_and_the_km_figure(run):
    for name in ("ard/T14_2_01.csv", "tables/t14_2_01.rtf", "tables/tables.html", "tables/tables.xlsx",
                 "figures/f14_2_km.png", "tables/f14_2_km.rtf", "tables/l16_2_ae_ser.rtf"):
        assert (run / name).stat().st_size > 1000, name


def test_demographics_of_the_itt_population(run):
    adsl = _xpt("adsl")
    itt = adsl[adsl["ITTFL"] == "Y"]
    ard = _ard(run, "T14_2_01")
    header = ard[(ard["row_id"] == "POPULATION") & (ard["group1_level"].isin(ARMS))]
    assert list(header["group1_level"]) == ARMS, "columns in TRT01PN order"
    for arm in ARMS:
        part = itt[itt["TRT01P"] == arm]
        age = part["AGE"]
        assert _cell(ard, "AGE", "n", arm) == str(age.count())
        assert _cell(ard, "AGE", "mean", arm) == f"{age.mean():.1f}"          # integer ages: mean to 1, SD to 2
        assert _cell(ard, "AGE", "sd", arm) == f"{age.std():.2f}"
        assert float(_cell(ard, "AGE", "median", arm)) == age.median()
        assert (_cell(ard, "AGE", "min", arm), _cell(ard, "AGE", "max", arm)) == (f"{age.min():.0f}", f"{age.max():.0f}")
        for row, variable in (("HEIGHTBL", "HEIGHTBL"), ("WEIGHTBL", "WEIGHTBL"), ("BMIBL", "BMIBL")):
            assert float(_cell(ard, row, "mean", arm)) == pytest.approx(part[variable].mean(), abs=0.006)
        assert _cell(ard, "MMSETOT", "mean", arm) == f"{part['MMSETOT'].mean():.1f}"
        for row in ("SEX", "RACE", "AGEGR1"):
            for level, n in part[row].value_counts().items():
                assert _cell(ard, row, "n", arm, level) == str(n)
    total = _cell(ard, "AGE", "n", "Total")
    assert total == str(len(itt))
    from scipy import stats

    p = stats.f_oneway(*[itt.loc[itt["TRT01P"] == a, "AGE"] for a in ARMS]).pvalue
    assert _cell(ard, "AGE", "pvalue", "") == f"{p:.3f}"


def test_ae_incidence_by_soc_and_pt(run):
    adae, adsl = _xpt("adae"), _xpt("adsl")
    teae = adae[adae["TRTEMFL"] == "Y"]
    ard = _ard(run, "T14_3_2")
    for arm in ARMS:
        n_arm = int((adsl[adsl["SAFFL"] == "Y"]["TRT01A"] == arm).sum())
        part = teae[teae["TRTA"] == arm]
        assert _cell(ard, "TEAE", "n", arm, "", "ANY") == str(part["USUBJID"].nunique())
        assert _cell(ard, "TEAE", "N", arm, "", "ANY") == str(n_arm)
        for soc, rows in part.groupby("AEBODSYS"):
            assert _cell(ard, "TEAE", "n", arm, soc, "AEBODSYS") == str(rows["USUBJID"].nunique())
        pruritus = part[part["AEDECOD"] == "APPLICATION SITE PRURITUS"]
        sel = (ard["variable_level"] == "APPLICATION SITE PRURITUS") & (ard["group1_level"] == arm)
        assert ard.loc[sel & (ard["stat_name"] == "n"), "stat_fmt"].tolist() == [str(pruritus["USUBJID"].nunique())]
        assert ard.loc[sel & (ard["stat_name"] == "events"), "stat_fmt"].tolist() == [str(len(pruritus))]


def test_time_to_first_dermatologic_event(run):
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    adtte = _xpt("adtte")
    data = adtte[(adtte["PARAMCD"] == "TTDE") & (adtte["SAFFL"] == "Y")]
    ard = _ard(run, "T14_2_TTE")
    for arm in ARMS:
        part = data[data["TRTA"] == arm]
        kmf = KaplanMeierFitter().fit(part["AVAL"], part["CNSR"] == 0)
        median = kmf.median_survival_time_
        expected = "NE" if np.isinf(median) else f"{median:.1f}"
        assert _cell(ard, "TTDE", "median", arm) == expected
        assert _cell(ard, "TTDE", "events", arm) == str(int((part["CNSR"] == 0).sum()))
        assert float(_cell(ard, "TTDE", "rate", arm, "30")) == pytest.approx(float(kmf.predict(30)), abs=6e-4)
    p = multivariate_logrank_test(data["AVAL"], data["TRTA"], data["CNSR"] == 0).p_value
    assert float(ard.loc[(ard["row_id"] == "TTDE") & (ard["stat_name"] == "pvalue"), "stat"].iloc[0]) == pytest.approx(p)
    km = _ard(run, "F14_2_KM")
    assert set(km.loc[km["stat_name"] == "n_at_risk", "group1_level"]) == set(ARMS)


def test_the_readme_table_runs_on_the_pilot_in_under_20_lines(tmp_path):
    readme = (MAPPINGS_DIR.parent / "README.md").read_text()
    block = readme[readme.index("A new table is a few lines of YAML"):]
    yaml_text = block[block.index("```yaml\n") + 8:block.index("```\n", block.index("```yaml\n") + 8)]
    assert len(yaml_text.strip().splitlines()) < 20
    path = tmp_path / "dm.yaml"
    path.write_text(yaml_text)
    assert main(["tlf", "--adam", str(pilot_dir() / "adam"), "--catalogue", str(path), "--out", str(tmp_path / "o")]) == 0
    ard = pd.read_csv(tmp_path / "o" / "ard" / "DM1.csv", dtype=str, keep_default_na=False)
    sex = ard[(ard["row_id"] == "SEX") & (ard["stat_name"] == "n") & (ard["group1_level"] == "Total")]
    assert dict(zip(sex["variable_level"], sex["stat_fmt"], strict=True)) == {"F": "143", "M": "111", "U": "0",
                                                                              "INTERSEX": "0"}
