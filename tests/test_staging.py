"""King's and MiToS stages on hand-worked ALSFRS-R administrations (rules: Balendra et al. 2014, Chio et
al. 2015 Table 1; expected stages worked out by hand from those rules, not by the code)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_als.adam.bds import ALSFRS_ITEMS
from cdisc_als.adam.staging import (
    derive_death_stages,
    derive_kings_stage,
    derive_mitos_stage,
    derive_stage_records,
    item_table,
)
from cdisc_als.metadata.parameters import Parameter
from cdisc_als.resources import MAPPINGS_DIR
from cdisc_als.study import load_study

T = pd.Timestamp


def _admin(gastro=False, **scores) -> dict:
    """One administration: every item 4 (normal) unless given as i<n>=score; None = missing item."""
    row = {item: 4.0 for item in ALSFRS_ITEMS}
    for key, value in scores.items():
        row[f"ALSR1{int(key[1:]):02d}"] = np.nan if value is None else float(value)
    row["GASTRO"] = gastro
    return row


def _items(*admins) -> pd.DataFrame:
    frame = pd.DataFrame(list(admins))
    frame[ALSFRS_ITEMS] = frame[ALSFRS_ITEMS].astype("Float64")
    frame["GASTRO"] = pd.array(frame["GASTRO"].tolist(), dtype="boolean")
    return frame


KINGS_CASES = [
    # (administration, stage, 4A flag, 4B flag)
    (_admin(), 1.0, "N", "N"),                                  # no region below 4: still stage 1
    (_admin(i1=3), 1.0, "N", "N"),                              # bulbar
    (_admin(i2=2, i5=3), 2.0, "N", "N"),                        # bulbar + upper limb (item 5a)
    (_admin(i3=3, i4=2, i8=3), 3.0, "N", "N"),                  # all three regions
    (_admin(gastro=True, i5=2), 4.0, "Y", "N"),                 # item 5b used: gastrostomy, 4A
    (_admin(i12=3), 4.0, "N", "Y"),                             # intermittent BiPAP: NIV, 4B
    (_admin(i10=0, i11=1), 4.0, "N", "Y"),                      # dyspnoea 0: 4B
    (_admin(i10=1, i12=4), 1.0, "N", "N"),                      # dyspnoea 1, no NIV: not 4B
    (_admin(gastro=True, i12=2, i1=2), 4.0, "Y", "Y"),          # both
    (_admin(i2=None), 1.0, "N", "N"),                           # missing item 2: 0 or 1 regions -> 1
    (_admin(i1=3, i4=3, i8=None), np.nan, "N", "N"),            # 2 or 3 regions: undetermined
    (_admin(i1=3, i4=3, i5=None, i8=3), 3.0, "N", "N"),         # upper limb known from item 4
    (_admin(i12=None), np.nan, "N", ""),                        # NIV unknown: undetermined
    (_admin(gastro=True, i12=None), 4.0, "Y", ""),              # 4A known: stage 4 anyway
    (_admin(gastro=None, i5=None), np.nan, "", "N"),            # item 5 on neither scale: 4A unknown
]


@pytest.mark.parametrize(("admin", "stage", "flag_4a", "flag_4b"), KINGS_CASES)
def test_kings_stage_from_alsfrs_items(admin, stage, flag_4a, flag_4b):
    out = derive_kings_stage(_items(admin))
    assert (np.isnan(stage) and np.isnan(out["KINGS"][0])) or out["KINGS"][0] == stage
    assert (out["KINGS4A"][0], out["KINGS4B"][0]) == (flag_4a, flag_4b)


MITOS_CASES = [
    (_admin(), 0.0),
    (_admin(i8=1), 1.0),                     # walking: movement lost
    (_admin(i6=1, i8=3), 1.0),               # dressing: movement lost
    (_admin(i8=2, i6=2), 0.0),               # both 2: not lost
    (_admin(i3=1), 1.0),                     # swallowing: tube feeding
    (_admin(i1=1, i4=2), 0.0),               # communicating needs speech AND handwriting <= 1
    (_admin(i1=0, i4=1), 1.0),
    (_admin(i10=1), 1.0),                    # breathing: dyspnoea at rest
    (_admin(i12=2), 1.0),                    # breathing: continuous NIV at night
    (_admin(i12=3), 0.0),                    # intermittent NIV: not lost
    (_admin(i8=0, i3=1, i1=0, i4=0, i12=2), 4.0),
    (_admin(gastro=True, i5=0), 0.0),        # item 5 and gastrostomy play no part
    (_admin(i6=None, i8=3), np.nan),         # movement unknown
    (_admin(i6=None, i8=1), 1.0),            # movement lost whatever item 6
    (_admin(i1=None, i4=3), 0.0),            # communicating not lost whatever item 1
    (_admin(i1=None, i4=1), np.nan),
]


@pytest.mark.parametrize(("admin", "stage"), MITOS_CASES)
def test_mitos_stage_from_alsfrs_items(admin, stage):
    out = derive_mitos_stage(_items(admin))
    assert (np.isnan(stage) and np.isnan(out["MITOS"][0])) or out["MITOS"][0] == stage


def _qs(records) -> pd.DataFrame:
    rows = [{"USUBJID": u, "VISITNUM": v, "QSCAT": "ALSFRS-R", "QSTESTCD": c, "QSSTRESN": s, "QSDTC": "2012-03-01",
             "QSSEQ": k} for k, (u, v, c, s) in enumerate(records, start=1)]
    return pd.DataFrame(rows)


def _full(subject, visit, item5="ALSR105A"):
    """The 12 item records of a normal administration, item 5 on the given scale."""
    return [(subject, visit, item5 if code == "ALSR105" else code, 4.0) for code in ALSFRS_ITEMS]


def test_item_table_reads_item_5b_as_gastrostomy_and_stage_records():
    records = _full("S1", 5.0, "ALSR105B") + _full("S2", 5.0)
    records += [r for r in _full("S3", 5.0) if r[2] != "ALSR105A"]      # item 5 on neither scale
    items = item_table(_qs(records))
    assert items.set_index("USUBJID")["GASTRO"].tolist()[:2] == [True, False]
    assert pd.isna(items.set_index("USUBJID")["GASTRO"]["S3"])
    parameters = {"KINGSTG": Parameter("ADQS", "KINGSTG", "King's", source="stage(KINGS)"),
                  "MITOSTG": Parameter("ADQS", "MITOSTG", "MiToS", source="stage(MITOS)")}
    out = derive_stage_records(_qs(records), parameters)
    kings = out[out["PARAMCD"] == "KINGSTG"].set_index("USUBJID")
    assert kings["AVAL"].to_dict() == {"S1": 4.0, "S2": 1.0}            # S3 undetermined: no record
    assert kings.loc["S1", "CRIT1FL"] == "Y" and kings.loc["S2", "CRIT1FL"] == "N"
    assert kings.loc["S1", "CRIT1"].startswith("King's stage 4A")
    assert out[out["PARAMCD"] == "MITOSTG"].set_index("USUBJID")["AVAL"].to_dict() == {"S1": 0.0, "S2": 0.0,
                                                                                       "S3": 0.0}


def test_death_is_stage_5_at_every_later_visit_without_a_record():
    study = load_study(MAPPINGS_DIR / "study.yaml")
    anchor = pd.Series({"D1": T("2012-01-01"), "D2": T("2012-01-01"), "D3": T("2012-01-01")})
    # target dates (day 1 = 2012-01-01): month 3 -> day 92 (2012-04-01), month 4 -> day 123 (2012-05-02),
    # month 6 -> day 184 (2012-07-02); D1 died on day 101, assessed at month 4 before dying
    adsl = pd.DataFrame({"USUBJID": ["D1", "D2", "D3"], "DTHDT": [T("2012-04-10"), pd.NaT, T("2018-06-01")],
                         "DCUTDT": [T("2018-02-28")] * 3})
    visits = pd.DataFrame({"USUBJID": ["D1"], "PARAMCD": ["KINGSTG"], "AVISITN": [4.0], "ANL01FL": ["Y"]})
    parameters = {"KINGSTG": Parameter("ADQS", "KINGSTG", "King's", source="stage(KINGS)")}
    out = derive_death_stages(visits, adsl, anchor, study, parameters)
    assert out[["USUBJID", "AVISITN", "AVAL", "DTYPE"]].values.tolist() == [["D1", 6.0, 5.0, "PHANTOM"]]
    assert out["ADT"].tolist() == [T("2012-04-10")]
    early = derive_death_stages(visits.iloc[0:0], adsl.assign(DTHDT=[T("2012-03-31"), pd.NaT, pd.NaT]), anchor,
                                study, parameters)
    assert early["AVISITN"].tolist() == [3.0, 4.0, 6.0]      # day 91 <= day 92 of month 3
