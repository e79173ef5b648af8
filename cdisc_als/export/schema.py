"""Validation of define.xml against the CDISC Define-XML 2.1 XML schema (with the ARM 1.0 extension when
the file carries Analysis Results Metadata).

The schemas are package data (cdisc_als/export/schemas: CDISC's Define-XML 2.1 and ODM 1.3.2 schemas,
and the ARM 1.0 schema paired with Define-XML 2.1 as distributed by the odmlib project, MIT); they are
read with xmlschema and never fetched from the network.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

SCHEMAS = Path(__file__).resolve().parent / "schemas"
DEFINE_21 = SCHEMAS / "define" / "2.1" / "define2-1-0.xsd"
DEFINE_21_ARM = SCHEMAS / "arm" / "1.0-define2.1" / "arm1-0-0.xsd"
ARM_NAMESPACE = "http://www.cdisc.org/ns/arm/v1.0"


class DefineSchemaError(ValueError):
    """define.xml breaks the Define-XML 2.1 schema; `problems` lists every violation."""

    def __init__(self, path: Path, problems: list[str]):
        self.path, self.problems = path, problems
        shown = "\n  ".join(problems[:20]) + (f"\n  ... {len(problems) - 20} more" if len(problems) > 20 else "")
        super().__init__(f"{path}: {len(problems)} Define-XML 2.1 schema violation(s):\n  {shown}")


@cache
def cached_schema(path: Path):
    """The xmlschema schema of an XSD file, read once per process."""
    import xmlschema

    return xmlschema.XMLSchema(str(path))


def schema_for(path: str | Path) -> Path:
    """The Define-XML 2.1 schema a define.xml is checked against: with the ARM 1.0 extension when the file
    carries Analysis Results Metadata."""
    return DEFINE_21_ARM if ARM_NAMESPACE in Path(path).read_text(encoding="utf-8") else DEFINE_21


def define_schema_problems(path: str | Path) -> list[str]:
    """Every schema violation of a define.xml file (empty when it is valid)."""
    path = Path(path)
    schema = cached_schema(schema_for(path))
    return [f"{error.path or '/'}: {error.reason}" for error in schema.iter_errors(str(path))]


def validate_define(path: str | Path) -> None:
    """Raise DefineSchemaError when the file breaks the schema."""
    problems = define_schema_problems(path)
    if problems:
        raise DefineSchemaError(Path(path), problems)
