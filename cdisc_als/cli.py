"""The `cdisc-als` command: one verb per stage of the raw -> SDTM -> ADaM -> TLF path."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from cdisc_als import __version__
from cdisc_als.resources import SAMPLE_RAW_DIR, mappings_dir


class Progress:
    """Prints each step with the seconds it took (to stderr, so stdout stays parseable)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        from cdisc_als.memory import return_freed_memory

        return_freed_memory()           # each message starts a stage: what the last one freed goes back
        if not self.quiet:
            print(f"[{time.perf_counter() - self.start:6.1f}s] {message}", file=sys.stderr, flush=True)


def _print_counts(counts: dict, unit: str, width: int = 12) -> None:
    for name, value in counts.items():
        rows = value if isinstance(value, int) else len(value)
        print(f"{name.lower():{width}s} {rows:>9d} {unit}")


# scale mode holds every table in memory: about 20 KB per subject (20,000 subjects: 0.5 GB, 30 s), so
# 200,000 subjects need about 4-5 GB; larger sizes are refused before anything is allocated
MAX_SUBJECTS = 200_000
MIN_SUBJECTS = 10


def _cmd_simulate(args: argparse.Namespace) -> int:
    from cdisc_als.simulate.run import simulate

    if args.subjects is not None and not MIN_SUBJECTS <= args.subjects <= MAX_SUBJECTS:
        from cdisc_als.failsafe import UsageError

        raise UsageError(f"--subjects {args.subjects}: scale mode simulates {MIN_SUBJECTS} to {MAX_SUBJECTS:,} "
                         f"subjects (about 20 KB of memory each); split a larger study into several seeds")
    progress = Progress(args.quiet)
    counts = simulate(args.out, seed=args.seed, subjects=args.subjects, progress=progress)
    progress(f"wrote {sum(counts.values())} rows in {len(counts)} tables to {args.out}")
    _print_counts(counts, "rows")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from cdisc_als.io import confine_writes
    from cdisc_als.metadata import load_metadata
    from cdisc_als.outputs import staged_output, write_manifest
    from cdisc_als.run_stages import run_stages
    from cdisc_als.study import load_study

    progress = Progress(args.quiet)
    study = load_study(args.study)
    metadata = load_metadata(args.mappings, study)
    reference = None if args.no_reference else args.reference or study.reference_outputs
    if reference:
        from cdisc_als.reference import load_reference

        load_reference(reference)              # a bad reference file stops the run before it starts
    raw_dir = Path(args.raw) if args.raw else SAMPLE_RAW_DIR
    target = Path(args.out)
    with staged_output(target, overwrite=args.overwrite) as out, confine_writes(out):
        from cdisc_als.read_cache import shared_reads

        with shared_reads():              # a dataset file read by several stages is decoded once
            status = run_stages(args, study, metadata, raw_dir, out, target, progress, reference)
        inputs = {"raw": raw_dir, "study": study.source or raw_dir, "mappings": mappings_dir(args.mappings)}
        if reference:
            inputs["reference"] = Path(reference)
        write_manifest(out, inputs)
    print(f"run manifest (versions, input and output checksums): {target / 'run_manifest.json'}")
    return status


def _cmd_adam(args: argparse.Namespace) -> int:
    from cdisc_als.adam.pipeline import run_adam
    from cdisc_als.findings import Findings
    from cdisc_als.study import load_study

    progress = Progress(args.quiet)
    findings = Findings()
    result = run_adam(Path(args.sdtm), Path(args.out), load_study(args.study), args.mappings, progress=progress,
                      findings=findings)
    _print_counts(result, "records", 8)
    print(f"{len(findings.errors)} errors, {len(findings) - len(findings.errors)} warnings "
          f"({Path(args.out) / 'adam_findings.csv'})")
    return 1 if findings.errors else 0


def _cmd_sdtm(args: argparse.Namespace) -> int:
    from cdisc_als.sdtm.pipeline import finding_count, run_sdtm
    from cdisc_als.study import load_study

    progress = Progress(args.quiet)
    study = load_study(args.study)
    result = run_sdtm(Path(args.raw), Path(args.out), study, args.mappings, progress=progress)
    _print_counts(result.datasets, "records", 10)
    errors, warnings = finding_count(result)
    print(f"{errors} errors, {warnings} warnings (sdtm_findings.csv); reconciliation.csv accounts for every raw row")
    return 1 if errors else 0


