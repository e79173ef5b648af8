"""Trial design datasets (TA, TE, TV, TI, TS) and SE: presence, their own structure, and the subject
data against them. The Trial Summary parameters expected by FDA's Technical Conformance Guide and the
SDTMIG come from metadata/ts_parameters.csv (condition, value format, single record, dictionary)."""

from __future__ import annotations

import pandas as pd

from cdisc_als.validate.rules.registry import (
    ISO8601,
    ISO_DURATION,
    _prefix,
    _text,
    dataset_hit,
    hits,
    none,
    rule,
)

NOT_ASSIGNED = ("SCRNFAIL", "NOTASSGN")
NOT_TREATED = (*NOT_ASSIGNED, "NOTTRT", "UNPLAN")
CDISC_CT_REFS = ("CDISC", "CDISC CT")
DICTIONARY_REFS = ("CDISC", "CDISC CT", "SNOMED", "UNII", "NDF-RT", "MED-RT", "MEDDRA", "ISO 3166", "MESH")


def _is_sdtm_study(ctx) -> bool:
    return ctx.has_domain("DM") and ctx.datasets.get("DM") is not None and ctx.datasets["DM"].standard == "SDTM"


def _missing_dataset(ctx, name: str, p21: str = ""):
    if not _is_sdtm_study(ctx) or ctx.has_domain(name):
        return none()
    return dataset_hit("", f"{name.lower()}.xpt not in the folder", dataset=name, p21=p21)


@rule("ALS0301", "warning", "SDTM", "Presence", "Missing trial design or subject elements dataset (TA SD1112, "
      "TE SD1113, TS SD1115 (error), SE SD1111; TV, TI)", "SD1111, SD1112, SD1113, SD1115", scope="study")
def trial_design_present(ds, ctx):
    found = [_missing_dataset(ctx, name, p21) for name, p21 in
             (("TA", "SD1112"), ("TE", "SD1113"), ("TV", ""), ("TI", ""), ("SE", "SD1111"))]
    ts = _missing_dataset(ctx, "TS", "SD1115")
    if ts is not None:
        ts.severity = "error"
    return [*found, ts]


def _ts(ctx) -> pd.DataFrame | None:
    ts = ctx.frame("TS")
    return ts if ts is not None and {"TSPARMCD", "TSVAL"} <= set(ts) else None


def _holds(ts: pd.DataFrame, condition) -> bool:
    for code, values in condition:
        present = ts.loc[ts["TSPARMCD"] == code, "TSVAL"].astype(str).str.upper()
        if not present.isin([v.upper() for v in values]).any():
            return False
    return True


@rule("ALS0302", "error", "SDTM", "Presence", "Missing required Trial Summary parameter",
      "SD2201-SD2235, SD1226", scope="study")
def ts_required(ds, ctx):
    ts = _ts(ctx)
    if ts is None:
        return none()
    present = set(ts["TSPARMCD"])
    return [dataset_hit("TSPARMCD", p.code, dataset="TS", p21=p.missing_p21, severity=p.severity,
                        message=f"Missing {p.code} Trial Summary Parameter")
            for p in ctx.reference.ts_parameters
            if not p.optional and p.code not in present and _holds(ts, p.when)]


def _format_ok(values: pd.Series, kind: str) -> pd.Series:
    if kind == "date":
        return values.str.fullmatch(ISO8601.pattern).astype(bool) & (values != "")
    if kind == "duration":
        return values.str.fullmatch(ISO_DURATION.pattern).astype(bool) | (values == "")
    return pd.to_numeric(values, errors="coerce").notna()


@rule("ALS0303", "error", "SDTM", "Format", "Invalid TSVAL value for the parameter (ISO 8601 date or duration, or "
      "number)", "SD1215, SD1217, SD1219, SD1221, SD2245-SD2249")
def ts_value_format(ds, ctx):
    if ds.name != "TS" or _ts(ctx) is None:
        return none()
    out = []
    for p in ctx.reference.ts_parameters:
        if p.value_format:
            rows = ds.frame["TSPARMCD"] == p.code
            values = _text(ds, "TSVAL")
            hit = hits(ds.frame, rows & ~_format_ok(values, p.value_format), ["TSPARMCD", "TSVAL"])
            if hit is not None:
                hit.p21, hit.message = p.format_p21, f"Invalid TSVAL value for {p.code}"
            out.append(hit)
    return out


@rule("ALS0304", "error", "SDTM", "Consistency", "Multiple records for a single-valued Trial Summary parameter",
      "SD1214-SD1227")
