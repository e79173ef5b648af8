"""Validation report like Pinnacle 21's: Dataset Summary, Issue Summary, Details (and Rules), XLSX and HTML."""

from __future__ import annotations

import html
import io
from pathlib import Path

import pandas as pd

from cdisc_als.io import atomic_write_bytes, atomic_write_text, protect_formulas
from cdisc_als.validate.engine import ValidationResult
from cdisc_als.validate.rules import RULES


def dataset_summary(result: ValidationResult) -> pd.DataFrame:
    rows = []
    counts = result.findings.groupby(["dataset", "severity"]).size() if len(result.findings) else pd.Series(dtype=int)
    for ds in result.datasets:
        rows.append({"Dataset": ds.name, "Label": ds.label, "Standard": ds.standard, "Source": ds.file,
                     "Records": len(ds.frame), "Errors": int(counts.get((ds.name, "error"), 0)),
                     "Warnings": int(counts.get((ds.name, "warning"), 0)),
                     "Notices": int(counts.get((ds.name, "notice"), 0))})
    return pd.DataFrame(rows)


def rules_table() -> pd.DataFrame:
    return pd.DataFrame([{"Rule ID": r.id, "Pinnacle 21 ID": r.p21, "Standard": r.standard, "Category": r.category,
                          "Severity": r.severity, "Message": r.message} for r in RULES])


def sheets(result: ValidationResult) -> dict[str, pd.DataFrame]:
    issues = result.issue_summary().rename(columns={"dataset": "Source", "rule": "Rule ID", "p21": "Pinnacle 21 ID",
                                                    "message": "Message", "severity": "Severity", "found": "Found"})
    details = result.findings.rename(columns=str.capitalize)
    return {"Dataset Summary": dataset_summary(result), "Issue Summary": issues, "Details": details,
            "Rules": rules_table()}


def write_xlsx(result: ValidationResult, path: str | Path) -> None:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets(result).items():
            frame.head(1_048_575).to_excel(writer, sheet_name=name, index=False)
        protect_formulas(writer.book)
    atomic_write_bytes(path, buffer.getvalue())


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
