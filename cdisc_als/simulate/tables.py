"""Write a subject plan as the raw EDC tables of docs/raw-data.md (one DataFrame per table)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_als.simulate import items
from cdisc_als.simulate.ae import Event, events_frame
from cdisc_als.simulate.cytokines import csf_values
from cdisc_als.simulate.niv import NIV_PROCEDURE, TRACHEOSTOMY, niv_table
from cdisc_als.simulate.plan import (
    AALS,
    ALSFRS,
    DAY,
    FVC,
    MEASURE_VISITS,
    RILUZOLE_MIN_DAYS,
    ROLE_FAS,
    ROLE_SCREEN_FAILURE,
    SF36,
    SF_SHORT_RILUZOLE,
    VISITS,
    survival_cutoff,
)

GENES = (("C9orf72", "REPEAT-PRIMED PCR"), ("SOD1", "SANGER SEQUENCING"), ("FUS", "SANGER SEQUENCING"),
         ("TARDBP", "SANGER SEQUENCING"), ("ANG", "SANGER SEQUENCING"), ("OPTN", "SANGER SEQUENCING"))


def iso(values: pd.Series | np.ndarray) -> np.ndarray:
    """Dates as 'YYYY-MM-DD' strings; missing as ''."""
    arr = pd.to_datetime(pd.Series(values)).dt.strftime("%Y-%m-%d")
    return arr.fillna("").to_numpy(dtype=object)


def _long_visits(plan: pd.DataFrame, visits: tuple[int, ...], value_prefix: str | None) -> pd.DataFrame:
    """One row per subject and attended visit (and non-missing value when value_prefix is given)."""
    parts = []
    for v in visits:
        date = plan[f"VISDT_{v}"]
        keep = pd.notna(date).to_numpy()
        frame = pd.DataFrame({"ROW": np.arange(len(plan)), "SUBJID": plan["SUBJID"].to_numpy(),
                              "VISITNUM": v, "DATE": date.to_numpy()})
        if value_prefix is not None:
            value = plan[f"{value_prefix}_{v}"].to_numpy(float)
            frame["VALUE"] = value
            keep &= ~np.isnan(value)
        parts.append(frame[keep])
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["ROW", "VISITNUM"], kind="stable").reset_index(drop=True)


def demog_table(plan: pd.DataFrame) -> pd.DataFrame:
    sf = plan["ROLE"] == ROLE_SCREEN_FAILURE
    return pd.DataFrame({
        "SUBJID": plan["SUBJID"], "SITEID": plan["SITEID"], "ICDT": iso(plan["ICDT"]), "AGE": plan["AGE"],
        "SEX": plan["SEX"], "RACE": plan["RACE"], "ETHNIC": plan["ETHNIC"],
        "HEIGHT": plan["HEIGHT"].map(lambda v: f"{v:.0f}"), "WEIGHT": plan["WEIGHT"].map(lambda v: f"{v:.1f}"),
        "SCRNFAIL": np.where(sf, "Y", "N"), "SFREASON": plan["SFREASON"],
        "RANDDT": iso(plan["RANDDT"]), "ARM": np.where(sf, "", plan["ARM"]),
    })


def visits_table(plan: pd.DataFrame) -> pd.DataFrame:
    long = _long_visits(plan, VISITS, None)
    contact = np.where((long["VISITNUM"] == 9) & (plan["V9_CONTACT"].to_numpy()[long["ROW"]] == "TELEPHONE"),
                       "TELEPHONE", "IN PERSON")
    return pd.DataFrame({"SUBJID": long["SUBJID"], "VISIT": "VISIT " + long["VISITNUM"].astype(str),
                         "VISDT": iso(long["DATE"]), "CONTACT": contact})


def alsfrs_table(plan: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Items 1-12 per subject-visit; item 5 goes to Q05B (gastrostomy) once the PEG is in place."""
    long = _long_visits(plan, VISITS, ALSFRS)
    orders = items.deficit_orders(plan["BULBAR"].to_numpy(bool), rng)
    scores = items.split_alsfrs(long["VALUE"].to_numpy().astype(np.int64), long["ROW"].to_numpy(), orders)
    peg = plan["PEGDT"].to_numpy()[long["ROW"]]
    with_peg = pd.notna(peg) & (pd.to_datetime(peg) <= pd.to_datetime(long["DATE"].to_numpy()))
    out = pd.DataFrame({"SUBJID": long["SUBJID"], "VISIT": "VISIT " + long["VISITNUM"].astype(str),
                        "ALSDT": iso(long["DATE"])})
    for k, name in enumerate(items.ALSFRS_ITEMS):
        if name == "Q05":
            out["Q05A"] = np.where(with_peg, "", scores[:, k].astype(str))
            out["Q05B"] = np.where(with_peg, scores[:, k].astype(str), "")
        else:
            out[name] = scores[:, k]
    phone = (long["VISITNUM"] == 9).to_numpy() & (plan["V9_CONTACT"].to_numpy()[long["ROW"]] == "TELEPHONE")
    out["RESPBY"] = np.where(rng.random(len(out)) < 0.15, "CAREGIVER", "PATIENT")
    out["MODE"] = np.where(phone, "TELEPHONE", "IN PERSON")
    return out


