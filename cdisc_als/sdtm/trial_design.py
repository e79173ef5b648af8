"""Trial design datasets from the study spec (`trial_design:` of study.yaml) and the mapped SDTM.

  TE  one record per element: ETCD, ELEMENT, TESTRL, TEENRL, TEDUR
  TA  one record per element per arm, in order (TAETORD), with the element's EPOCH and the branch
  TV  one record per scheduled visit (the same in every arm, so ARMCD is null): VISITDY is the visit's
      nominal study day (Study.target_day), TVSTRL states its timing and window
  TI  one record per inclusion/exclusion criterion
  TS  one record per trial summary value; coded values take their C-code from codelists.yaml (TSVCDREF
      "CDISC CT", TSVCDVER its version in `terminologies`) or their code from the spec; values from
      the data (ACTSUB, SSTDTC, SENDTC) are computed from DM
  SE  one record per element a subject entered, from actual dates (derive_subject_elements)
"""

from __future__ import annotations

import pandas as pd

from cdisc_als.findings import WARNING, Finding
from cdisc_als.metadata import Metadata
from cdisc_als.sdtm.dates import study_day
from cdisc_als.study import Study
from cdisc_als.study_design import CDISC_CT, TrialDesign, TsParameter, TsSource

SPEC_FILE = "study.yaml"


class TrialDesignError(ValueError):
    """The trial summary of the study spec cannot be coded with the metadata (every problem listed)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"{len(problems)} trial design problem(s):\n  " + "\n  ".join(problems))


def _design(study: Study) -> TrialDesign:
    if study.trial_design is None:
        raise ValueError("the study spec has no 'trial_design' section")
    return study.trial_design


def _frame(study: Study, domain: str, rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"STUDYID": study.study_id, "DOMAIN": domain, **row} for row in rows])


def build_te(study: Study) -> pd.DataFrame:
    """TE: the elements of the spec, in spec order."""
    return _frame(study, "TE", [{"ETCD": e.etcd, "ELEMENT": e.element, "TESTRL": e.start_rule, "TEENRL": e.end_rule,
                                 "TEDUR": e.duration or ""} for e in _design(study).elements])


def build_ta(study: Study) -> pd.DataFrame:
    """TA: per arm of `arms` (study order) its elements in order; TABRANCH on the arm's branch element."""
    design = _design(study)
    rows = []
    for arm in study.arms:
        path = design.arm(arm.armcd)
        for order, etcd in enumerate(path.elements, start=1):
            element = design.element(etcd)
            rows.append({"ARMCD": arm.armcd, "ARM": arm.arm, "TAETORD": float(order), "ETCD": etcd,
                         "ELEMENT": element.element, "TABRANCH": path.branch if etcd == path.branch_element else "",
                         "TATRANS": "", "EPOCH": element.epoch})
    return _frame(study, "TA", rows)


def visit_timing(study: Study, visit) -> str:
    """TVSTRL: the planned timing of a visit relative to the baseline visit, with its window."""
    base = study.baseline_visit
    what = f"{visit.label}: " if visit.label else ""
    if visit is base:
        return f"{what}planned study day 1 (reference visit)"
    window = f", window +/- {visit.window_days} days" if visit.window_days else ""
    return f"{what}{visit.month:g} months from {base.visit} (planned study day {study.target_day(visit)}){window}"


def build_tv(study: Study) -> pd.DataFrame:
    """TV: every scheduled visit once (ARMCD null: the schedule is the same in every arm)."""
    return _frame(study, "TV", [{"VISITNUM": float(v.visitnum), "VISIT": v.visit, "VISITDY": float(study.target_day(v)),
                                 "ARMCD": "", "ARM": "", "TVSTRL": visit_timing(study, v), "TVENRL": ""}
                                for v in study.visits])


def build_ti(study: Study) -> pd.DataFrame:
    """TI: the inclusion and exclusion criteria of the spec."""
    return _frame(study, "TI", [{"IETESTCD": c.code, "IETEST": c.text, "IECAT": c.category, "TIRL": c.rule}
                                for c in _design(study).criteria])


def _months_between(first: float, last: float) -> str:
    months = last - first
    return f"P{months:g}M" if float(months).is_integer() else f"P{round(months * 30.4375):d}D"


