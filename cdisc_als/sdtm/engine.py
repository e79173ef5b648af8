"""Run a domain spec on raw tables: rules per source, derivations, SUPPQUAL, traceability.

Every record keeps the raw file and row it came from in the columns _SRC_FILE and _SRC_ROW
(written beside the data as a trace file, never into the XPT).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cdisc_als.columnar import map_distinct
from cdisc_als.findings import WARNING, Finding
from cdisc_als.metadata import Metadata
from cdisc_als.sdtm import derive
from cdisc_als.sdtm.conditions import evaluate
from cdisc_als.sdtm.fast import filled
from cdisc_als.sdtm.placeholders import substitute
from cdisc_als.sdtm.rules import RuleContext, apply_rule
from cdisc_als.sdtm.spec import DomainSpec, Source
from cdisc_als.study import Study

TRACE = ["_SRC_FILE", "_SRC_ROW"]
REFERENCED = ("DM", "SV")              # mapped domains that later domains read (reference dates, visit dates)


@dataclass
class MappingContext:
    study: Study
    metadata: Metadata
    raw: dict[str, pd.DataFrame]           # raw tables as read (text, with _ROW), rejected rows removed
    files: dict[str, str]
    sites: dict[str, str]
    subject_column: str = "SUBJID"
    built: dict[str, pd.DataFrame] = field(default_factory=dict)
    present: frozenset[str] | None = None  # raw tables whose file was read (None: every table of `raw`)
    usubjids: dict[str, str] = field(default_factory=dict)   # subject -> USUBJID, shared by the rules

    def has_table(self, name: str) -> bool:
        return name in self.raw if self.present is None else name in self.present

    @property
    def reference(self) -> pd.Series:
        dm = self.built.get("DM")
        return pd.Series(dtype=object) if dm is None else dm.set_index("USUBJID")["RFSTDTC"]

    @property
    def trial_end(self) -> pd.Series:
        """USUBJID -> DM.RFENDTC, the end of the subject's trial participation ('' when not known)."""
        dm = self.built.get("DM")
        return pd.Series(dtype=object) if dm is None or "RFENDTC" not in dm else dm.set_index("USUBJID")["RFENDTC"]


@dataclass
class DomainResult:
    domain: str
    data: pd.DataFrame                     # with _SRC_FILE/_SRC_ROW
    supp: pd.DataFrame
    findings: list[Finding]