def ts_single(ds, ctx):
    if ds.name != "TS" or _ts(ctx) is None:
        return none()
    out = []
    for p in ctx.reference.ts_parameters:
        if p.single_p21:
            rows = ds.frame["TSPARMCD"] == p.code
            hit = hits(ds.frame, rows & ds.frame["TSPARMCD"].duplicated(), ["TSPARMCD", "TSSEQ"])
            if hit is not None:
                hit.p21, hit.message = p.single_p21, f"Multiple {p.code} records"
            out.append(hit)
    return out


@rule("ALS0305", "error", "SDTM", "Consistency", "Invalid TSVCDREF value for the parameter's dictionary",
      "SD2240-SD2244, SD2256")
def ts_dictionary(ds, ctx):
    if ds.name != "TS" or "TSVCDREF" not in ds.frame:
        return none()
    out = []
    for p in ctx.reference.ts_parameters:
        if p.vcdref:
            rows = (ds.frame["TSPARMCD"] == p.code) & (_text(ds, "TSVAL") != "")
            hit = hits(ds.frame, rows & ~_text(ds, "TSVCDREF").isin(p.vcdref), ["TSPARMCD", "TSVCDREF"])
            if hit is not None:
                hit.p21, hit.message = p.vcdref_p21, f"Invalid TSVCDREF value for {p.code}"
            out.append(hit)
    return out


@rule("ALS0306", "warning", "SDTM", "Presence", "TSVCDVER is null although TSVCDREF names CDISC controlled terminology")
def ts_ct_version(ds, ctx):
    if ds.name != "TS" or "TSVCDREF" not in ds.frame:
        return none()
    return hits(ds.frame, _text(ds, "TSVCDREF").isin(CDISC_CT_REFS) & (_text(ds, "TSVCDVER") == ""),
                ["TSPARMCD", "TSVCDREF", "TSVCDVER"])


@rule("ALS0307", "warning", "SDTM", "Presence", "TSVALCD is null although TSVCDREF names a coding dictionary")
def ts_code_missing(ds, ctx):
    if ds.name != "TS" or "TSVCDREF" not in ds.frame:
        return none()
    coded = _text(ds, "TSVCDREF").str.upper().isin(DICTIONARY_REFS) & (_text(ds, "TSVAL") != "")
    return hits(ds.frame, coded & (_text(ds, "TSVALCD") == ""), ["TSPARMCD", "TSVCDREF", "TSVALCD"])


@rule("ALS0308", "error", "SDTM", "Consistency", "Non-unique value for TSSEQ variable within TSPARMCD", "SD1038")
def tsseq_unique(ds, ctx):
    if ds.name != "TS" or not {"TSPARMCD", "TSSEQ"} <= set(ds.frame):
        return none()
    return hits(ds.frame, ds.frame.duplicated(["TSPARMCD", "TSSEQ"]).to_numpy(), ["TSPARMCD", "TSSEQ"])


@rule("ALS0309", "error", "SDTM", "Presence", "Missing TSVAL value (TSVALNF null)", "SD2017")
def tsval_missing(ds, ctx):
    if ds.name != "TS" or "TSVAL" not in ds.frame:
        return none()
    return hits(ds.frame, (_text(ds, "TSVAL") == "") & (_text(ds, "TSVALNF") == ""), ["TSPARMCD", "TSVAL", "TSVALNF"])


def _arms(ctx) -> pd.DataFrame | None:
    ta = ctx.frame("TA")
    return ta if ta is not None and "ARMCD" in ta else None


@rule("ALS0310", "error", "SDTM", "Cross-reference", "Invalid ARMCD: not in the Trial Arms (TA) dataset", "SD0066")
def armcd_in_ta(ds, ctx):
    ta = _arms(ctx)
    if ds.name != "DM" or ta is None or "ARMCD" not in ds.frame:
        return none()
    arm = _text(ds, "ARMCD")
    return hits(ds.frame, (arm != "") & ~(arm.isin(ta["ARMCD"]) | arm.str.upper().isin(NOT_ASSIGNED)), "ARMCD")


@rule("ALS0311", "error", "SDTM", "Cross-reference", "Invalid ARM/ARMCD: the pair is not in TA", "SD0071")
def arm_pair_in_ta(ds, ctx):
    ta = _arms(ctx)
    if ds.name != "DM" or ta is None or not {"ARMCD", "ARM"} <= set(ds.frame) or "ARM" not in ta:
        return none()
    pairs = set(zip(ta["ARMCD"], ta["ARM"], strict=True))
    arm = _text(ds, "ARMCD")
    known = pd.Series([p in pairs for p in zip(arm, _text(ds, "ARM"), strict=True)], index=ds.frame.index)
    return hits(ds.frame, (arm != "") & ~arm.str.upper().isin(NOT_ASSIGNED) & arm.isin(ta["ARMCD"]) & ~known, ["ARMCD", "ARM"])


