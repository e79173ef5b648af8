"""Each mapping rule on hand-made raw rows; the date rule property-tested; conditions and spec errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_als.metadata import load_metadata
from cdisc_als.resources import MAPPINGS_DIR
from cdisc_als.sdtm.conditions import ConditionError, check_condition, evaluate
from cdisc_als.sdtm.dates import day_from_delta, study_day, to_iso8601
from cdisc_als.sdtm.derive import derive_lobxfl, derive_seq
from cdisc_als.sdtm.engine import _transpose
from cdisc_als.sdtm.rules import RuleContext, apply_rule
from cdisc_als.sdtm.spec import MappingSpecError, load_domain_spec
from cdisc_als.study import load_study


@pytest.fixture(scope="module")
def ctx() -> RuleContext:
    return RuleContext(load_study(), load_metadata(), "XX", {"001": "01", "002": "02"})


def raw(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns, dtype=str)


def test_assign_and_hardcode(ctx):
    frame = raw(A=["x", "", "z"])
    assert apply_rule(frame, {"rule": "assign", "from": "A"}, ctx)[0].tolist() == ["x", "", "z"]
    values, problems = apply_rule(frame, {"rule": "hardcode", "value": "$study_id-$domain"}, ctx)
    assert values.tolist() == [f"{ctx.study.study_id}-XX"] * 3 and problems == []


def test_ct_maps_synonyms_and_decodes_and_reports_unmapped(ctx):
    frame = raw(SEX=["Male", "f", "2", "", "X"])
    values, problems = apply_rule(frame, {"rule": "ct", "from": "SEX", "codelist": "SEX"}, ctx)
    assert values.tolist() == ["M", "F", "F", "", ""]
    assert problems == [(4, "SEX", "X", "not in codelist SEX (non-extensible)")]
    frame = raw(A=["IL-6", "MCP-1"])
    decoded, _ = apply_rule(frame, {"rule": "ct", "from": "A", "codelist": "LBTESTCD", "output": "decode"}, ctx)
    assert decoded.tolist() == ["Interleukin 6", "Monocyte Chemotactic Protein 1"]


def test_map_rule(ctx):
    frame = raw(A=["MSC", "CONTROL", "", "OTHER"])
    values, problems = apply_rule(frame, {"rule": "map", "from": "A", "values": {"MSC": "Cells", "CONTROL": "None"}}, ctx)
    assert values.tolist() == ["Cells", "None", "", ""] and [p[0] for p in problems] == [3]


def test_date_rule(ctx):
    frame = raw(D=["2012-03-04", "2012-03-UN", "2012-UN-UN", "", "2012-02-30"], T=["10:15", "", "", "", ""])
    values, problems = apply_rule(frame, {"rule": "date", "from": "D", "time": "T"}, ctx)
    assert values.tolist() == ["2012-03-04T10:15", "2012-03", "2012", "", ""]
    assert problems == [(4, "D", "2012-02-30", "not a calendar date")]


def test_number_rule(ctx):
    values, problems = apply_rule(raw(N=["1.5", "", "abc", "-2"]), {"rule": "number", "from": "N"}, ctx)
    assert values.iloc[0] == 1.5 and np.isnan(values.iloc[1]) and values.iloc[3] == -2.0
    assert problems == [(2, "N", "abc", "not a number")]


def test_usubjid_and_visitnum(ctx):
    values, problems = apply_rule(raw(SUBJID=["001", "002", "999"]), {"rule": "usubjid"}, ctx)
    sid = ctx.study.study_id
    assert values.tolist() == [f"{sid}-01-001", f"{sid}-02-002", ""] and problems[0][0] == 2
    nums, problems = apply_rule(raw(VISIT=["VISIT 5", "visit 10", "DAY 3"]), {"rule": "visitnum", "from": "VISIT"}, ctx)
    assert nums.tolist()[:2] == [5.0, 10.0] and problems[0][2] == "DAY 3"


def test_delta_day_has_no_day_zero(ctx):
    values, _ = apply_rule(raw(D=["0", "5", "-3", ""]), {"rule": "delta_day", "from": "D"}, ctx)
    assert values.tolist()[:3] == [1.0, 6.0, -3.0] and np.isnan(values.iloc[3])


def test_condition_rule_then_else(ctx):
    frame = raw(S=["Y", "N", "Y"], X=["a", "b", "c"])
    spec = {"rule": "condition", "when": {"column": "S", "equals": "Y"},
            "then": {"rule": "assign", "from": "X"}, "else": {"rule": "hardcode", "value": "no"}}
    assert apply_rule(frame, spec, ctx)[0].tolist() == ["a", "no", "c"]
    spec = {"rule": "condition", "when": {"column": "S", "equals": "Y"}, "then": {"rule": "number", "from": "X"}}
    values, problems = apply_rule(frame, spec, ctx)
    assert [p[0] for p in problems] == [0, 2]      # row positions in the whole source, not the subset


def test_conditions_are_parsed_not_evaluated_as_code():
    frame = raw(A=["x", "", "<3"], B=["1", "2", "3"])
    assert evaluate({"column": "A", "blank": True}, frame).tolist() == [False, True, False]
    assert evaluate({"all": [{"column": "A", "not_blank": True}, {"column": "B", "in": ["1", "3"]}]},
                    frame).tolist() == [True, False, True]
    assert evaluate({"not": {"column": "A", "starts_with": "<"}}, frame).tolist() == [True, True, False]
    for bad in ({"column": "A"}, {"column": "A", "equals": "x", "in": ["x"]}, {"column": "A", "eval": "1==1"},
                {"all": []}, "A == 'x'"):
        with pytest.raises(ConditionError):
            check_condition(bad, "spec")


def test_concat_joins_literals_and_columns_per_record(ctx):
    frame = raw(V=["V1", "V2", "V1", ""], T=["8", "8", "9", "8"])
    values, problems = apply_rule(frame, {"rule": "concat", "parts": ["PT", {"from": "T"}, "H-", {"from": "V"}]}, ctx)
    assert values.tolist() == ["PT8H-V1", "PT8H-V2", "PT9H-V1", "PT8H-"] and problems == []
    assert values.index.equals(frame.index)
    assert apply_rule(frame.iloc[:0], {"rule": "concat", "parts": ["X", {"from": "T"}]}, ctx)[0].tolist() == []
    assert apply_rule(frame, {"rule": "concat", "parts": ["A", 1]}, ctx)[0].tolist() == ["A1"] * 4


def test_transpose_wide_to_long_skips_blank_items():
    frame = raw(SUBJID=["001"], Q05A=["3"], Q05B=[""], Q06=["2"]).assign(_ROW=[2])
    spec = {"columns": [{"column": "Q05A", "set": {"TESTCD": "ALSR105A"}}, {"column": "Q05B", "set": {"TESTCD": "ALSR105B"}},
                        {"column": "Q06", "set": {"TESTCD": "ALSR106"}}]}
    long = _transpose(frame, spec)
    assert long["TESTCD"].tolist() == ["ALSR105A", "ALSR106"] and long["_VALUE"].tolist() == ["3", "2"]
    assert long["_ROW"].tolist() == [2, 2]


def test_transpose_orders_records_by_raw_row_then_listed_column():
    """Rows 7 and 3 (in that order in the table), columns listed Q06 before Q05A: records come row 3
    first, and within a row in the listed order; an entry setting other columns leaves them blank."""
    frame = raw(SUBJID=["001", "002"], Q05A=["3", "1"], Q06=["2", ""]).assign(_ROW=[7, 3])
    spec = {"columns": [{"column": "Q06", "set": {"TESTCD": "ALSR106"}}, {"column": "Q05A", "set": {"TESTCD": "ALSR105A"}}]}
    long = _transpose(frame, spec)
    assert list(zip(long["_ROW"], long["_COLUMN"], long["_VALUE"], long["TESTCD"], strict=True)) == [
        (3, "Q05A", "1", "ALSR105A"), (7, "Q06", "2", "ALSR106"), (7, "Q05A", "3", "ALSR105A")]
    assert long.index.tolist() == [0, 1, 2]
    mixed = _transpose(frame, {"columns": [spec["columns"][0], {"column": "Q05A", "set": {"SCAT": "X"}}]})
    assert mixed["TESTCD"].fillna("-").tolist() == ["-", "ALSR106", "-"]
    assert mixed["SCAT"].fillna("-").tolist() == ["X", "-", "X"]


def test_seq_dy_and_lobxfl():
    frame = pd.DataFrame({"USUBJID": ["B", "A", "A", "A"], "QSTESTCD": ["T", "T", "T", "T"],
                          "QSDTC": ["2012-01-10", "2012-01-01", "2012-01-05", "2012-01-09"],
                          "QSORRES": ["1", "2", "3", ""]})
    out = derive_seq(frame, "QS", ["USUBJID", "QSDTC"])
    assert out["USUBJID"].tolist() == ["A", "A", "A", "B"] and out["QSSEQ"].tolist() == [1, 2, 3, 1]
    ref = pd.Series({"A": "2012-01-09", "B": "2012-01-01"})
    out = derive_lobxfl(out, "QSLOBXFL", "QSDTC", ["QSTESTCD"], "QSORRES", ref)
    assert out["QSLOBXFL"].tolist() == ["", "Y", "", ""]   # the 01-09 record has no result; B is after ref
    dy = study_day(pd.Series(["2012-01-09", "2012-01-10", "2012-01-08", "2012-01"]), pd.Series(["2012-01-09"] * 4))
    assert dy.tolist()[:3] == [1.0, 2.0, -1.0] and np.isnan(dy.iloc[3])


def test_day_from_delta_vectorised():
    assert day_from_delta(pd.Series([-10, 0, 9])).tolist() == [-10.0, 1.0, 10.0]


dates = st.dates(min_value=dt.date(1850, 1, 1), max_value=dt.date(2099, 12, 31))


@settings(max_examples=300, deadline=None)
@given(dates, st.sampled_from(["full", "month", "year", "month-UN", "year-UN", "year-UNK"]))
def test_valid_dates_round_trip(date, form):
    text = {"full": date.isoformat(), "month": date.isoformat()[:7], "year": date.isoformat()[:4],
            "month-UN": date.isoformat()[:7] + "-UN", "year-UN": date.isoformat()[:4] + "-UN-UN",
            "year-UNK": date.isoformat()[:4] + "-UNK-UNK"}[form]
    expected = {"full": date.isoformat(), "month": date.isoformat()[:7], "month-UN": date.isoformat()[:7]}.get(
        form, date.isoformat()[:4])
    iso, error = to_iso8601(pd.Series([text]))
    assert error.iloc[0] == "" and iso.iloc[0] == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=14))
def test_any_text_is_a_date_or_a_finding_never_an_exception(text):
    iso, error = to_iso8601(pd.Series([text]))
    if error.iloc[0]:
        assert iso.iloc[0] == ""
    elif text.strip():
        assert iso.iloc[0] != "" and dt.date.fromisoformat((iso.iloc[0] + "-01-01")[:10]) is not None


@settings(max_examples=200, deadline=None)
@given(st.integers(1850, 2099), st.integers(1, 12), st.integers(29, 35))
def test_impossible_calendar_days_are_findings(year, month, day):
    text = f"{year:04d}-{month:02d}-{day:02d}"
    iso, error = to_iso8601(pd.Series([text]))
    try:
        dt.date(year, month, day)
        assert error.iloc[0] == "" and iso.iloc[0] == text
    except ValueError:
        assert error.iloc[0] == "not a calendar date" and iso.iloc[0] == ""


def test_spec_errors_name_file_and_key(tmp_path):
    path = tmp_path / "XX.yaml"
    path.write_text("""
domain: AE
sources:
  - table: ae
    variables:
      AETERM: {rule: assign}
      AENOTVAR: {rule: hardcode, value: x}
      AEDECOD: {rule: magic, from: PT}
      AESER: {rule: condition, when: {column: SERIOUS, eval: "x"}, then: {rule: hardcode, value: Y}}
derive: {teleport: true}
""")
    with pytest.raises(MappingSpecError) as info:
        load_domain_spec(path, load_metadata(), {"ae"})
    text = str(info.value)
    for fragment in ("variables.AETERM: rule 'assign' needs 'from'", "AENOTVAR: not a variable of AE",
                     "variables.AEDECOD: needs 'rule'", "variables.AESER.when", "derive.teleport"):
        assert fragment in text


def test_every_shipped_spec_loads():
    from cdisc_als.sdtm.spec import load_domain_specs

    specs = load_domain_specs(MAPPINGS_DIR / "sdtm", load_metadata())
    assert [s.domain for s in specs][:2] == ["DM", "SV"]
    assert {s.domain for s in specs} >= {"DM", "AE", "QS", "LB", "FA", "MH", "RE", "PR", "EX", "DS", "SS", "SV"}