def _source_value(source: TsSource, study: Study, dm: pd.DataFrame) -> str:
    if source is TsSource.TITLE:
        return study.title
    if source is TsSource.SPONSOR:
        return study.sponsor
    if source is TsSource.REGISTRY_ID:
        return study.registry_id
    if source is TsSource.COUNTRY:
        return study.country
    if source is TsSource.NUMBER_OF_ARMS:
        return str(len(study.arms))
    if source is TsSource.CUTOFF:
        return study.survival.cutoff_date.isoformat()
    if source is TsSource.LENGTH:
        return _months_between(study.visits[0].month, study.visits[-1].month)
    if source is TsSource.RANDOMIZED:
        return str(int((dm["ARMCD"].fillna("") != "").sum()))
    column, pick = (("RFICDTC", min) if source is TsSource.FIRST_CONSENT else ("RFPENDTC", max))
    dates = [d[:10] for d in dm[column].fillna("").astype(str) if len(d) >= 10]
    return pick(dates) if dates else ""


def _coded(parameter: TsParameter, metadata: Metadata, design: TrialDesign, value: str,
           problems: list[str]) -> tuple[str, str, str]:
    """(TSVALCD, TSVCDREF, TSVCDVER) of one value."""
    if parameter.codelist:
        if parameter.codelist not in metadata.codelists:
            problems.append(f"trial_summary {parameter.parmcd}: codelist {parameter.codelist} is not in codelists.yaml")
            return "", "", ""
        term = next((t for t in metadata.codelist(parameter.codelist).terms if t.value == value), None)
        if term is None or not term.c_code:
            problems.append(f"trial_summary {parameter.parmcd}: {value!r} is not a term with a C-code of codelist "
                            f"{parameter.codelist} in codelists.yaml")
            return "", "", ""
        return term.c_code, CDISC_CT, design.version(CDISC_CT)
    if not parameter.code_ref:
        return "", "", ""
    code = value if parameter.value_is_code else parameter.code
    return code, parameter.code_ref, design.version(parameter.code_ref)


def build_ts(study: Study, metadata: Metadata, dm: pd.DataFrame) -> pd.DataFrame:
    """TS: one record per `trial_summary` entry, TSSEQ numbering the values of a parameter; TSPARM is the
    decode of TSPARMCD in codelists.yaml. Raises TrialDesignError listing every value it cannot code."""
    design = _design(study)
    names = {t.value: t.decode or "" for t in metadata.codelist("TSPARMCD").terms}
    problems: list[str] = []
    rows, seq = [], {}
    for parameter in design.trial_summary:
        if parameter.parmcd not in names or not names[parameter.parmcd]:
            problems.append(f"trial_summary {parameter.parmcd}: not a term (with its name as decode) of codelist "
                            "TSPARMCD in codelists.yaml")
        value = parameter.value or (_source_value(parameter.source, study, dm) if parameter.source else "")
        null_flavor = parameter.null_flavor.value if parameter.null_flavor else ("" if value else "NI")
        code, reference, version = _coded(parameter, metadata, design, value, problems) if value else ("", "", "")
        seq[parameter.parmcd] = seq.get(parameter.parmcd, 0) + 1
        rows.append({"TSSEQ": float(seq[parameter.parmcd]), "TSGRPID": "", "TSPARMCD": parameter.parmcd,
                     "TSPARM": names.get(parameter.parmcd, ""), "TSVAL": value, "TSVALNF": null_flavor,
                     "TSVALCD": code, "TSVCDREF": reference, "TSVCDVER": version})
    if problems:
        raise TrialDesignError(problems)
    return _frame(study, "TS", rows)


def _visit_dates(sv: pd.DataFrame) -> dict[tuple[str, str], str]:
    dates = sv["SVSTDTC"].fillna("").astype(str).str.slice(0, 10)
    keep = dates.str.len() == 10
    return dict(zip(zip(sv.loc[keep, "USUBJID"], sv.loc[keep, "VISIT"], strict=True), dates[keep], strict=True))


def _common_prefix(design: TrialDesign) -> tuple[str, ...]:
    paths = [a.elements for a in design.arms]
    prefix = []
    for codes in zip(*paths, strict=False):
        if len(set(codes)) != 1:
            break
        prefix.append(codes[0])
    return tuple(prefix)


