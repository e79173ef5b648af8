"""define.xml (Define-XML 2.0 or 2.1) as the validator needs it: datasets, variables, keys, codelists.

The file is parsed with the standard library (expat: no external entities, entity expansion
bounded). Its schema is checked when the Define-XML schema of its version is available (2.1: the XSDs
shipped with cdisc_als; 2.0: those of the odmlib package when installed; read with xmlschema); otherwise
the report's Configuration sheet says that the schema was not checked and why.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ODM = "http://www.cdisc.org/ns/odm/v1.3"
DEF = {"2.0": "http://www.cdisc.org/ns/def/v2.0", "2.1": "http://www.cdisc.org/ns/def/v2.1"}
XLINK = "http://www.w3.org/1999/xlink"
NUMERIC_TYPES = ("integer", "float")


@dataclass(frozen=True)
class DefineVariable:
    name: str
    label: str
    data_type: str
    length: int | None
    mandatory: bool
    key_sequence: int | None
    codelist: str | None

    @property
    def type(self) -> str:
        return "Num" if self.data_type in NUMERIC_TYPES else "Char"


@dataclass(frozen=True)
class DefineCodelist:
    oid: str
    name: str
    values: frozenset[str]
    external: bool          # a dictionary (MedDRA, WHODrug...): values are not listed
    c_code: str


@dataclass
class DefineDataset:
    name: str
    domain: str
    label: str
    cls: str
    href: str
    variables: dict[str, DefineVariable] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        keyed = [v for v in self.variables.values() if v.key_sequence is not None]
        return [v.name for v in sorted(keyed, key=lambda v: v.key_sequence)]


@dataclass
class DefineXml:
    path: Path
    version: str                    # "2.0" or "2.1"
    standard: str
    datasets: dict[str, DefineDataset]
    codelists: dict[str, DefineCodelist]
    schema_errors: list[str] = field(default_factory=list)
    schema_note: str = ""

    def dataset(self, name: str) -> DefineDataset | None:
        return self.datasets.get(name.upper())

    def dataset_class(self, name: str) -> str:
        ds = self.dataset(name)
        return ds.cls.upper() if ds else ""


class DefineError(ValueError):
    """define.xml is not well-formed XML or not ODM; the message gives line and column."""


def _text(element: ET.Element | None) -> str:
    if element is None:
        return ""
    node = element.find(f"{{{ODM}}}TranslatedText")
    return (node.text or "").strip() if node is not None else ""


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def read_define(path: str | Path, check_schema: bool = True) -> DefineXml:
    """Parse define.xml; DefineError when it is not well-formed or not an ODM define."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        line, column = exc.position
        raise DefineError(f"{path.name} is not well-formed XML (line {line}, column {column}): {exc.msg}") from exc
    mdv = root.find(f"{{{ODM}}}Study/{{{ODM}}}MetaDataVersion")
    if mdv is None:
        raise DefineError(f"{path.name} is not a Define-XML file: no ODM Study/MetaDataVersion")
    version = next((v for v, ns in DEF.items() if mdv.get(f"{{{ns}}}DefineVersion")), "")
    if not version:
        raise DefineError(f"{path.name}: MetaDataVersion has no def:DefineVersion (neither 2.0 nor 2.1)")
    ns = DEF[version]
    standard = " ".join(filter(None, (mdv.get(f"{{{ns}}}StandardName"), mdv.get(f"{{{ns}}}StandardVersion"))))
    if not standard:
        names = [f"{s.get('Name', '')} {s.get('Version', '')}".strip()
                 for s in mdv.iter(f"{{{ns}}}Standard") if s.get("Type") == "IG"]
        standard = ", ".join(names)
    codelists = {}
    for cl in mdv.findall(f"{{{ODM}}}CodeList"):
        values = [i.get("CodedValue", "") for i in cl if i.tag in (f"{{{ODM}}}CodeListItem", f"{{{ODM}}}EnumeratedItem")]
        alias = cl.find(f"{{{ODM}}}Alias")
        codelists[cl.get("OID", "")] = DefineCodelist(
            cl.get("OID", ""), cl.get("Name", ""), frozenset(values), cl.find(f"{{{ODM}}}ExternalCodeList") is not None,
            alias.get("Name", "") if alias is not None else "")
    items = {}
    for item in mdv.findall(f"{{{ODM}}}ItemDef"):
        ref = item.find(f"{{{ODM}}}CodeListRef")
        items[item.get("OID", "")] = (item.get("Name", ""), _text(item.find(f"{{{ODM}}}Description")),
                                      item.get("DataType", ""), _int(item.get("Length")),
                                      ref.get("CodeListOID") if ref is not None else None)
    datasets = {}
    for group in mdv.findall(f"{{{ODM}}}ItemGroupDef"):
        name = (group.get("SASDatasetName") or group.get("Name", "")).upper()
        cls = group.get(f"{{{ns}}}Class") or ""
        if not cls:
            node = group.find(f"{{{ns}}}Class")
            cls = node.get("Name", "") if node is not None else ""
        leaf = group.find(f"{{{ns}}}leaf")
        ds = DefineDataset(name, group.get("Domain", "") or name, _text(group.find(f"{{{ODM}}}Description")), cls,
                           leaf.get(f"{{{XLINK}}}href", "") if leaf is not None else "")
        for ref in group.findall(f"{{{ODM}}}ItemRef"):
            item = items.get(ref.get("ItemOID", ""))
            if item is None:
                continue
            var_name, label, data_type, length, codelist = item
            ds.variables[var_name] = DefineVariable(var_name, label, data_type, length, ref.get("Mandatory") == "Yes",
                                                    _int(ref.get("KeySequence")), codelist)
        datasets[name] = ds
    define = DefineXml(path, version, standard, datasets, codelists)
    if check_schema:
        define.schema_errors, define.schema_note = schema_errors(path, version)
    return define


def _schema_file(version: str, path: Path) -> Path | None:
    """Define-XML 2.1: the schema shipped with cdisc_als (cdisc_als/export/schemas), with the ARM 1.0
    extension when the file carries Analysis Results Metadata, as export checks it; other versions: the
    odmlib package's copy when it is installed."""
    if version == "2.1":
        from cdisc_als.export.schema import schema_for

        return schema_for(path)
    try:
        import odmlib
    except ImportError:
        return None
    folder = Path(odmlib.__file__).parent / "schemas" / "define" / version
    candidates = sorted(folder.glob("define2-*.xsd"))
    return candidates[0] if candidates else None


def schema_errors(path: Path, version: str, limit: int = 50) -> tuple[list[str], str]:
    """Schema problems of define.xml (up to limit), and a note saying which schema was used or why none."""
    schema_path = _schema_file(version, path)
    try:
        from cdisc_als.export.schema import cached_schema
        schema = cached_schema(schema_path) if schema_path is not None else None
    except ImportError:
        schema = None
    if schema is None:
        return [], (f"Define-XML {version} schema not checked: the schema files come with the odmlib and "
                    "xmlschema packages (pip install odmlib xmlschema)")
    errors = []
    for error in schema.iter_errors(str(path)):
        where = f"line {error.sourceline}: " if getattr(error, "sourceline", None) else ""
        errors.append(f"{where}{error.reason or error.message}"[:500])
        if len(errors) >= limit:
            break
    origin = "cdisc_als" if version == "2.1" else f"odmlib {_version('odmlib')}"
    return errors, f"Define-XML {version} schema {schema_path.name} ({origin})"


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"
