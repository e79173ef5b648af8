"""pandera schemas generated from the metadata layer (no schema is written by hand per dataset).

For each variable: the type (Char -> str, Num -> float), Req -> not null (and not blank), values
of a non-extensible codelist, character length <= the metadata length; for the dataset: its key
variables identify records uniquely.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from cdisc_als.metadata import Metadata, default_metadata


def schema_for(dataset: str, metadata: Metadata | None = None) -> pa.DataFrameSchema:
    metadata = metadata or default_metadata()
    meta = metadata.dataset("SUPPQUAL" if dataset.upper().startswith("SUPP") else dataset)
    columns = {}
    for var in meta.variables:
        checks = []
        if var.type == "Char":
            checks.append(pa.Check(lambda s, n=var.length: s.fillna("").astype(str).str.len() <= n,
                                   name=f"length<={var.length}"))
            if var.core == "Req":
                checks.append(pa.Check(lambda s: s.fillna("").astype(str).str.strip() != "", name="required"))
            if var.codelist and var.codelist in metadata.codelists:
                codelist = metadata.codelist(var.codelist)
                if not codelist.extensible:
                    allowed = set(codelist.values) | {""}
                    checks.append(pa.Check(lambda s, a=allowed: s.fillna("").isin(a), name=f"codelist {codelist.id}"))
        columns[var.name] = pa.Column(str if var.type == "Char" else float, checks=checks, required=var.core == "Req",
                                      nullable=var.core != "Req" or var.type == "Char", coerce=var.type == "Num")
    keys = [k for k in meta.keys]
    return pa.DataFrameSchema(columns, strict=False, unique=keys or None, name=meta.name, report_duplicates="all")


def validate_frame(frame: pd.DataFrame, dataset: str, metadata: Metadata | None = None) -> pd.DataFrame:
    """Failure cases of the dataset's schema (empty when the frame conforms); all failures, lazily."""
    try:
        schema_for(dataset, metadata).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return exc.failure_cases
    return pd.DataFrame(columns=["schema_context", "column", "check", "check_number", "failure_case", "index"])
