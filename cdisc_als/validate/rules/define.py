"""define.xml checks: its schema, and datasets, variables, types, lengths, labels and codelists against the data."""

from __future__ import annotations

from cdisc_als.validate.rules.registry import Rule, _text, dataset_hit, dataset_hits, hits, none, rule

DEFINE_UNREADABLE = Rule("ALS0401", "error", "ALL", "Metadata", "define.xml cannot be read (not well-formed XML "
                         "or not Define-XML)", "", None, "file")


@rule("ALS0402", "error", "ALL", "Metadata", "define.xml does not conform to the Define-XML schema", scope="study")
def define_schema(ds, ctx):
    if ctx.define is None or not ctx.define.schema_errors:
        return none()
    return [dataset_hit("", error, dataset="GLOBAL") for error in ctx.define.schema_errors]


@rule("ALS0403", "error", "ALL", "Metadata", "Dataset is not present in define.xml", "SD1063")
def dataset_in_define(ds, ctx):
    if ctx.define is None or ctx.define.dataset(ds.name) is not None:
        return none()
    return dataset_hit("", ds.name)


@rule("ALS0404", "warning", "ALL", "Metadata", "Domain referenced in define.xml but dataset is missing", "SD0061",
      scope="study")
def define_dataset_missing(ds, ctx):
    if ctx.define is None:
        return none()
    return [dataset_hit("", f"{d.href or name} (define.xml)", dataset=name)
            for name, d in sorted(ctx.define.datasets.items()) if name not in ctx.datasets]


def _declared(ds, ctx):
    return ctx.define.dataset(ds.name) if ctx.define is not None else None


@rule("ALS0405", "error", "ALL", "Metadata", "Variable in dataset is not present in define.xml", "SD0060")
def variable_in_define(ds, ctx):
    declared = _declared(ds, ctx)
    if declared is None:
        return none()
    return dataset_hits([(c, c) for c in ds.frame.columns if c not in declared.variables])


@rule("ALS0406", "warning", "ALL", "Metadata", "Variable in define.xml is not present in the dataset", "SD0054")
def define_variable_missing(ds, ctx):
    declared = _declared(ds, ctx)
    if declared is None:
        return none()
    return dataset_hits([(v, v) for v in declared.variables if v not in ds.frame.columns])


@rule("ALS0407", "error", "ALL", "Metadata", "Define.xml/dataset variable type mismatch", "SD0059")
def define_type(ds, ctx):
    declared = _declared(ds, ctx)
    if declared is None:
        return none()
    return dataset_hits([(v.name, f"define.xml {v.data_type}, dataset {ds.types[v.name]}")
                         for v in declared.variables.values() if v.name in ds.types and v.type != ds.types[v.name]])


@rule("ALS0408", "warning", "ALL", "Metadata", "Define.xml/dataset variable length mismatch (character variables)")
def define_length(ds, ctx):
    declared = _declared(ds, ctx)
    if declared is None:
        return none()
    return dataset_hits([(v.name, f"define.xml {v.length}, dataset {ds.lengths[v.name]}")
                         for v in declared.variables.values()
                         if v.type == "Char" and v.length and ds.types.get(v.name) == "Char"
                         and ds.lengths.get(v.name) and ds.lengths[v.name] != v.length])


@rule("ALS0409", "warning", "ALL", "Metadata", "Define.xml/dataset variable label mismatch", {"ADAM": "SD1324"})
def define_label(ds, ctx):
    declared = _declared(ds, ctx)
    if declared is None:
        return none()
    return dataset_hits([(v.name, f"define.xml '{v.label}', dataset '{ds.labels.get(v.name, '')}'")
                         for v in declared.variables.values()
                         if v.name in ds.labels and v.label and ds.labels[v.name] and ds.labels[v.name] != v.label])


@rule("ALS0410", "warning", "ALL", "Metadata", "Define.xml/dataset description mismatch", {"ADAM": "SD1325"})
def define_description(ds, ctx):
    declared = _declared(ds, ctx)
    if declared is None or not ds.label or not declared.label or declared.label == ds.label:
        return none()
    return dataset_hit("", f"define.xml '{declared.label}', dataset '{ds.label}'")


@rule("ALS0411", "error", "ALL", "Terminology", "Value for variable not found in user-defined codelist (define.xml)",
      "SD0037")
def define_codelist(ds, ctx):
    declared = _declared(ds, ctx)
    if declared is None:
        return none()
    out = []
    for v in declared.variables.values():
        codelist = ctx.define.codelists.get(v.codelist or "")
        if codelist is None or codelist.external or not codelist.values or v.name not in ds.frame:
            continue
        if ds.types.get(v.name) == "Num":
            allowed = set()
            for value in codelist.values:
                try:
                    allowed.add(round(float(value), 9))
                except ValueError:
                    pass
            values = ds.frame[v.name].round(9)
            out.append(hits(ds.frame, values.notna() & ~values.isin(allowed), v.name))
        else:
            text = _text(ds, v.name)
            out.append(hits(ds.frame, (text != "") & ~text.isin(codelist.values), v.name))
    return out


@rule("ALS0412", "warning", "ALL", "Metadata", "Key variables of define.xml do not identify records uniquely")
def define_keys_unique(ds, ctx):
    declared = _declared(ds, ctx)
    keys = [k for k in declared.keys if k in ds.frame.columns] if declared is not None else []
    if not keys:
        return none()
    duplicated = ds.duplicated(keys)
    if not duplicated.any():
        return none()
    first = int(duplicated.argmax()) + 1
    return dataset_hit(", ".join(keys), f"{int(duplicated.sum())} records repeat a key value (first: record {first})")