def _cmd_check_raw(args: argparse.Namespace) -> int:
    from cdisc_als.raw.pipeline import read_and_check_raw
    from cdisc_als.study import load_study

    study = load_study(args.study)
    result = read_and_check_raw(Path(args.raw), study, out_dir=Path(args.out) if args.out else None)
    for finding in result.findings[: args.show]:
        print(finding.describe())
    if len(result.findings) > args.show:
        print(f"... {len(result.findings) - args.show} more (see raw_findings.csv)")
    print(result.summary())
    return 1 if result.has_errors else 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from cdisc_als.compare.cli import run_compare

    return run_compare(Path(args.base), Path(args.compare), keys=args.keys, tolerance=args.tolerance,
                       method=args.method, report_dir=Path(args.report) if args.report else None,
                       max_values=args.max_values, ard=args.ard)


def _cmd_validate(args: argparse.Namespace) -> int:
    from cdisc_als.metadata import load_metadata
    from cdisc_als.study import load_study
    from cdisc_als.validate.engine import validate_folder
    from cdisc_als.validate.report import write_reports

    study = load_study(args.study)
    metadata = load_metadata(args.mappings, study)
    result = validate_folder(Path(args.folder), metadata, study.study_id)
    summary = result.issue_summary()
    if len(summary):
        print(summary.to_string(index=False))
    print(result.summary())
    if args.out:
        xlsx, html = write_reports(result, Path(args.out))
        print(f"report: {xlsx}, {html}")
    return 1 if result.errors else 0


def _cmd_export(args: argparse.Namespace) -> int:
    from cdisc_als.export.run import export_folder
    from cdisc_als.metadata import load_metadata
    from cdisc_als.study import load_study

    study = load_study(args.study)
    metadata = load_metadata(args.mappings, study)
    for folder in args.folders:
        result = export_folder(Path(folder), study, metadata, json=not args.no_json)
        extra = f", {len(result['json'])} Dataset-JSON files" if "json" in result else ""
        print(f"{folder}: {result['standard']} define.xml, define.html{extra}")
    return 0


def _cmd_tlf(args: argparse.Namespace) -> int:
    from cdisc_als.run_stages import reconcile
    from cdisc_als.study import load_study
    from cdisc_als.tlf.run import render_shells, run_tlf

    out = Path(args.out)
    if args.reference:
        from cdisc_als.reference import load_reference

        load_reference(args.reference)         # a bad reference file stops before anything is computed
    if args.shell:
        render_shells(out, args.catalogue, args.study)
        print(f"mock shells -> {out / 'shells'}")
        return 0
    if not args.adam:
        from cdisc_als.failsafe import UsageError

        raise UsageError("--adam is required unless --shell is given")
    result = run_tlf(Path(args.adam), out, args.catalogue, args.study)
    for output_id, ard in result.ards.items():
        print(f"{output_id:10s} {len(ard):>6d} statistics -> {out / 'ard' / (output_id + '.csv')}")
    print(f"{len(result.layouts)} outputs (RTF, HTML, XLSX, PNG) -> {out / 'tables'}, {out / 'figures'}")
    for finding in result.findings:
        print(finding.describe())
    status = 1 if result.failed else 0
    if args.reference:
        differences = reconcile(result.ards, out, args.reference, load_study(args.study), out)
        status = status or (1 if differences else 0)
    return status


