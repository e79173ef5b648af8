"""Validation report in Pinnacle 21's layout: Configuration, Dataset Summary, Issue Summary, Details, Rules.

XLSX (header row frozen, filters on every sheet) and HTML. The Details sheet holds the first
findings of each rule per dataset (the cap is in the Configuration sheet) with a note where more
were found; every finding is in validation_details.csv beside the report.
"""

from __future__ import annotations

import html
import io
from pathlib import Path

import pandas as pd

from cdisc_als.io import atomic_write_bytes, atomic_write_text
from cdisc_als.reproducible import fixed_zip, stamp_workbook
from cdisc_als.validate.datasets import FILE_RULES
from cdisc_als.validate.engine import DETAILS_CSV, RULE_FAILED, ValidationResult
from cdisc_als.validate.rules import RULES
from cdisc_als.validate.rules.define import DEFINE_UNREADABLE

DETAIL_HEADERS = {"dataset": "Dataset", "record": "Record", "variables": "Variables", "values": "Values",
                  "rule": "Rule ID", "p21": "Pinnacle 21 ID", "message": "Message", "category": "Category",
                  "severity": "Severity", "file": "Source"}


def configuration(result: ValidationResult) -> pd.DataFrame:
    return pd.DataFrame({"Item": list(result.config), "Value": list(result.config.values())})


def dataset_summary(result: ValidationResult) -> pd.DataFrame:
    counts = result.counts.groupby(["dataset", "severity"])["found"].sum() if len(result.counts) else pd.Series()
    rows = []
    for ds in result.datasets:
        rows.append({"Dataset": ds.name, "Label": ds.label, "Standard": ds.standard, "Source": ds.file,
                     "Records": ds.records, "Errors": int(counts.get((ds.name, "error"), 0)),
                     "Warnings": int(counts.get((ds.name, "warning"), 0)),
                     "Notices": int(counts.get((ds.name, "notice"), 0))})
    return pd.DataFrame(rows, columns=["Dataset", "Label", "Standard", "Source", "Records", "Errors", "Warnings",
                                       "Notices"])


def rules_table() -> pd.DataFrame:
    extra = [(rid, sev, "ALL", cat, msg, "SD0062" if rid == "ALS0013" else "") for rid, (sev, cat, msg) in
             FILE_RULES.items()]
    extra += [(r.id, r.severity, r.standard, r.category, r.message, r.p21_text) for r in (DEFINE_UNREADABLE, RULE_FAILED)]
    rows = [(r.id, r.severity, r.standard, r.category, r.message, r.p21_text) for r in RULES] + extra
    table = pd.DataFrame(rows, columns=["Rule ID", "Severity", "Standard", "Category", "Message", "Pinnacle 21 ID"])
    return table.sort_values("Rule ID", kind="stable")[["Rule ID", "Pinnacle 21 ID", "Standard", "Category",
                                                         "Severity", "Message"]]


def details(result: ValidationResult) -> pd.DataFrame:
    """The capped details, with a note row after each rule whose findings were cut."""
    frame = result.details
    notes = []
    for row in result.counts.itertuples(index=False):
        kept = int(((frame["dataset"] == row.dataset) & (frame["rule"] == row.rule)).sum()) if len(frame) else 0
        total = int(result.counts[(result.counts["dataset"] == row.dataset) &
                                  (result.counts["rule"] == row.rule)]["found"].sum())
        if total > kept:
            notes.append({"dataset": row.dataset, "file": row.file, "record": pd.NA, "variables": "",
                          "values": f"{total - kept} more findings of this rule in {DETAILS_CSV}",
                          "rule": row.rule, "p21": row.p21, "message": row.message, "category": row.category,
                          "severity": row.severity})
    if notes:
        extra = pd.DataFrame(notes).drop_duplicates(["dataset", "rule"]).astype(object)
        frame = pd.concat([frame.astype(object), extra], ignore_index=True)
    frame = frame.sort_values(["dataset", "rule"], kind="stable")
    return frame[list(DETAIL_HEADERS)].rename(columns=DETAIL_HEADERS)


def sheets(result: ValidationResult) -> dict[str, pd.DataFrame]:
    issues = result.issue_summary().rename(columns={"dataset": "Source", "rule": "Rule ID", "p21": "Pinnacle 21 ID",
                                                    "message": "Message", "severity": "Severity", "found": "Found"})
    return {"Configuration": configuration(result), "Dataset Summary": dataset_summary(result),
            "Issue Summary": issues, "Details": details(result), "Rules": rules_table()}


def write_xlsx(result: ValidationResult, path: str | Path) -> None:
    """The workbook (header frozen, filters on) and validation_details.csv beside it."""
    path = Path(path)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets(result).items():
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            sheet.freeze_panes = "A2"
            sheet.auto_filter.ref = sheet.dimensions
            for column in sheet.columns:
                width = max((len(str(c.value)) for c in column[:200] if c.value is not None), default=8)
                sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 8), 80)
        stamp_workbook(writer.book)
    atomic_write_bytes(path, fixed_zip(buffer.getvalue()))
    result.save_details(path.parent / DETAILS_CSV)


def _html_table(frame: pd.DataFrame, limit: int = 2000) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if pd.isna(v) else str(v))}</td>" for v in row) + "</tr>"
                   for row in frame.head(limit).itertuples(index=False))
    more = f"<p>{len(frame) - limit} more rows in validation.xlsx</p>" if len(frame) > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def write_html(result: ValidationResult, path: str | Path) -> None:
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>Validation report</title>",
             "<style>body{font-family:sans-serif}table{border-collapse:collapse;margin-bottom:2em}"
             "td,th{border:1px solid #bbb;padding:2px 6px;font-size:12px}th{background:#eee}</style></head><body>",
             f"<h1>Validation report</h1><p>{html.escape(result.summary())}</p>"]
    for name, frame in sheets(result).items():
        if name == "Rules":
            continue
        parts.append(f"<h2>{html.escape(name)}</h2>{_html_table(frame)}")
    parts.append("</body></html>")
    atomic_write_text(path, "\n".join(parts))


def write_reports(result: ValidationResult, folder: str | Path) -> tuple[Path, Path]:
    """validation.xlsx and validation.html of the result in folder (created when absent)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    xlsx, html = folder / "validation.xlsx", folder / "validation.html"
    write_xlsx(result, xlsx)
    write_html(result, html)
    return xlsx, html