def _transpose(frame: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """Wide columns -> one row per listed column: _COLUMN, _VALUE and the entry's `set` values, records in
    raw row order and, within a row, in the order of the listed columns."""
    for entry in spec["columns"]:
        if entry["column"] not in frame.columns:
            raise KeyError(f"transpose column {entry['column']!r} is not in the source table")
    set_keys = [list(entry.get("set") or {}) for entry in spec["columns"]]
    if (len(frame) and all(keys == set_keys[0] for keys in set_keys)
            and not set(set_keys[0]) & {*frame.columns, "_COLUMN", "_VALUE"}):
        return _transpose_positions(frame, spec, set_keys[0])
    parts = []
    skip_blank = spec.get("skip_blank", True)
    for entry in spec["columns"]:
        column = entry["column"]
        if column not in frame.columns:
            raise KeyError(f"transpose column {column!r} is not in the source table")
        part = frame.copy()
        part["_COLUMN"] = column
        part["_VALUE"] = frame[column].fillna("").astype(str)
        for key, value in (entry.get("set") or {}).items():
            part[key] = "" if value is None else str(value)
        if skip_blank:
            part = part[part["_VALUE"] != ""]
        parts.append(part)
    order = {e["column"]: k for k, e in enumerate(spec["columns"])}
    long = pd.concat(parts, ignore_index=True)
    long["_ORDER"] = long["_COLUMN"].map(order)
    return long.sort_values(["_ROW", "_ORDER"], kind="stable", ignore_index=True).drop(columns="_ORDER")


def _transpose_positions(frame: pd.DataFrame, spec: dict, set_keys: list[str]) -> pd.DataFrame:
    """_transpose for specs whose entries all set the same new columns: the records are taken from the
    table once, by position, instead of one copy of the table per listed column."""
    skip_blank = spec.get("skip_blank", True)
    order = {e["column"]: k for k, e in enumerate(spec["columns"])}
    positions, entries, values = [], [], []
    for k, entry in enumerate(spec["columns"]):
        value = frame[entry["column"]].fillna("").astype(str).to_numpy(dtype=object)
        keep = np.flatnonzero(value != "") if skip_blank else np.arange(len(frame))
        positions.append(keep)
        entries.append(np.full(len(keep), k, dtype=np.intp))
        values.append(value[keep])
    position, entry, value = np.concatenate(positions), np.concatenate(entries), np.concatenate(values)
    ranks = np.array([order[e["column"]] for e in spec["columns"]], dtype=np.intp)
    rows = frame["_ROW"].to_numpy()[position]
    ordered = np.lexsort((ranks[entry], rows))          # stable: by _ROW, then the column's rank
    position, entry, value = position[ordered], entry[ordered], value[ordered]
    long = _renumbered(frame.take(position))
    added = {"_COLUMN": np.array([e["column"] for e in spec["columns"]], dtype=object)[entry], "_VALUE": value}
    for key in set_keys:
        texts = ["" if e["set"][key] is None else str(e["set"][key]) for e in spec["columns"]]
        added[key] = np.array(texts, dtype=object)[entry]
    return pd.concat([long, pd.DataFrame(added, index=long.index)], axis=1)


def map_source(source: Source, ctx: MappingContext, domain: str) -> tuple[pd.DataFrame, list[dict], list[Finding]]:
    """Apply one source's rules; returns records (with trace), supp values per record and findings."""
    raw = ctx.raw[source.table]                    # only read: rules and conditions return new columns
    if not raw.index.equals(pd.RangeIndex(len(raw))):
        raw = raw.reset_index(drop=True)
    file_name = ctx.files[source.table]
    if source.where is not None:
        raw = _renumbered(raw[evaluate(source.where, raw).to_numpy()])
    if source.unless_subject_in is not None:
        raw = _without_subjects_in(raw, source.unless_subject_in, ctx)
    frame = _transpose(raw, source.transpose) if source.transpose else raw
    rule_ctx = RuleContext(ctx.study, ctx.metadata, domain, ctx.sites, ctx.subject_column, ctx.usubjids)
    findings: list[Finding] = []
    columns: dict[str, np.ndarray] = {}
    for var, rule in source.variables.items():
        values, problems = apply_rule(frame, rule, rule_ctx)
        columns[var] = values.to_numpy() if len(values) == len(frame) else values.reindex(frame.index).to_numpy()
        findings += [Finding(file_name, int(frame["_ROW"].iloc[pos]), column, value, f"SDTM-{rule['rule'].upper()}",
                             f"{domain}.{var}: {message}", WARNING if rule["rule"] == "ct" else "error")
                     for pos, column, value, message in problems]
    columns["_SRC_FILE"] = filled(len(frame), file_name)
    columns["_SRC_ROW"] = frame["_ROW"].to_numpy()
    out = pd.DataFrame(columns, index=frame.index)       # built once, not grown column by column
    supp = []
    for spec in source.supp:
        values, problems = apply_rule(frame, spec["value"], rule_ctx)
        supp.append({"qnam": spec["qnam"], "qlabel": spec["qlabel"], "qorig": spec.get("qorig", "CRF"),
                     "qeval": spec.get("qeval", ""), "idvar": spec.get("idvar"),
                     "values": values.fillna("").astype(str).to_numpy()})
    return out, supp, findings


def _without_subjects_in(raw: pd.DataFrame, spec: dict, ctx: MappingContext) -> pd.DataFrame:
    """The rows of raw whose subject has no row in spec['table'] (that meets spec['where'], if given)."""
    other = ctx.raw[spec["table"]]
    if spec.get("where") is not None:
        other = other[evaluate(spec["where"], other).to_numpy()]
    column = ctx.subject_column
    return _renumbered(raw[~raw[column].isin(set(other[column]))])


def _supp_frame(domain: str, data: pd.DataFrame, supp_values: list[dict], study_id: str) -> pd.DataFrame:
    """SUPP-- records (never with a blank QVAL), IDVAR = --SEQ of the parent record."""
    rows = []
    for item in supp_values:
        values = pd.Series(item["values"], index=data.index)
        keep = values != ""
        if not keep.any():
            continue
        idvar = item.get("idvar") or (f"{domain}SEQ" if domain != "DM" else "")
        if idvar:
            raw_id = data.loc[keep, idvar]
            idvarval = (pd.Series(map_distinct(raw_id, _whole_number_text), index=raw_id.index)
                        if pd.api.types.is_numeric_dtype(raw_id) else raw_id)
        else:
            idvarval = ""
        part = pd.DataFrame({
            "STUDYID": study_id, "RDOMAIN": domain, "USUBJID": data.loc[keep, "USUBJID"], "IDVAR": idvar,
            "IDVARVAL": idvarval, "QNAM": item["qnam"], "QLABEL": item["qlabel"], "QVAL": values[keep],
            "QORIG": item["qorig"], "QEVAL": item["qeval"], "_SRC_FILE": data.loc[keep, "_SRC_FILE"],
            "_SRC_ROW": data.loc[keep, "_SRC_ROW"],
        })
        # a qualifier of a group (IDVAR = --GRPID) is written once per group
        rows.append(part.drop_duplicates(["USUBJID", "IDVARVAL", "QNAM"]))
    columns = ["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG", "QEVAL", *TRACE]
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.concat(rows, ignore_index=True).sort_values(["USUBJID", "IDVARVAL", "QNAM"], kind="stable",
                                                          key=_natural, ignore_index=True)


def _renumbered(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame just selected from another (so no one else holds it) indexed 0..n-1 in place, without the
    deep copy reset_index(drop=True) makes."""
    frame.index = pd.RangeIndex(len(frame))
    return frame


def _whole_number_text(value: float) -> str:
    return f"{value:.0f}"


def _natural(column: pd.Series) -> pd.Series:
    """The column as numbers when every value is one (natural order of 2 < 10), else as it is; each
    distinct value converted once."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    if (codes < 0).any() or not len(uniques):
        numbers = pd.to_numeric(column, errors="coerce")
        return numbers if numbers.notna().all() else column
    numbers = pd.to_numeric(pd.Series(uniques, dtype=object if column.dtype == object else None), errors="coerce")
    return pd.Series(numbers.to_numpy()[codes], index=column.index) if numbers.notna().all() else column


def parameter_records(spec: DomainSpec, ctx: MappingContext) -> pd.DataFrame:
    """Records given literally in the spec (trial design domains such as TS), placeholders replaced."""
    rows = []
    for item in spec.parameters:
        row = substitute(dict(item), ctx.study, spec.domain)
        rows.append({"STUDYID": ctx.study.study_id, "DOMAIN": spec.domain, **row,
                     "_SRC_FILE": spec.path.name, "_SRC_ROW": np.nan})
    return pd.DataFrame(rows)


def run_domain(spec: DomainSpec, ctx: MappingContext) -> DomainResult:
    """All sources of a domain whose raw table was read (an absent optional table is a RAW-FILE-MISSING
    finding of the raw stage: its source maps nothing and adds no columns), then its derivations, in
    the order the spec gives."""
    parts, supp_parts, findings = [], [], []
    if spec.parameters:
        parts.append(parameter_records(spec, ctx))
    for source in (s for s in spec.sources if ctx.has_table(s.table)):
        records, supp_values, problems = map_source(source, ctx, spec.domain)
        parts.append(records)
        supp_parts.append((len(records), supp_values))
        findings += problems
    data = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    del parts                                          # the sources' records, now copied into data
    # each source's supp values along the concatenated rows ('' elsewhere), one array per QNAM
    supp_columns: dict[str, dict] = {}
    offset = 0
    for n_records, supp_values in supp_parts:
        for item in supp_values:
            if item["qnam"] not in supp_columns:
                supp_columns[item["qnam"]] = {**item, "values": np.full(len(data), "", dtype=object)}
            supp_columns[item["qnam"]]["values"][offset: offset + n_records] = item["values"]
        offset += n_records
    if supp_columns:
        data["_POS"] = np.arange(len(data))            # the derivations may sort: follow the records
    data = _derive(spec, data, ctx)
    if supp_columns:
        order = data.pop("_POS").to_numpy()
        for item in supp_columns.values():
            item["values"] = item["values"][order]
    supp = _supp_frame(spec.domain, data, list(supp_columns.values()), ctx.study.study_id)
    return DomainResult(spec.domain, data, supp, findings)


def _derive(spec: DomainSpec, data: pd.DataFrame, ctx: MappingContext) -> pd.DataFrame:
    steps = spec.derive
    visits = (derive.visit_dates_from_sv(ctx.built["SV"]) if "SV" in ctx.built
              else pd.DataFrame(columns=["USUBJID", "VISITNUM", "DATE"]))
    if "dm_reference" in steps:
        from cdisc_als.sdtm.dm import derive_dm_reference

        data = derive_dm_reference(data, substitute(dict(steps["dm_reference"]), ctx.study, spec.domain), ctx)
    if "visit_date" in steps:
        data = derive.derive_visit_date(data, steps["visit_date"], visits)
    if "epoch" in steps:
        data = derive.derive_epoch(data, steps["epoch"], visits, ctx.study, ctx.trial_end)
    if "lobxfl" in steps:
        conf = steps["lobxfl"]
        data = derive.derive_lobxfl(data, conf["flag"], conf["date"], list(conf.get("by", [])), conf["result"],
                                    ctx.reference)
    sort = spec.sort or ["USUBJID"]
    if steps.get("seq", False):
        data = derive.derive_seq(data, spec.domain, sort)
    else:
        keys = [k for k in sort if k in data.columns]
        data = data.sort_values(keys, kind="stable", ignore_index=True) if keys else data
    if "study_day" in steps:
        # DM's own study days (DMDY) use the reference dates it has just derived
        reference = data.set_index("USUBJID")["RFSTDTC"] if "RFSTDTC" in data.columns else ctx.reference
        data = derive.derive_study_day(data, dict(steps["study_day"]), reference)
    return data


def blank_like(metadata_type: str, n: int) -> np.ndarray:
    return np.full(n, np.nan) if metadata_type == "Num" else np.full(n, "", dtype=object)