def _stage_options(parser: argparse.ArgumentParser, mappings_help: str, quiet: bool = True) -> None:
    """The options every stage shares: study.yaml, mappings folder and (optionally) --quiet."""
    parser.add_argument("--study", help="study.yaml (default: mappings/study.yaml)")
    parser.add_argument("--mappings", help=mappings_help)
    if quiet:
        parser.add_argument("--quiet", action="store_true", help="no progress messages")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cdisc-als",
        description="Raw ALS trial visit data to CDISC SDTM and ADaM, validation, XPT/define.xml and TLFs.",
    )
    parser.add_argument("--version", action="version", version=f"cdisc-als {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    run = verbs.add_parser("run", help="the whole path on the embedded sample study (or --raw DIR)",
                           description="Read the raw tables (default: the embedded sample study), check them "
                                       "against the raw data model, and write every output into --out. "
                                       "Stages not yet built are reported as such.")
    run.add_argument("--out", default="output",
                     help="output folder (default: output). The run builds in a staging folder beside it and "
                          "replaces it only when every stage has finished; a failed or interrupted run leaves "
                          "the previous output untouched and the partial one in <out>.incomplete/")
    run.add_argument("--overwrite", action="store_true",
                     help="replace --out even when it holds files that are not a cdisc-als run")
    run.add_argument("--raw", help="folder of raw CSV/XLSX tables (default: the embedded sample study)")
    run.add_argument("--reference", help="reference file to reconcile the outputs with (default: study.yaml's "
                                          "reference_outputs, if it names one); differences give exit status 1")
    run.add_argument("--no-reference", action="store_true", help="no reconciliation, whatever study.yaml names")
    _stage_options(run, "mappings folder (default: the project's mappings/)")
    run.set_defaults(func=_cmd_run)

    sdtm = verbs.add_parser(
        "sdtm", help="raw tables -> SDTM XPT datasets",
        description="Map a folder of raw tables to SDTM with the specs of <mappings>/sdtm/<DOMAIN>.yaml. Writes "
                    "<domain>.xpt (XPT v5, labels and lengths from the metadata), supp<domain>.xpt, trace/<domain>.csv "
                    "(raw file and row of every record), reconciliation.csv and reconciliation_rows.csv (every raw row: "
                    "mapped, mapped to several records, rejected with the reason, or not used) and sdtm_findings.csv. "
                    "Exit status 1 when there are errors.")
    sdtm.add_argument("--raw", required=True, help="folder of raw CSV/XLSX tables")
    sdtm.add_argument("--out", required=True, help="output folder")
    _stage_options(sdtm, "mappings folder with sdtm/, raw/, metadata/ and codelists.yaml")
    sdtm.set_defaults(func=_cmd_sdtm)

    sim = verbs.add_parser("simulate", help="write a simulated study's raw tables",
                           description="Without --subjects: the calibrated sample study (71 screened, 64 "
                                       "randomized) whose analysis reproduces the published tables (about 3 "
                                       "minutes of search). With --subjects N: a realistic, uncalibrated study of "
                                       "N screened subjects for benchmarks. Same seed -> byte-identical files. "
                                       "Output: one CSV per raw table plus simulation.json.")
    sim.add_argument("--out", required=True, help="folder for the raw CSV files")
    sim.add_argument("--seed", type=int, default=20181, help="random seed (default 20181, the embedded sample)")
    sim.add_argument("--subjects", type=int,
                     help=f"scale mode: number of screened subjects ({MIN_SUBJECTS} to {MAX_SUBJECTS:,})")
    sim.add_argument("--calibrated", action="store_true", help="the calibrated sample study (the default)")
    sim.add_argument("--quiet", action="store_true", help="no progress messages")
    sim.set_defaults(func=_cmd_simulate)

    check = verbs.add_parser("check-raw", help="check raw tables against the raw data model",
                             description="Read every raw table in DIR (CSV or XLSX), check columns, types, "
                                         "allowed values, keys, cross-table and plausibility rules, and list "
                                         "every finding with file, row (the physical line where the record "
                                         "starts), column, value, rule and the action taken (value set to "
                                         "missing, row rejected). With --out writes raw_findings.csv and "
                                         "raw_accounting.csv (every physical line accounted for). Exit status "
                                         "1 when there are errors, 2 when the check cannot run.")
    check.add_argument("raw", help="folder of raw tables")
    check.add_argument("--out", help="folder for raw_findings.csv")
    check.add_argument("--study", help="study.yaml (default: mappings/study.yaml)")
    check.add_argument("--show", type=int, default=50, help="findings to print (default 50)")
    check.set_defaults(func=_cmd_check_raw)

    adam = verbs.add_parser(
        "adam", help="SDTM XPT -> ADaM XPT datasets",
        description="Read the SDTM XPT files of --sdtm (DM, DS, SV, QS, RE, MH, FA required; EX, LB, AE, PR, SS, "
                    "SUPPSS, GF used when present) and write adsl, adqs, adre, adlb, adae and adtte .xpt (XPT v5, "
                    "labels from the metadata) into --out. Works on any SDTM that follows the mapping specs. A "
                    "missing dataset or variable is named (exit 2); dates outside study.yaml plausible_dates are "
                    "ignored by the analysis and listed in adam_findings.csv.")
    adam.add_argument("--sdtm", required=True, help="folder of SDTM .xpt files")
    adam.add_argument("--out", required=True, help="output folder")
    _stage_options(adam, "mappings folder (metadata and codelists)")
    adam.set_defaults(func=_cmd_adam)

    val = verbs.add_parser(
        "validate", help="conformance rules on XPT/Dataset-JSON files, P21-style report",
        description="Validate every .xpt or Dataset-JSON .json file of DIR against the rule catalogue (SDTM and "
                    "ADaM rules, Pinnacle 21 ids where one corresponds) and the study metadata. Prints a summary; "
                    "with --out writes validation.xlsx (Dataset Summary, Issue Summary, Details, Rules) and "
                    "validation.html. An unreadable or non-ASCII file is a finding, never skipped. Exit status 1 "
                    "when there are errors.")
    val.add_argument("folder", help="folder of .xpt / .json datasets")
    val.add_argument("--out", help="folder for validation.xlsx and validation.html")
    _stage_options(val, "mappings folder (metadata and codelists)", quiet=False)
    val.set_defaults(func=_cmd_validate)

    exp = verbs.add_parser(
        "export", help="define.xml 2.1, define.html and Dataset-JSON for a folder of XPT files",
        description="Write define.xml (Define-XML 2.1: datasets, variables, codelists with sponsor extensions, "
                    "value-level metadata, origins, methods, leaf references) and a readable define.html into each "
                    "folder, and every dataset as Dataset-JSON 1.1 into <folder>/json/. The standard (SDTM or ADaM) "
                    "follows the dataset names.")
    exp.add_argument("folders", nargs="+", help="folders of XPT files (e.g. output/sdtm output/adam)")
    _stage_options(exp, "mappings folder (metadata and codelists)", quiet=False)
    exp.add_argument("--no-json", action="store_true", help="skip Dataset-JSON")
    exp.set_defaults(func=_cmd_export)

    tlf = verbs.add_parser(
        "tlf", help="ARD, tables, listings and figures (RTF/HTML/XLSX/PNG) and mock shells of an output catalogue",
        description="Check the output catalogue (default mappings/tlf/outputs.yaml) against the ADaM XPT files of "
                    "--adam (a mistake ends with every problem listed and exit status 2), compute every table as "
                    "Analysis Results Data (<out>/ard/<id>.csv), and render tables/<id>.rtf, tables/tables.html, "
                    "tables/tables.xlsx and figures/<id>.png; tlf_findings.csv lists warnings and data findings. "
                    "--shell renders the mock shells (placeholders, no data). With --reference FILE the ARD is "
                    "reconciled with the reference cells (<out>/reconciliation.csv: match, approximate, known "
                    "inconsistency, differs, missing). Exit status 1 when an output could not be produced or the "
                    "reconciliation finds differences or missing cells.")
    tlf.add_argument("--adam", help="folder of ADaM .xpt files (not needed with --shell)")
    tlf.add_argument("--shell", action="store_true", help="render mock shells (placeholders, no data) only")
    tlf.add_argument("--out", required=True, help="output folder")
    tlf.add_argument("--catalogue", help="output catalogue YAML (default: mappings/tlf/outputs.yaml)")
    tlf.add_argument("--study", help="study.yaml whose arms order the columns and map a reference's arm codes to "
                                     "labels (default: mappings/study.yaml for the default catalogue; for another "
                                     "catalogue the arms come from the data)")
    tlf.add_argument("--reference", help="reference file (e.g. mappings/reference/oh2018.yaml) to reconcile the ARD "
                                         "with; differences or missing cells give exit status 1")
    tlf.set_defaults(func=_cmd_tlf)
    comp = verbs.add_parser(
        "compare", help="PROC COMPARE-style comparison of two datasets, two folders or two ARDs",
        description="Compare BASE with COMPARE: two .xpt or Dataset-JSON files, two folders (files paired by "
                    "name), or two ARD CSV files (--ard). Prints a PROC COMPARE-style report per pair and "
                    "the SYSINFO-style bit code; --report DIR also writes <name>.txt and <name>.xlsx (one sheet "
                    "per kind of difference) and summary.csv. Exit status: 0 equal, 1 differences, 2 error.")
    comp.add_argument("base", help="base file or folder")
    comp.add_argument("compare", help="compare file or folder")
    comp.add_argument("--keys", nargs="+", default=[],
                      help="ID variables matching observations (those present in a dataset are used; default: "
                           "the dataset's keys from the metadata, else by position)")
    comp.add_argument("--tolerance", type=float, default=None, help="numeric criterion (default exact)")
    comp.add_argument("--method", choices=["exact", "absolute", "relative", "percent"], default=None,
                      help="how the criterion applies (default absolute with --tolerance, else exact)")
    comp.add_argument("--report", help="folder for the text and XLSX reports")
    comp.add_argument("--max-values", type=int, default=50, help="value differences listed per variable")
    comp.add_argument("--ard", action="store_true", help="BASE and COMPARE are Analysis Results Data CSV files")
    comp.set_defaults(func=_cmd_compare)
    return parser


def _output_folders(args: argparse.Namespace) -> list[Path] | None:
    """The folders a verb may write into (every write elsewhere is refused); None for `run`, which
    confines its writes to its staging folder itself."""
    if args.verb == "run":
        return None
    if args.verb == "export":
        return [Path(f) for f in args.folders]
    folder = getattr(args, "report" if args.verb == "compare" else "out", None)
    return [Path(folder)] if folder else []


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the verb; every failure becomes a message and an exit status
    (cdisc_als.failsafe: 0 clean, 1 errors in the data, 2 could not run, 130/143 interrupted)."""
    from cdisc_als.failsafe import run_guarded

    parser = build_parser()
    args = parser.parse_args(argv)
    staged = Path(args.out) if args.verb == "run" else None
    return run_guarded(args.verb, lambda: args.func(args), _output_folders(args), staged)


if __name__ == "__main__":
    sys.exit(main())
