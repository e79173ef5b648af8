"""The stages of `cdisc-als run`, in order: raw tables -> SDTM -> ADaM, then the stages that only read what
those wrote: validation, define.xml with Dataset-JSON, the reviewer's guides, and the tables, listings
and figures, then the reconciliation and the index page.

With two or more CPUs (cdisc_als.background) a second process validates the SDTM folder and exports it
(define.xml, Dataset-JSON) while this one builds ADaM, then computes the TLFs while this one validates and
exports the ADaM folder and writes the guides; none of them reads what another writes (the SDTM folder is
validated before its export adds to it, in both modes), so the files are the same as in one process
(CDISC_ALS_WORKERS=1). Stages that ran in the second process print their own duration when this one
collects them.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from pathlib import Path

from cdisc_als.background import background
from cdisc_als.memory import both_fit_in_memory

TLF_LABEL = "computing ARD and rendering tables, listings and figures"
# what the stages of the second process are called when they are collected (benchmarks/pipeline.py reads them)
SDTM_VALIDATION, SDTM_EXPORT, TLF_STAGE = "SDTM validation", "SDTM define.xml and Dataset-JSON", \
    "tables, listings and figures"
IN_SECOND_PROCESS = " in the second process"


def run_stages(args: argparse.Namespace, study, metadata, raw_dir: Path, out: Path, target: Path,
               progress: Callable[[str], None], reference: str | Path | None) -> int:
    """Every stage of `run`, writing into `out` (the staging folder); messages name `target`. Returns the
    exit status: 1 when the data have errors, reconciliation differences or a failed output."""
    from cdisc_als.adam.pipeline import run_adam
    from cdisc_als.findings import Findings
    from cdisc_als.raw.pipeline import read_and_check_raw
    from cdisc_als.sdtm.pipeline import finding_count, raw_spec_of, run_sdtm

    progress(f"study {study.study_id}: reading raw tables from {raw_dir}")
    raw = read_and_check_raw(raw_dir, study, raw_spec_of(args.mappings), out_dir=out / "raw")
    print(f"raw data: {raw.summary()} (see {target / 'raw' / 'raw_findings.csv'})")
    raw_errors = raw.has_errors
    progress("mapping SDTM")
    sdtm = run_sdtm(raw_dir, out / "sdtm", study, args.mappings, progress=progress, raw=raw)
    del raw                                   # every stage below reads the files the one before wrote
    errors, warnings = finding_count(sdtm)
    print(f"SDTM: {len(sdtm.datasets)} datasets, {sum(len(d) for d in sdtm.datasets.values())} records, "
          f"{errors} errors, {warnings} warnings -> {target / 'sdtm'}")
    del sdtm
    with background() as side:
        if side.parallel:
            progress("second process: validating SDTM, then its define.xml and Dataset-JSON, beside the ADaM build")
        sdtm_job = side.submit(sdtm_checks_stage, out, args.study, args.mappings, None if side.parallel else progress,
                               what="the SDTM validation and export")
        progress("building ADaM")
        adam_findings = Findings()
        adam = run_adam(out / "sdtm", out / "adam", study, args.mappings, progress=progress, findings=adam_findings)
        print(f"ADaM: {', '.join(f'{k} {v}' for k, v in adam.items())} records, {len(adam_findings)} warnings "
              f"-> {target / 'adam'}")
        del adam
        beside_validation = side.parallel and both_fit_in_memory(out / "adam")
        if beside_validation:
            progress(f"second process: {TLF_LABEL}, beside the ADaM validation and export and the guides")
            tlf_job = side.submit(tlf_stage, out, args.study, what="the tables, listings and figures")
        progress("validating ADAM")
        adam_validation = validate_stage(out, "adam", metadata, study.study_id)
        print(f"validation ADAM: {adam_validation.summary()} -> {target / 'validation' / 'adam'}")
        if not beside_validation:
            if side.parallel:
                progress(f"second process: {TLF_LABEL}, beside the ADaM export and the guides (the ADaM validation "
                         "and the TLFs would not both fit in memory)")
            tlf_job = side.submit(tlf_stage, out, args.study, what="the tables, listings and figures")
        progress("exporting ADAM define.xml and Dataset-JSON")
        export_stage(out, "adam", args.study, args.mappings)
        if side.parallel:
            progress("waiting for the SDTM validation and export")
        sdtm_validation, validate_seconds, export_seconds = sdtm_job.result()
        print(f"validation SDTM: {sdtm_validation.summary()} -> {target / 'validation' / 'sdtm'}")
        _done(progress, SDTM_VALIDATION, validate_seconds, side.parallel)
        _done(progress, SDTM_EXPORT, export_seconds, side.parallel)
        print(f"define.xml, define.html and Dataset-JSON written beside the XPT files of {target / 'sdtm'} and "
              f"{target / 'adam'}")
        validation = {"sdtm": sdtm_validation, "adam": adam_validation}
        validation_errors = sdtm_validation.errors + adam_validation.errors
        _guides(study, metadata, out, target, validation, progress)
        progress("waiting for the tables, listings and figures" if side.parallel else TLF_LABEL)
        ards, tlf_failed, seconds = tlf_job.result()
        _done(progress, TLF_STAGE, seconds, side.parallel)
    print(f"ARD: {', '.join(ards)} -> {target / 'tlf' / 'ard'}")
    differences = reconcile(ards, out / "tlf", reference, study, target / "tlf") if reference else 0
    print(f"tables, listings and figures (RTF, HTML, XLSX, PNG) and mock shells -> {target / 'tlf'}")
    from cdisc_als.tlf.index import write_index

    index = write_index(out, f"{study.study_id}: {study.title}")
    print(f"index: {target / index.relative_to(out)}")
    return 1 if raw_errors or errors or validation_errors or differences or tlf_failed else 0


def _done(progress: Callable[[str], None], what: str, seconds: float, parallel: bool) -> None:
    progress(f"{what} done ({seconds:.1f} s{IN_SECOND_PROCESS if parallel else ''})")


def done_in_second_process(what: str) -> re.Pattern:
    """The progress line of a stage collected from the second process; group 1 is its seconds."""
    return re.compile(re.escape(what) + r" done \(([\d.]+) s" + re.escape(IN_SECOND_PROCESS) + r"\)")


def validate_stage(out: Path, stage: str, metadata, study_id: str):
    """Validate <out>/<stage> (sdtm or adam) with its reports in <out>/validation/<stage>; returns the result
    without its records (the counts and findings the guides need)."""
    from cdisc_als.validate.engine import validate_folder
    from cdisc_als.validate.report import write_reports

    reports = out / "validation" / stage
    reports.mkdir(parents=True, exist_ok=True)
    result = validate_folder(out / stage, metadata, study_id, out=reports)
    write_reports(result, reports)
    result.release()
    return result


def sdtm_checks_stage(out: Path, study_path: str | None, mappings: str | None,
                      progress: Callable[[str], None] | None = None) -> tuple[object, float, float]:
    """What only reads the SDTM folder, in order: its validation (of the folder as SDTM wrote it), then its
    define.xml and Dataset-JSON. Returns the validation result and the seconds of each; writes inside `out`
    only. Runs beside the ADaM build in a second process (cdisc_als.background) or, with one worker, here
    once the ADaM folder is exported (`progress` then announces each part)."""
    say = progress or (lambda _message: None)
    from contextlib import nullcontext

    from cdisc_als.io import confine_writes
    from cdisc_als.metadata import load_metadata
    from cdisc_als.read_cache import active_cache, shared_reads
    from cdisc_als.study import load_study

    with confine_writes(out), (shared_reads() if active_cache() is None else nullcontext()):
        say("validating SDTM")
        start = time.perf_counter()
        study = load_study(study_path)
        result = validate_stage(out, "sdtm", load_metadata(mappings, study), study.study_id)
        validated = time.perf_counter()
        say("exporting SDTM define.xml and Dataset-JSON")
        export_stage(out, "sdtm", study_path, mappings)
    return result, validated - start, time.perf_counter() - validated


def _guides(study, metadata, out: Path, target: Path, validation: dict, progress: Callable[[str], None]) -> None:
    from cdisc_als.guides import write_guides
    from cdisc_als.read_cache import active_cache

    progress("writing the reviewer's guides (cSDRG, ADRG)")
    guides = write_guides(out / "guides", study, metadata, out / "sdtm", out / "adam", validation)
    print(f"reviewer's guides: {', '.join(guides)} -> {target / 'guides'}")
    if (cache := active_cache()) is not None:
        cache.release(out / "sdtm")          # the guides are the last readers of the SDTM files here


def export_stage(out: Path, folder: str, study_path: str | None, mappings: str | None) -> None:
    """define.xml, define.html and Dataset-JSON of <out>/<folder>, writing inside `out` only."""
    from cdisc_als.export.run import export_folder
    from cdisc_als.io import confine_writes
    from cdisc_als.metadata import load_metadata
    from cdisc_als.study import load_study

    with confine_writes(out):
        study = load_study(study_path)
        export_folder(out / folder, study, load_metadata(mappings, study))


def tlf_stage(out: Path, study_path: str | None) -> tuple[dict, list[str], float]:
    """The TLF stage (ADaM files of <out>/adam -> <out>/tlf, with the mock shells), writing inside `out`
    only; returns the ARDs, the outputs that failed and the seconds it took. Runs in this process or in a
    second one (cdisc_als.background)."""
    from cdisc_als.io import confine_writes
    from cdisc_als.study import load_study
    from cdisc_als.tlf.run import render_shells, run_tlf

    start = time.perf_counter()
    with confine_writes(out):
        study = load_study(study_path)
        tlf = run_tlf(out / "adam", out / "tlf", None, study)
        render_shells(out / "tlf", None, study)
    return tlf.ards, list(tlf.failed), time.perf_counter() - start


def reconcile(ards: dict, out: Path, reference: str | Path, study, shown: Path) -> int:
    """Reconcile the ARD with a reference file; print the counts and return the real differences."""
    from cdisc_als.tlf.reconcile import real_differences
    from cdisc_als.tlf.run import run_reconcile

    table = run_reconcile(ards, out, reference, study)
    counts = table["status"].value_counts().to_dict()
    print(f"reconciliation with {reference}: {counts} -> {shown / 'reconciliation.csv'}")
    return real_differences(table)