@rule("ALS0312", "error", "SDTM", "Cross-reference", "Invalid value for ACTARMCD: not in TA", "SD2002")
def actarmcd_in_ta(ds, ctx):
    ta = _arms(ctx)
    if ds.name != "DM" or ta is None or "ACTARMCD" not in ds.frame:
        return none()
    arm = _text(ds, "ACTARMCD")
    return hits(ds.frame, (arm != "") & ~(arm.isin(ta["ARMCD"]) | arm.str.upper().isin(NOT_TREATED)), "ACTARMCD")


@rule("ALS0313", "error", "SDTM", "Cross-reference", "Invalid ETCD: not in the Trial Elements (TE) dataset", "SD0067")
def etcd_in_te(ds, ctx):
    te = ctx.frame("TE")
    if ds.name not in ("SE", "TA") or te is None or "ETCD" not in ds.frame or "ETCD" not in te:
        return none()
    etcd = _text(ds, "ETCD")
    return hits(ds.frame, (etcd != "") & ~etcd.isin([*te["ETCD"], "UNPLAN"]), "ETCD")


@rule("ALS0314", "error", "SDTM", "Cross-reference", "Invalid EPOCH: not in the Trial Arms (TA) dataset", "SD1015")
def epoch_in_ta(ds, ctx):
    ta = _arms(ctx)
    if ta is None or "EPOCH" not in ta or "EPOCH" not in ds.frame or ds.name == "TA" or "USUBJID" not in ds.frame:
        return none()
    epoch = _text(ds, "EPOCH")
    return hits(ds.frame, (epoch != "") & ~epoch.isin(set(ta["EPOCH"])), "EPOCH")


@rule("ALS0315", "warning", "SDTM", "Cross-reference", "VISITNUM value does not match TV domain data", "SD1017")
def visitnum_in_tv(ds, ctx):
    tv = ctx.frame("TV")
    if ds.name != "SV" or tv is None or "VISITNUM" not in tv or "VISITNUM" not in ds.frame:
        return none()
    planned = _text(ds, "SVUPDES") == ""
    return hits(ds.frame, planned & ~ds.frame["VISITNUM"].isin(set(tv["VISITNUM"])), ["VISITNUM", "VISIT"])


@rule("ALS0316", "error", "SDTM", "Consistency", "Duplicate ETCD value in TE", "SD1064")
def te_etcd_unique(ds, ctx):
    if ds.name != "TE" or "ETCD" not in ds.frame:
        return none()
    return hits(ds.frame, ds.frame["ETCD"].duplicated().to_numpy(), "ETCD")


@rule("ALS0317", "error", "SDTM", "Consistency", "Non-unique value for TAETORD within ARMCD", "SD1052")
def ta_order_unique(ds, ctx):
    if ds.name != "TA" or not {"ARMCD", "TAETORD"} <= set(ds.frame):
        return none()
    return hits(ds.frame, ds.frame.duplicated(["ARMCD", "TAETORD"]).to_numpy(), ["ARMCD", "TAETORD"])


@rule("ALS0318", "error", "SDTM", "Consistency", "ARMCD SCRNFAIL or NOTASSGN in TA or TV", "SD1053")
def ta_not_assigned(ds, ctx):
    if ds.name not in ("TA", "TV") or "ARMCD" not in ds.frame:
        return none()
    return hits(ds.frame, _text(ds, "ARMCD").isin(NOT_ASSIGNED), "ARMCD")


@rule("ALS0319", "warning", "SDTM", "Consistency", "Missing values for TEENRL and TEDUR", "SD0089")
def te_end_rule(ds, ctx):
    if ds.name != "TE":
        return none()
    return hits(ds.frame, (_text(ds, "TEENRL") == "") & (_text(ds, "TEDUR") == ""), ["ETCD", "TEENRL", "TEDUR"])


@rule("ALS0320", "error", "SDTM", "Cross-reference", "Invalid IETESTCD: not in the Trial Inclusion/Exclusion "
      "Criteria (TI) dataset", "SD0068")
def ietestcd_in_ti(ds, ctx):
    ti = ctx.frame("TI")
    if _prefix(ds) != "IE" or ti is None or "IETESTCD" not in ds.frame or "IETESTCD" not in ti:
        return none()
    return hits(ds.frame, ~_text(ds, "IETESTCD").isin(set(ti["IETESTCD"])), "IETESTCD")
