"""Listings: deaths and serious adverse events, from ADaM (ADSL, ADAE), as HTML/RTF-ready layouts."""

from __future__ import annotations

import pandas as pd

from cdisc_als.tlf.layout import Layout

EPOCH = pd.Timestamp("1960-01-01")


def _date(value: float) -> str:
    return "" if pd.isna(value) else (EPOCH + pd.Timedelta(days=float(value))).strftime("%Y-%m-%d")


def listing_deaths(adsl: pd.DataFrame) -> Layout:
    dead = adsl[adsl["DTHFL"] == "Y"].sort_values(["TRT01P", "USUBJID"])
    rows = [(r.USUBJID, 0, [r.TRT01P, f"{r.AGE:.0f}", r.SEX, _date(r.DTHDT), r.FASFL]) for r in dead.itertuples()]
    return Layout("L1", "Listing 1. Deaths (all randomized subjects)", ["Treatment", "Age", "Sex", "Date of death",
                                                                         "FAS"], rows,
                  ["Dates of death include deaths learned in long-term follow-up up to the survival cut-off."])


def listing_saes(adae: pd.DataFrame) -> Layout:
    sae = adae[adae["AESERFL"] == "Y"].sort_values(["TRT01P", "USUBJID", "ASTDT"])
    rows = [(r.USUBJID, 0, [r.TRT01P, r.AEBODSYS, r.AEDECOD, _date(r.ASTDT), _date(r.AENDT), r.AEOUT,
                            r.AEREL or "", r.AETOXGR]) for r in sae.itertuples()]
    return Layout("L2", "Listing 2. Serious adverse events (safety population)",
                  ["Treatment", "System organ class", "Preferred term", "Start", "End", "Outcome", "Relationship",
                   "Grade"], rows, ["Relationship to the MSC injections; grade: CTCAE v3.0."])
