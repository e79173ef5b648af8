"""Raw folder -> every SDTM domain as XPT, with trace files, reconciliation and findings.

Outputs in the target folder:
  <domain>.xpt and supp<domain>.xpt   one dataset per file, lower-case names, labels and lengths
                                      from the metadata (XPT v5, fixed timestamp)
  trace/<domain>.csv                  each record's raw file and row (the key variables beside them)
  reconciliation.csv                  per raw table: rows read, rejected, mapped, mapped to several
                                      records, not used
  reconciliation_rows.csv             every raw row that was rejected or not used, with the reason
  sdtm_findings.csv                   raw-data findings and mapping findings (file, row, column, ...)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_als.columnar import as_categoricals, frame_of, map_distinct
from cdisc_als.export.xpt import XptVariable, write_xpt
from cdisc_als.findings import ERROR, Finding, Findings
from cdisc_als.io import safe_child, write_csv
from cdisc_als.metadata import Metadata, load_metadata
from cdisc_als.raw.pipeline import RawData, read_and_check_raw
from cdisc_als.raw.spec import RawSpec, load_raw_spec
from cdisc_als.resources import mappings_dir
from cdisc_als.sdtm.derive import derive_participation_end
from cdisc_als.sdtm.engine import REFERENCED, TRACE, MappingContext, run_domain
from cdisc_als.sdtm.spec import DomainSpec, load_domain_specs
from cdisc_als.sdtm.trial_design import SPEC_FILE, build_trial_design
from cdisc_als.study import Study


@dataclass
class SdtmResult:
    datasets: dict[str, pd.DataFrame]          # final SDTM frames (no trace columns), keyed by dataset name
    traces: dict[str, pd.DataFrame]
    findings: Findings
    reconciliation: pd.DataFrame
    unmapped_rows: pd.DataFrame
    labels: dict[str, str] = field(default_factory=dict)


def finalize(frame: pd.DataFrame, dataset: str, metadata: Metadata, meta_name: str | None = None) -> pd.DataFrame:
    """Columns in metadata order, Req/Exp variables added when absent, metadata types applied (numbers as
    float64, text as str with '' for missing); built in one step, so the frame is copied once."""
    meta = metadata.dataset(meta_name or dataset)
    columns: dict[str, np.ndarray] = {}
    n = len(frame)
    for var in meta.variables:
        if var.name in frame.columns:
            values = frame[var.name]
        elif var.core in ("Req", "Exp"):
            columns[var.name] = np.full(n, np.nan) if var.type == "Num" else np.full(n, "", dtype=object)
            continue
        else:
            continue
        if var.type == "Num":
            columns[var.name] = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
        elif values.dtype == object and _is_text(values):
            columns[var.name] = _blank_missing(values.to_numpy())   # text: _text only blanks the missing cells
        elif values.dtype == object:
            columns[var.name] = map_distinct(values, _text)
        else:
            columns[var.name] = values.fillna("").astype(str).to_numpy(dtype=object)
    return frame_of(columns) if columns else pd.DataFrame(index=pd.RangeIndex(n))


def _is_text(values: pd.Series) -> bool:
    """Every cell a str or missing."""
    return pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")


def _blank_missing(values: np.ndarray) -> np.ndarray:
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        return values                                 # no missing cell
    missing = pd.isna(values)
    if not missing.any():
        return values
    values = values.copy()
    values[missing] = ""
    return values


def _text(value: object) -> str:
    """A text cell as finalize writes it (fillna('').astype(str)): missing -> '', anything else str()."""
    if isinstance(value, str):
        return value
    return "" if pd.isna(value) else str(value)


def xpt_variables(frame: pd.DataFrame, metadata: Metadata, meta_name: str) -> list[XptVariable]:
    """XPT attributes from the metadata; a character variable's length is left to the writer, which sizes it
    to the longest value (at least 1) from the distinct values it hashes anyway."""
    meta = metadata.dataset(meta_name)
    return [XptVariable(name, "Num", 8, meta.variable(name).label) if meta.variable(name).type == "Num"
            else XptVariable(name, "Char", None, meta.variable(name).label) for name in frame.columns]


def raw_spec_of(mappings: str | Path | None = None) -> RawSpec:
    """The raw data model a mappings folder maps from (<mappings>/raw/tables.yaml)."""
    return load_raw_spec(mappings_dir(mappings) / "raw" / "tables.yaml")


def run_sdtm(raw_dir: str | Path, out_dir: str | Path | None, study: Study, mappings: str | Path | None = None,
             progress=None, raw: RawData | None = None) -> SdtmResult:
    """Map a raw folder to SDTM with the specs of mappings/sdtm; write the outputs when out_dir is given.
    `raw`: the folder already read and checked with raw_spec_of(mappings) (so it is read once)."""
    say = progress or (lambda _m: None)
    base = mappings_dir(mappings)
    # a study's mappings folder may bring its own metadata and codelists, or use the project's
    metadata = load_metadata(base if (base / "metadata").is_dir() and (base / "codelists.yaml").is_file()
                             else mappings_dir(), study)
    raw_spec = raw.spec if raw is not None else raw_spec_of(mappings)
    specs = load_domain_specs(base / "sdtm", metadata, set(raw_spec.tables))
    if raw is None:
        say("reading and checking raw tables")
        raw = read_and_check_raw(raw_dir, study, raw_spec)
    findings = Findings(list(raw.findings))
    rejected = raw.rejected_rows()
    tables = raw.usable()
    files = {**{name: f"{name}.csv" for name in raw_spec.tables}, **raw.files}
    subject_col, site_col = raw_spec.subject_column, raw_spec.site_column
    subject = tables[raw_spec.subject_table]
    site_values = subject[site_col] if site_col in subject else pd.Series(study.site_ids[0],
                                                                          index=subject.index)
    sites = dict(zip(subject[subject_col], site_values, strict=True))
    ctx = MappingContext(study, metadata, tables, files, sites, subject_col, present=frozenset(raw.files))

    datasets, traces, labels = {}, {}, {}
    for spec in specs:
        if not spec.parameters and not any(ctx.has_table(source.table) for source in spec.sources):
            say(f"skipping {spec.domain}: none of its raw tables ({', '.join(s.table for s in spec.sources)}) is present")
            continue
        say(f"mapping {spec.domain}")
        result = run_domain(spec, ctx)
        if spec.domain in REFERENCED:             # the mapped domains later domains read; the others are released
            ctx.built[spec.domain] = result.data
        findings.extend(result.findings)
        datasets[spec.domain] = finalize(result.data, spec.domain, metadata)
        traces[spec.domain] = _trace(result.data, spec.domain)
        labels[spec.domain] = metadata.dataset(spec.domain).label
        if len(result.supp):
            name = f"SUPP{spec.domain}"
            datasets[name] = finalize(result.supp, name, metadata, "SUPPQUAL")
            traces[name] = result.supp[["USUBJID", "IDVARVAL", "QNAM", *TRACE]]
            labels[name] = f"Supplemental Qualifiers for {spec.domain}"
        del result                                 # the mapped records, before the next domain is mapped
    _end_of_participation(specs, datasets)
    if "DM" in datasets and "SV" in datasets:
        say("building the trial design datasets")
        design, problems = build_trial_design(study, metadata, datasets["DM"], datasets["SV"])
        findings.extend(problems)
        for name, frame in design.items():
            datasets[name] = _drop_empty_permissible(finalize(frame, name, metadata), name, metadata)
            traces[name] = _design_trace(datasets[name], name)
            labels[name] = metadata.dataset(name).label
    reconciliation, unmapped = reconcile(raw.tables, raw.files, traces, rejected)
    lines = raw.accounting()[["table", "lines", "blank_lines", "continuation_lines"]]
    reconciliation = lines.merge(reconciliation, on="table", how="right")[
        ["table", "file", "lines", "blank_lines", "continuation_lines", *reconciliation.columns[2:]]]
    result = SdtmResult(datasets, traces, findings, reconciliation, unmapped, labels)
    if out_dir is not None:
        write_outputs(result, Path(out_dir), metadata)
    return result


def _end_of_participation(specs: list[DomainSpec], datasets: dict[str, pd.DataFrame]) -> None:
    """DM `derive: participation_end: {variable, exclude}` runs once every domain is mapped."""
    dm_spec = next((s for s in specs if s.domain == "DM"), None)
    conf = dm_spec.derive.get("participation_end") if dm_spec is not None else None
    if conf and "DM" in datasets:
        datasets["DM"] = derive_participation_end(datasets["DM"], conf["variable"], datasets,
                                                  tuple(conf.get("exclude", ())))


def _drop_empty_permissible(frame: pd.DataFrame, name: str, metadata: Metadata) -> pd.DataFrame:
    """A permissible variable that is blank on every record is left out (SDTMIG 4.1.2.1)."""
    def blank(values: pd.Series) -> bool:
        return bool(values.isna().all()) or bool((values.astype(str) == "").all())

    perm = {v.name for v in metadata.dataset(name).variables if v.core == "Perm"}
    return frame.drop(columns=[c for c in frame.columns if c in perm and blank(frame[c])])


def _design_trace(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Trial design records come from the study spec (SE from the mapped SDTM): no raw row."""
    keys = [k for k in dict.fromkeys(("USUBJID", f"{name}SEQ", "ARMCD", "TAETORD", "ETCD", "VISITNUM", "IETESTCD",
                                      "TSPARMCD", "TSSEQ")) if k in frame.columns]
    return frame[keys].assign(_SRC_FILE=SPEC_FILE, _SRC_ROW=np.nan)