def _start_visits(element, study: Study) -> list[str]:
    """The visits that may start an element: its start visit, then the later visits of its epoch."""
    start = study.visit(element.start.visit)
    return [start.visit] + [v.visit for v in study.visits if v.visitnum > start.visitnum and v.epoch == element.epoch]


def _element_start(element, subject: dict, visits: dict, candidates: list[str]) -> str:
    """A subject's start of an element: its DM date, or the date of its start visit (when that visit was
    missed, the first later visit of the same epoch the subject attended; candidates: _start_visits)."""
    if element.start.date is not None:
        return str(subject.get(element.start.date, "") or "")[:10]
    return next((visits[(subject["USUBJID"], v)] for v in candidates if (subject["USUBJID"], v) in visits), "")


def derive_subject_elements(study: Study, dm: pd.DataFrame, sv: pd.DataFrame) -> tuple[pd.DataFrame, list[Finding]]:
    """SE from actual dates, per subject in DM.

    Rule: the subject follows the elements of its planned arm (ARMCD; subjects without an arm, such as
    screen failures, only the elements every arm shares before the branch). An element is entered when
    its start date (spec `start`) is known and not after the end of participation (RFPENDTC); it ends
    when the next entered element starts (SEENDTC = next SESTDTC, the SDTMIG convention), the last one
    at RFPENDTC. A last element that would start and end on the end of participation is not entered
    (e.g. long-term follow-up of a subject who died on the day the trial period ended). An element that
    starts before the previous one is not written (a warning finding)."""
    design = _design(study)
    visits = _visit_dates(sv)
    shared = _common_prefix(design)
    paths = {a.armcd: a.elements for a in design.arms}
    reference = dm.set_index("USUBJID")["RFSTDTC"]
    rows, findings = [], []
    starts = {etcd: _start_visits(design.element(etcd), study) for path in [shared, *paths.values()] for etcd in path
              if design.element(etcd).start.date is None}
    for subject in dm.sort_values("USUBJID").to_dict("records"):
        end = str(subject.get("RFPENDTC", "") or "")[:10]
        if len(end) != 10:
            continue
        path = paths.get(subject.get("ARMCD", ""), shared)
        entered: list[tuple[int, object, str]] = []
        for order, etcd in enumerate(path, start=1):
            element = design.element(etcd)
            start = _element_start(element, subject, visits, starts.get(etcd, []))
            if len(start) != 10 or start > end:
                continue
            if entered and start < entered[-1][2]:
                findings.append(Finding(SPEC_FILE, None, "SESTDTC", start, "SDTM-SE", f"SE {subject['USUBJID']}: element "
                                        f"{etcd} starts before element {entered[-1][1].etcd} ({entered[-1][2]}); not "
                                        "written", WARNING))
                continue
            entered.append((order, element, start))
        for k, (order, element, start) in enumerate(entered):
            stop = entered[k + 1][2] if k + 1 < len(entered) else end
            if k == len(entered) - 1 and k > 0 and start == end:
                continue
            rows.append({"USUBJID": subject["USUBJID"], "ETCD": element.etcd, "ELEMENT": element.element,
                         "TAETORD": float(order), "EPOCH": element.epoch, "SESTDTC": start, "SEENDTC": stop,
                         "SEUPDES": ""})
    se = _frame(study, "SE", rows)
    if se.empty:
        return se, findings
    se["SESEQ"] = (se.groupby("USUBJID", sort=False).cumcount() + 1).astype("float64")
    ref = se["USUBJID"].map(reference).fillna("")
    se["SESTDY"] = study_day(se["SESTDTC"], ref)
    se["SEENDY"] = study_day(se["SEENDTC"], ref)
    return se, findings


def build_trial_design(study: Study, metadata: Metadata, dm: pd.DataFrame,
                       sv: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """TA, TE, TV, TI, TS and SE of a study ({} when the spec has no `trial_design`)."""
    if study.trial_design is None:
        return {}, []
    se, findings = derive_subject_elements(study, dm, sv)
    datasets = {"TA": build_ta(study), "TE": build_te(study), "TV": build_tv(study), "TI": build_ti(study),
                "TS": build_ts(study, metadata, dm), "SE": se}
    return {name: frame for name, frame in datasets.items() if len(frame)}, findings
