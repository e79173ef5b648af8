"""The raw data model (mappings/raw/tables.yaml): tables, columns, types and allowed values."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cdisc_als.io import read_yaml
from cdisc_als.resources import mappings_dir

COLUMN_TYPES = ("text", "integer", "decimal", "date", "partial_date", "visit", "arm")


class RawSpecError(ValueError):
    """tables.yaml is malformed."""


@dataclass(frozen=True)
class RawColumn:
    name: str
    type: str
    required: bool = False
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    decimals: int | None = None
    pattern: str | None = None
    description: str = ""


@dataclass(frozen=True)
class RawTable:
    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[RawColumn, ...]

    def column(self, name: str) -> RawColumn:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class RawSpec:
    tables: dict[str, RawTable]
    subject_table: str
    subject_column: str
    source: Path
    site_column: str = "SITEID"
    timeline: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def key_columns(self, table: str) -> tuple[str, ...]:
        """Columns whose bad value makes a row unusable: the table's key, and for the subject table
        also the site column (it builds USUBJID)."""
        key = self.tables[table].key
        if table == self.subject_table and self.site_column in self.tables[table].column_names:
            key = (*key, self.site_column)
        return key


TIMELINE_KEYS = ("consent", "death", "after_consent", "before_death")


def _timeline(doc: dict, tables: dict[str, RawTable], where: str) -> dict[str, tuple[str, ...]]:
    """tables.yaml `timeline`: each key a 'table.COLUMN' date or a list of them."""
    node = doc.get("timeline") or {}
    if not isinstance(node, dict):
        raise RawSpecError(f"{where}: timeline must be a mapping")
    out = {}
    for key, value in node.items():
        if key not in TIMELINE_KEYS:
            raise RawSpecError(f"{where}: timeline.{key} is not one of {TIMELINE_KEYS}")
        sources = (value,) if isinstance(value, str) else tuple(value or ())
        for source in sources:
            table, _, column = str(source).partition(".")
            if table not in tables or column not in tables[table].column_names:
                raise RawSpecError(f"{where}: timeline.{key}: '{source}' is not a table.COLUMN of the data model")
            if tables[table].column(column).type not in ("date", "partial_date"):
                raise RawSpecError(f"{where}: timeline.{key}: '{source}' is not a date column")
        out[key] = tuple(str(s) for s in sources)
    return out


def load_raw_spec(path: str | Path | None = None) -> RawSpec:
    """Read and check the raw data model."""
    path = Path(path) if path else mappings_dir() / "raw" / "tables.yaml"
    try:
        doc = read_yaml(path)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RawSpecError(f"{path}: cannot be read as YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("tables"), dict):
        raise RawSpecError(f"{path}: expected a 'tables' mapping")
    tables = {}
    for name, node in doc["tables"].items():
        where = f"{path}: tables.{name}"
        if not isinstance(node, dict) or not isinstance(node.get("columns"), list):
            raise RawSpecError(f"{where}: expected 'columns' list")
        columns = []
        for i, col in enumerate(node["columns"]):
            if not isinstance(col, dict) or "name" not in col or "type" not in col:
                raise RawSpecError(f"{where}.columns[{i}]: needs 'name' and 'type'")
            if col["type"] not in COLUMN_TYPES:
                raise RawSpecError(f"{where}.columns[{i}]: type {col['type']!r} is not one of {COLUMN_TYPES}")
            unknown = set(col) - {"name", "type", "required", "allowed", "min", "max", "decimals", "pattern",
                                  "description"}
            if unknown:
                raise RawSpecError(f"{where}.columns[{i}]: unknown keys {sorted(unknown)}")
            allowed = col.get("allowed")
            columns.append(RawColumn(
                name=str(col["name"]), type=col["type"], required=bool(col.get("required", False)),
                allowed=tuple(str(a) for a in allowed) if allowed else None,
                min=col.get("min"), max=col.get("max"), decimals=col.get("decimals"), pattern=col.get("pattern"),
                description=str(col.get("description", "")),
            ))
        names = [c.name for c in columns]
        if len(set(names)) != len(names):
            raise RawSpecError(f"{where}: duplicate column names")
        key = tuple(node.get("key", ()))
        if not set(key) <= set(names):
            raise RawSpecError(f"{where}: key {list(key)} names columns that are not defined")
        tables[name] = RawTable(name, str(node.get("description", "")), key, tuple(columns))
    subject_table = doc.get("subject_table", "demog")
    if subject_table not in tables:
        raise RawSpecError(f"{path}: subject_table {subject_table!r} is not a table")
    return RawSpec(tables, subject_table, doc.get("subject_column", "SUBJID"), path, doc.get("site_column", "SITEID"),
                   _timeline(doc, tables, str(path)))