def aals_table(plan: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    long = _long_visits(plan, MEASURE_VISITS, AALS)
    shares = rng.gamma(4.0, 1.0, (len(plan), 5))
    parts = items.split_aals(long["VALUE"].to_numpy().astype(np.int64), shares[long["ROW"].to_numpy()])
    out = pd.DataFrame({"SUBJID": long["SUBJID"], "VISIT": "VISIT " + long["VISITNUM"].astype(str),
                        "AALSDT": iso(long["DATE"])})
    for k, name in enumerate(items.AALS_PARTS):
        out[name] = parts[:, k]
    out["TOTAL"] = long["VALUE"].astype(np.int64).to_numpy()
    return out


def fvc_table(plan: pd.DataFrame) -> pd.DataFrame:
    long = _long_visits(plan, MEASURE_VISITS, FVC)
    pct = long["VALUE"].to_numpy() / 10.0
    male = plan["SEX"].to_numpy()[long["ROW"]] == "M"
    height = plan["HEIGHT"].to_numpy()[long["ROW"]] / 100.0
    age = plan["AGE"].to_numpy()[long["ROW"]]
    predicted = np.where(male, 5.76 * height - 0.026 * age - 4.34, 4.43 * height - 0.026 * age - 2.89)
    return pd.DataFrame({"SUBJID": long["SUBJID"], "VISIT": "VISIT " + long["VISITNUM"].astype(str),
                         "FVCDT": iso(long["DATE"]), "FVC_L": [f"{v:.2f}" for v in pct / 100 * predicted],
                         "FVC_PCT": [f"{v:.1f}" for v in pct]})


def sf36_table(plan: pd.DataFrame) -> pd.DataFrame:
    long = _long_visits(plan, MEASURE_VISITS, SF36)
    return pd.DataFrame({"SUBJID": long["SUBJID"], "VISIT": "VISIT " + long["VISITNUM"].astype(str),
                         "SF36DT": iso(long["DATE"]), "SF36_TOTAL": [f"{v / 10:.1f}" for v in long["VALUE"]]})


def csf_table(plan: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    msc = plan[(plan["ROLE"] == ROLE_FAS) & (plan["ARM"] == "MSC")]
    values = csf_values(msc, rng)
    dates = {v: dict(zip(msc["SUBJID"], iso(msc[f"VISDT_{v}"]), strict=True)) for v in (5, 6)}
    values["CSFDT"] = [dates[v][s] for s, v in zip(values["SUBJID"], values["VISIT"], strict=True)]
    values["VISIT"] = "VISIT " + values["VISIT"].astype(str)
    values["RESULT"] = values["RESULT"].map(lambda v: f"{v:g}")
    values["UNIT"] = "pg/mL"
    order = {name: k for k, name in enumerate(dict.fromkeys(values["ANALYTE"]))}
    values = values.assign(_o=values["ANALYTE"].map(order)).sort_values(["SUBJID", "VISIT", "_o"], kind="stable")
    return values[["SUBJID", "VISIT", "CSFDT", "ANALYTE", "RESULT", "UNIT"]].reset_index(drop=True)


def riluzole_starts(plan: pd.DataFrame, fraction: np.ndarray) -> np.ndarray:
    """Riluzole start dates, at `fraction` (uniform in [0, 1)) of each subject's window of whole days.

    Window: from the diagnosis (DIAGDT) to RILUZOLE_MIN_DAYS before informed consent (ICDT), the
    inclusion criterion; a screen failure for SF_SHORT_RILUZOLE instead started 14 to
    RILUZOLE_MIN_DAYS - 1 days before consent. The plan must keep the diagnosis margin
    (plan.check_history_dates), so no window is empty."""
    consent = plan["ICDT"].to_numpy().astype("datetime64[D]")
    diagnosis = plan["DIAGDT"].to_numpy().astype("datetime64[D]")
    latest = consent - RILUZOLE_MIN_DAYS * DAY
    width = (latest - diagnosis).astype(np.int64) + 1
    if (width < 1).any():
        raise ValueError("riluzole_starts: a diagnosis later than the riluzole window allows "
                         f"(subjects {list(plan.loc[width < 1, 'SUBJID'])})")
    start = diagnosis + np.floor(fraction * width).astype(np.int64) * DAY
    short = plan["SFREASON"].to_numpy() == SF_SHORT_RILUZOLE
    start[short] = consent[short] - (14 + np.floor(fraction[short] * (RILUZOLE_MIN_DAYS - 14))).astype(np.int64) * DAY
    return start


def alshist_table(plan: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    onset = iso(plan["ONSETDT"])
    partial = plan["ONSET_PARTIAL"].to_numpy() == "MONTH"
    onset = np.where(partial, [d[:7] for d in onset], onset)
    riluzole = riluzole_starts(plan, rng.random(len(plan)))
    return pd.DataFrame({"SUBJID": plan["SUBJID"], "ONSETDT": onset, "DIAGDT": iso(plan["DIAGDT"]),
                         "ONSETSITE": np.where(plan["BULBAR"], "BULBAR", "LIMB"), "ELESCORIAL": plan["ELESC"],
                         "FAMHIST": plan["FAMHIST"], "RILUSTDT": iso(riluzole)})


def genetics_table(plan: pd.DataFrame) -> pd.DataFrame:
    randomized = plan[plan["ROLE"] != ROLE_SCREEN_FAILURE]
    rows = [{"SUBJID": s, "GENE": gene, "METHOD": method, "RESULT": "NOT DETECTED", "SAMPLEDT": d}
            for s, d in zip(randomized["SUBJID"], iso(randomized["VISDT_1"]), strict=True) for gene, method in GENES]
    return pd.DataFrame(rows)


def procedures_table(plan: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, row in plan.iterrows():
        if row["ARM"] == "MSC":
            for v in (3, 4):
                if pd.notna(row[f"VISDT_{v}"]):
                    rows.append((row["SUBJID"], "BONE MARROW ASPIRATION", row[f"VISDT_{v}"], f"VISIT {v}"))
        for col, name in (("PEGDT", "PERCUTANEOUS ENDOSCOPIC GASTROSTOMY"), ("NIVDT", NIV_PROCEDURE),
                          ("TRACHDT", TRACHEOSTOMY)):
            if pd.notna(row[col]):
                rows.append((row["SUBJID"], name, row[col], ""))
    out = pd.DataFrame(rows, columns=["SUBJID", "PROC", "PROCDT", "VISIT"])
    out["PROCDT"] = iso(out["PROCDT"])
    return out.sort_values(["SUBJID", "PROCDT", "PROC"], kind="stable").reset_index(drop=True)


def injections_table(plan: pd.DataFrame) -> pd.DataFrame:
    msc = plan[(plan["ROLE"] == ROLE_FAS) & (plan["ARM"] == "MSC")]
    rows = []
    for _, row in msc.iterrows():
        for number, v in ((1, 5), (2, 6)):
            rows.append({"SUBJID": row["SUBJID"], "VISIT": f"VISIT {v}", "INJNO": number,
                         "INJDT": iso([row[f"VISDT_{v}"]])[0], "DOSE_PER_KG": "1.0",
                         "WEIGHT_KG": f"{row['WEIGHT']:.1f}", "TOTAL_CELLS": f"{row['WEIGHT'] * 1.0:.1f}"})
    return pd.DataFrame(rows)


def disposition_table(plan: pd.DataFrame) -> pd.DataFrame:
    detail = np.where(plan["ENDSTAT"] == "SCREEN FAILURE", plan["SFREASON"],
                      np.where(plan["ENDSTAT"] == "DEATH", plan["DTHCAUSE"], ""))
    return pd.DataFrame({"SUBJID": plan["SUBJID"], "EVENT": plan["ENDSTAT"], "DSDT": iso(plan["ENDDT"]),
                         "DETAIL": detail})


def survival_table(plan: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Vital-status contacts after the trial: every ~6 months until death, cut-off or another MSC therapy."""
    rows = []
    for _, row in plan[plan["ROLE"] != ROLE_SCREEN_FAILURE].iterrows():
        end = pd.Timestamp(row["LASTDT"])
        start = pd.Timestamp(row["ENDDT"])
        contact = start + pd.Timedelta(days=int(rng.integers(150, 200)))
        while contact < end - pd.Timedelta(days=30):
            rows.append((row["SUBJID"], contact, "ALIVE", "", "", "N"))
            contact += pd.Timedelta(days=int(rng.integers(150, 200)))
        if pd.notna(row["DTHDT"]):
            rows.append((row["SUBJID"], end, "DEAD", iso([row["DTHDT"]])[0], row["DTHCAUSE"], "N"))
        else:
            other = "Y" if pd.notna(row["OTHERMSCDT"]) else "N"
            rows.append((row["SUBJID"], end, "ALIVE", "", "", other))
    out = pd.DataFrame(rows, columns=["SUBJID", "CONTACTDT", "STATUS", "DEATHDT", "DEATHCAUSE", "OTHERMSC"])
    out["CONTACTDT"] = iso(out["CONTACTDT"])
    return out


def raw_tables(plan: pd.DataFrame, events: list[Event], rng: np.random.Generator,
               niv_rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """Every raw table of the study, keyed by table name (the CSV file name without .csv).

    rng draws every table but `niv`, whose daily records come from niv_rng alone (a separate stream:
    adding, removing or changing the NIV model never shifts another table's draws)."""
    ae = events_frame(events)
    if not ae.empty:
        arm = dict(zip(plan["SUBJID"], plan["ARM"], strict=True))
        control = ae["SUBJID"].map(arm).to_numpy() == "CONTROL"
        ae.loc[control, ["REL_CELLS", "REL_PROC"]] = "NOT APPLICABLE"
    tables = {
        "demog": demog_table(plan), "visits": visits_table(plan), "alsfrs": alsfrs_table(plan, rng),
        "aals": aals_table(plan, rng), "fvc": fvc_table(plan), "sf36": sf36_table(plan),
        "ae": ae, "csf": csf_table(plan, rng), "alshist": alshist_table(plan, rng),
        "genetics": genetics_table(plan), "procedures": procedures_table(plan),
        "injections": injections_table(plan), "disposition": disposition_table(plan),
        "survival": survival_table(plan, rng),
    }
    tables["niv"] = niv_table(tables["procedures"], tables["survival"], survival_cutoff(), niv_rng)
    return tables
