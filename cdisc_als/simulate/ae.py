"""Adverse events: the design that reproduces Table 2 and the AE incidence, and random AEs for scale mode.

Sample design (statistics.md section 2): MSC participants A-F and CONTROL G-L carry the adverse
drug reactions and serious events of Table 2; non-serious "filler" events bring the number of
participants with any AE to 20/33 vs 22/31 by month 4 (start on or before V9) and 21/33 vs 23/31
by month 6 (on or before V10). Influenza-like illness (7), back pain (5) and musculoskeletal pain
(5) are the common MSC events. The MedDRA codes are illustrative, not a licensed dictionary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdisc_als.simulate.plan import ROLE_EARLY_DEATH, ROLE_EARLY_SAE, ROLE_FAS

# PT: (LLT, LLT code, PT code, HLT, HLT code, HLGT, HLGT code, SOC, SOC code)
GEN = ("General disorders and administration site conditions", 10018065)
NERV = ("Nervous system disorders", 10029205)
INF = ("Infections and infestations", 10021881)
MET = ("Metabolism and nutrition disorders", 10027433)
RESP = ("Respiratory, thoracic and mediastinal disorders", 10038738)
INJ = ("Injury, poisoning and procedural complications", 10022117)
CARD = ("Cardiac disorders", 10007541)
MUSC = ("Musculoskeletal and connective tissue disorders", 10028395)
GI = ("Gastrointestinal disorders", 10017947)
PSY = ("Psychiatric disorders", 10037175)
SKIN = ("Skin and subcutaneous tissue disorders", 10040785)

MEDDRA: dict[str, tuple] = {
    "Pyrexia": ("Fever", 10016558, 10037660, "Febrile disorders", 10016286, "Body temperature conditions", 10005908, *GEN),
    "Pain": ("Pain", 10033371, 10033371, "Pain and discomfort NEC", 10033372, "General system disorders NEC", 10018073, *GEN),
    "Influenza like illness": ("Flu-like symptoms", 10016791, 10022004, "General signs and symptoms NEC", 10018072,
                               "General system disorders NEC", 10018073, *GEN),
    "Fatigue": ("Fatigue", 10016256, 10016256, "Asthenic conditions", 10003550, "General system disorders NEC", 10018073, *GEN),
    "Headache": ("Headache", 10019211, 10019211, "Headaches NEC", 10019233, "Headaches", 10019231, *NERV),
    "Dizziness": ("Dizziness", 10013573, 10013573, "Neurological signs and symptoms NEC", 10029305,
                  "Neurological disorders NEC", 10029299, *NERV),
    "Pyelonephritis acute": ("Acute pyelonephritis", 10001029, 10037597, "Urinary tract infections", 10046577,
                             "Infections - pathogen unspecified", 10021879, *INF),
    "Nasopharyngitis": ("Common cold", 10010106, 10028810, "Upper respiratory tract infections", 10046309,
                        "Infections - pathogen unspecified", 10021879, *INF),
    "Hyponatraemia": ("Hyponatremia", 10021036, 10021038, "Sodium imbalance", 10041272,
                      "Electrolyte and fluid balance conditions", 10014418, *MET),
    "Respiratory failure": ("Respiratory failure", 10038695, 10038695, "Respiratory failures (excl neonatal)", 10038696,
                            "Respiratory disorders NEC", 10038716, *RESP),
    "Contusion": ("Bruise", 10006504, 10050584, "Non-site specific injuries NEC", 10029514, "Injuries NEC", 10022119, *INJ),
    "Ankle fracture": ("Ankle fracture", 10002544, 10002544, "Lower limb fractures and dislocations", 10024935,
                       "Bone and joint injuries", 10005959, *INJ),
    "Cardiac arrest": ("Cardiac arrest", 10007515, 10007515, "Ventricular arrhythmias and cardiac arrest", 10047283,
                       "Cardiac arrhythmias", 10007521, *CARD),
    "Rhabdomyolysis": ("Rhabdomyolysis", 10039020, 10039020, "Muscle related signs and symptoms NEC", 10028326,
                       "Muscle disorders", 10028302, *MUSC),
    "Back pain": ("Back pain", 10003988, 10003988, "Musculoskeletal and connective tissue pain and discomfort", 10068757,
                  "Musculoskeletal and connective tissue disorders NEC", 10028393, *MUSC),
    "Musculoskeletal pain": ("Musculoskeletal pain", 10028391, 10028391,
                             "Musculoskeletal and connective tissue pain and discomfort", 10068757,
                             "Musculoskeletal and connective tissue disorders NEC", 10028393, *MUSC),
    "Muscle spasms": ("Muscle cramp", 10028294, 10028334, "Muscle related signs and symptoms NEC", 10028326,
                      "Muscle disorders", 10028302, *MUSC),
    "Constipation": ("Constipation", 10010774, 10010774, "Gastrointestinal atonic and hypomotility disorders NEC",
                     10017933, "Gastrointestinal motility and defaecation conditions", 10017977, *GI),
    "Nausea": ("Nausea", 10028813, 10028813, "Nausea and vomiting symptoms", 10028817,
               "Gastrointestinal signs and symptoms", 10018012, *GI),
    "Insomnia": ("Insomnia", 10022437, 10022437, "Disturbances in initiating and maintaining sleep", 10013269,
                 "Sleep disorders and disturbances", 10040991, *PSY),
    "Rash": ("Rash", 10037844, 10037844, "Rashes, eruptions and exanthems NEC", 10037868,
             "Epidermal and dermal conditions", 10014982, *SKIN),
}
VERBATIM = {"Pyrexia": "FEVER AFTER INJECTION", "Pain": "PAIN AT INJECTION SITE", "Influenza like illness": "FLU-LIKE SYMPTOMS",
            "Headache": "HEADACHE", "Back pain": "LOW BACK PAIN", "Musculoskeletal pain": "MUSCLE PAIN",
            "Hyponatraemia": "HYPONATREMIA", "Pyelonephritis acute": "ACUTE PYELONEPHRITIS",
            "Respiratory failure": "RESPIRATORY FAILURE", "Contusion": "CONTUSION AFTER FALL",
            "Ankle fracture": "RIGHT ANKLE FRACTURE", "Cardiac arrest": "SUDDEN CARDIAC ARREST",
            "Rhabdomyolysis": "RHABDOMYOLYSIS", "Muscle spasms": "MUSCLE CRAMPS", "Nasopharyngitis": "COMMON COLD",
            "Constipation": "CONSTIPATION", "Nausea": "NAUSEA", "Insomnia": "INSOMNIA", "Rash": "SKIN RASH",
            "Fatigue": "FATIGUE", "Dizziness": "DIZZINESS"}
FILLER_PTS = ("Nasopharyngitis", "Constipation", "Insomnia", "Dizziness", "Muscle spasms", "Nausea", "Rash",
              "Fatigue")


@dataclass
class Event:
    subjid: str
    pt: str
    start: np.datetime64
    end: np.datetime64 | None
    serious: bool = False
    criteria: tuple[str, ...] = ()
    grade: int = 1
    rel_cells: str = "NOT RELATED"
    rel_proc: str = "NOT RELATED"
    outcome: str = "RECOVERED/RESOLVED"
    action: str = "NOT APPLICABLE"
    start_text: str | None = None
    end_text: str | None = None


def _d(value: object) -> np.datetime64:
    return np.datetime64(value, "D")


def _days(n: int) -> np.timedelta64:
    return np.timedelta64(int(n), "D")


def sample_adverse_events(plan: pd.DataFrame, rng: np.random.Generator) -> list[Event]:
    """Events of the calibrated sample study (exact Table 2 counts and AE incidence)."""
    fas = plan[plan["ROLE"] == ROLE_FAS]
    msc = fas[fas["ARM"] == "MSC"]
    ctl = fas[fas["ARM"] == "CONTROL"]
    msc_dead = msc[pd.notna(msc["DTHDT"]) & (msc["DTHDT"] <= msc["VISDT_9"] + pd.Timedelta(days=70))]
    ctl_dead = ctl[pd.notna(ctl["DTHDT"]) & (ctl["DTHDT"] <= ctl["VISDT_9"] + pd.Timedelta(days=70))]
    events: list[Event] = []

    # --- MSC: A-E (ADRs, SAEs) and F (fatal respiratory failure between V9 and V10)
    f_row = msc_dead.iloc[0]
    others = msc.drop(index=f_row.name)
    picks = others.sample(n=5, random_state=int(rng.integers(1 << 30)))
    a, b, c, d, e = (picks.iloc[i] for i in range(5))
    inj1, inj2 = _d(a["VISDT_5"]), None
    events += [
        Event(a["SUBJID"], "Pyrexia", inj1, inj1 + _days(2), rel_cells="PROBABLY RELATED", action="DOSE NOT CHANGED"),
        Event(a["SUBJID"], "Headache", inj1 + _days(1), inj1 + _days(3), rel_cells="NOT RELATED",
              rel_proc="POSSIBLY RELATED", action="DOSE NOT CHANGED"),
    ]
    inj2 = _d(b["VISDT_6"])
    events.append(Event(b["SUBJID"], "Headache", inj2 + _days(1), inj2 + _days(4), grade=2,
                        rel_proc="PROBABLY RELATED", action="NOT APPLICABLE"))
    inj1c = _d(c["VISDT_5"])
    events.append(Event(c["SUBJID"], "Pain", inj1c + _days(1), inj1c + _days(5), rel_cells="POSSIBLY RELATED",
                        rel_proc="POSSIBLY RELATED", action="DOSE NOT CHANGED"))
    events.append(_sae(d, "Pyelonephritis acute", _d(d["VISDT_7"]) + _days(5), ("HOSP",), 3, rng))
    events.append(_sae(e, "Hyponatraemia", _d(e["VISDT_8"]) + _days(3), ("HOSP",), 3, rng))
    f_death = _d(f_row["DTHDT"])
    events.append(Event(f_row["SUBJID"], "Respiratory failure", f_death - _days(6), f_death, True, ("DTH", "HOSP"),
                        5, outcome="FATAL"))

    # MSC fillers: 20 participants by month 4 (A-E + 15), common events ILI 7, back pain 5, MS pain 5
    filler_pool = others.drop(index=picks.index)
    fillers = filler_pool.sample(n=15, random_state=int(rng.integers(1 << 30)))
    participants_4m = pd.concat([picks, fillers])
    order = participants_4m.sample(frac=1.0, random_state=int(rng.integers(1 << 30)))
    plan_common = {"Influenza like illness": order.iloc[0:7], "Back pain": order.iloc[5:10],
                   "Musculoskeletal pain": order.iloc[10:15]}
    covered = set()
    for pt, rows in plan_common.items():
        for _, row in rows.iterrows():
            events.append(_filler(row, pt, rng, late=False))
            covered.add(row["SUBJID"])
    for _, row in participants_4m.iterrows():
        if row["SUBJID"] not in covered and row["SUBJID"] not in set(picks["SUBJID"]):
            events.append(_filler(row, FILLER_PTS[int(rng.integers(len(FILLER_PTS)))], rng, late=False))
    # a second, later event for a few existing participants (no new participants between months 4 and 6)
    for _, row in participants_4m.sample(n=4, random_state=int(rng.integers(1 << 30))).iterrows():
        if pd.notna(row["VISDT_10"]):
            events.append(_filler(row, FILLER_PTS[int(rng.integers(len(FILLER_PTS)))], rng, late=True))

    # --- CONTROL: G (contusion), H (ankle fracture, excluded), I (cardiac arrest before V3, excluded),
    #     J (rhabdomyolysis months 4-6), K and L (fatal respiratory failure months 4-6)
    h = plan[(plan["ROLE"] == ROLE_EARLY_SAE)].iloc[0]
    i_row = plan[(plan["ROLE"] == ROLE_EARLY_DEATH)].iloc[0]
    ctl_alive = ctl.drop(index=ctl_dead.index)
    g, j = (row for _, row in ctl_alive.sample(n=2, random_state=int(rng.integers(1 << 30))).iterrows())
    events.append(_sae(g, "Contusion", _d(g["VISDT_6"]) + _days(8), ("HOSP",), 2, rng))
    events.append(_sae(h, "Ankle fracture", _d(h["VISDT_3"]) + _days(9), ("HOSP",), 3, rng))
    events.append(Event(i_row["SUBJID"], "Cardiac arrest", _d(i_row["DTHDT"]), _d(i_row["DTHDT"]), True,
                        ("DTH",), 5, outcome="FATAL"))
    events.append(_sae(j, "Rhabdomyolysis", _d(j["VISDT_9"]) + _days(20), ("HOSP",), 3, rng))
    for _, row in ctl_dead.iterrows():
        death = _d(row["DTHDT"])
        events.append(Event(row["SUBJID"], "Respiratory failure", death - _days(5), death, True, ("DTH", "HOSP"), 5,
                            outcome="FATAL"))
    # CONTROL participants by month 4: G, H, I + 19 (J, K and L among them); by month 6: one more
    need = ctl_alive.drop(index=[g.name, j.name]).drop(index=ctl_dead.index, errors="ignore")
    extra = need.sample(n=16, random_state=int(rng.integers(1 << 30)))
    late_new = need.drop(index=extra.index).sample(n=1, random_state=int(rng.integers(1 << 30))).iloc[0]
    ctl_pts = ("Back pain", "Back pain", "Back pain", "Influenza like illness", "Musculoskeletal pain") + FILLER_PTS
    early_rows = [row for _, row in extra.iterrows()] + [row for _, row in ctl_dead.iterrows()] + [j]
    for row in early_rows:
        events.append(_filler(row, ctl_pts[int(rng.integers(len(ctl_pts)))], rng, late=False))
    events.append(_filler(late_new, FILLER_PTS[int(rng.integers(len(FILLER_PTS)))], rng, late=True))
    _partial_dates(events, rng)
    return events


def _sae(row: pd.Series, pt: str, start: np.datetime64, criteria: tuple[str, ...], grade: int,
         rng: np.random.Generator) -> Event:
    end = start + _days(int(rng.integers(5, 15)))
    return Event(row["SUBJID"], pt, start, end, True, criteria, grade, outcome="RECOVERED/RESOLVED")


def _filler(row: pd.Series, pt: str, rng: np.random.Generator, late: bool) -> Event:
    """A non-serious event between V5 and V9 (late=False) or between V9 and V10 (late=True)."""
    if late:
        lo, hi = _d(row["VISDT_9"]) + _days(3), _d(row["VISDT_10"]) - _days(3)
    else:
        lo, hi = _d(row["VISDT_5"]) + _days(3), _d(row["VISDT_9"]) - _days(3)
    start = lo + _days(int(rng.integers(0, max(1, int((hi - lo).astype(int))))))
    ongoing = rng.random() < 0.1
    end = None if ongoing else start + _days(int(rng.integers(2, 30)))
    return Event(row["SUBJID"], pt, start, end, grade=int(rng.choice([1, 1, 2])),
                 outcome="NOT RECOVERED/NOT RESOLVED" if ongoing else "RECOVERED/RESOLVED")


def _partial_dates(events: list[Event], rng: np.random.Generator) -> None:
    """A few non-serious events have an end date known only to the month (written 'YYYY-MM-UN')."""
    candidates = [ev for ev in events if not ev.serious and ev.end is not None]
    for k in rng.choice(len(candidates), size=min(4, len(candidates)), replace=False):
        ev = candidates[int(k)]
        ev.end_text = str(ev.end)[:7] + "-UN"


def random_adverse_events(plan: pd.DataFrame, rng: np.random.Generator) -> list[Event]:
    """Scale mode: Poisson(1.2) events per randomized subject between V5 and V10, 5 % serious. A draw that
    repeats a subject's term on the same start date is dropped (the natural key of AE is subject, term and
    start date), after its random numbers are drawn, so the other events stay as they were."""
    events: list[Event] = []
    pts = list(MEDDRA)
    randomized = plan[(plan["ROLE"] == ROLE_FAS) & pd.notna(plan["VISDT_9"])]
    counts = rng.poisson(1.2, len(randomized))
    for (_, row), count in zip(randomized.iterrows(), counts, strict=True):
        seen: set[tuple[str, np.datetime64]] = set()
        for _ in range(count):
            ev = _filler(row, pts[int(rng.integers(len(pts)))], rng, late=False)
            if rng.random() < 0.05:
                ev.serious, ev.criteria, ev.grade = True, ("HOSP",), 3
            if (ev.pt, ev.start) not in seen:
                seen.add((ev.pt, ev.start))
                events.append(ev)
    return events


def events_frame(events: list[Event]) -> pd.DataFrame:
    """The raw AE table (ae.csv) of a list of events, one row per event, AESPID numbered per subject."""
    rows = []
    events = sorted(events, key=lambda ev: (ev.subjid, ev.start, ev.pt))
    line: dict[str, int] = {}
    for ev in events:
        line[ev.subjid] = line.get(ev.subjid, 0) + 1
        llt, lltcd, ptcd, hlt, hltcd, hlgt, hlgtcd, soc, soccd = MEDDRA[ev.pt]
        rows.append({
            "SUBJID": ev.subjid, "AELINE": line[ev.subjid], "AETERM": VERBATIM.get(ev.pt, ev.pt.upper()),
            "LLT": llt, "LLTCD": lltcd, "PT": ev.pt, "PTCD": ptcd, "HLT": hlt, "HLTCD": hltcd,
            "HLGT": hlgt, "HLGTCD": hlgtcd, "SOC": soc, "SOCCD": soccd,
            "AESTDT": ev.start_text or str(ev.start),
            "AEENDT": ev.end_text or ("" if ev.end is None else str(ev.end)),
            "ONGOING": "Y" if ev.end is None else "N",
            "SEVERITY": {1: "MILD", 2: "MODERATE"}.get(ev.grade, "SEVERE"), "GRADE": ev.grade,
            "SERIOUS": "Y" if ev.serious else "N",
            "SDEATH": "Y" if "DTH" in ev.criteria else "N", "SLIFE": "Y" if "LIFE" in ev.criteria else "N",
            "SHOSP": "Y" if "HOSP" in ev.criteria else "N", "SDISAB": "N", "SCONG": "N", "SMIE": "N",
            "REL_CELLS": ev.rel_cells, "REL_PROC": ev.rel_proc, "ACTION": ev.action, "OUTCOME": ev.outcome,
        })
    return pd.DataFrame(rows)