def _trace(data: pd.DataFrame, domain: str) -> pd.DataFrame:
    keys = [c for c in dict.fromkeys(("USUBJID", f"{domain}SEQ", "TSPARMCD", "TSSEQ")) if c in data.columns]
    return data[[*keys, *TRACE]].copy()


def reconcile(raw_tables: dict[str, pd.DataFrame], files: dict[str, str], traces: dict[str, pd.DataFrame],
              rejected: dict[tuple[str, int], list[str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Account for every raw row: rejected (with reasons), mapped to 1 or more records, or not used."""
    used_rows = _trace_rows([t for name, t in traces.items() if not name.startswith("SUPP")])
    summary, detail = [], []
    for name, frame in raw_tables.items():
        file = files[name]
        rows = frame["_ROW"].astype(int).to_numpy()
        produced = _records_per_row(rows, used_rows.get(file, []))
        bad_rows = {r for f, r in rejected if f == file}
        is_rejected = np.isin(rows, list(bad_rows)) if bad_rows else np.zeros(len(rows), dtype=bool)
        summary.append({"table": name, "file": file, "rows": len(rows), "rejected": int(is_rejected.sum()),
                        "mapped": int(((produced > 0) & ~is_rejected).sum()),
                        "mapped_to_several": int(((produced > 1) & ~is_rejected).sum()),
                        "not_used": int(((produced == 0) & ~is_rejected).sum()),
                        "records": int(produced.sum())})
        for r in rows[is_rejected]:
            detail.append({"file": file, "row": int(r), "status": "rejected", "reason": "; ".join(rejected[(file, int(r))])})
        for r in rows[(produced == 0) & ~is_rejected]:
            detail.append({"file": file, "row": int(r), "status": "not used",
                           "reason": "no domain spec selects this row (all its values blank or filtered)"})
    columns = ["table", "file", "rows", "rejected", "mapped", "mapped_to_several", "not_used", "records"]
    return (pd.DataFrame(summary, columns=columns), pd.DataFrame(detail, columns=["file", "row", "status", "reason"]))


def _trace_rows(traces: list[pd.DataFrame]) -> dict[str, list[np.ndarray]]:
    """raw file -> the raw rows of its records (one entry per record), from the trace columns."""
    out: dict[str, list[np.ndarray]] = {}
    for trace in traces:
        rows = trace["_SRC_ROW"].to_numpy()
        known = ~pd.isna(rows)
        codes, names = pd.factorize(trace["_SRC_FILE"].to_numpy()[known])
        rows = rows[known]
        for k, name in enumerate(names):
            out.setdefault(name, []).append(rows[codes == k].astype(np.int64))
    return out


def _records_per_row(rows: np.ndarray, used: list[np.ndarray]) -> np.ndarray:
    """For each raw row number, the number of records traced to it."""
    used_rows = np.concatenate(used) if used else np.array([], dtype=np.int64)
    size = int(max(rows.max(initial=-1), used_rows.max(initial=-1))) + 1
    valid = used_rows >= 0
    counts = np.bincount(used_rows[valid], minlength=size)
    inside = rows >= 0
    return np.where(inside, counts[np.where(inside, rows, 0)], 0)


def write_dataset_xpt(frame: pd.DataFrame | list[pd.DataFrame], path: Path, name: str, label: str, metadata: Metadata,
                      meta_name: str | None = None, date_format: str = "") -> None:
    """One final dataset, a frame or its parts (frames of the same columns, export.xpt.xpt_parts), as an XPT v5
    file: attributes from the metadata (xpt_variables), each text column hashed once for its lengths and its
    bytes; `date_format` (e.g. DATE9.) on the numeric *DT variables."""
    coded = as_categoricals(frame) if isinstance(frame, pd.DataFrame) else [as_categoricals(part) for part in frame]
    variables = xpt_variables(coded if isinstance(coded, pd.DataFrame) else coded[0], metadata, meta_name or name)
    if date_format:
        variables = [v if not (v.type == "Num" and v.name.endswith("DT")) else
                     XptVariable(v.name, v.type, v.length, v.label, date_format) for v in variables]
    write_xpt(coded, path, name, label, variables)


def write_outputs(result: SdtmResult, out: Path, metadata: Metadata) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in result.datasets.items():
        meta_name = "SUPPQUAL" if name.startswith("SUPP") else name
        write_dataset_xpt(frame, safe_child(out, f"{name.lower()}.xpt"), name, result.labels[name], metadata,
                          meta_name)
        write_csv(result.traces[name], safe_child(out, f"trace/{name.lower()}.csv"))
    write_csv(result.reconciliation, safe_child(out, "reconciliation.csv"))
    write_csv(result.unmapped_rows, safe_child(out, "reconciliation_rows.csv"))
    result.findings.write_csv(safe_child(out, "sdtm_findings.csv"))


def finding_count(result: SdtmResult) -> tuple[int, int]:
    errors = sum(1 for f in result.findings if f.severity == ERROR)
    return errors, len(result.findings) - errors


__all__ = ["Finding", "SdtmResult", "finalize", "finding_count", "reconcile", "run_sdtm", "write_dataset_xpt",
           "write_outputs"]
