"""The benchmark of record: the whole path (`cdisc-als run --raw`) on simulated studies, per stage.

    python benchmarks/pipeline.py --subjects 1000 10000 [100000] [--baseline-ref 5c454ce] [--work DIR] [--force]

For each size N: `cdisc-als simulate --subjects N` (timed apart), then `cdisc-als run --raw` in a child
process whose progress lines mark the stages and whose resident memory, with that of every process it
starts, is sampled every 20 ms (/proc/<pid>/status). With two CPUs the run validates and exports the SDTM
folder in a second process beside the ADaM build, then computes the TLFs there beside the ADaM validation
and export and the guides: those rows give the stages' own seconds, and "waiting" what the main process
spent collecting them. Prints per stage: seconds, records/s (raw rows for reading; SDTM records for
mapping; ADaM records for ADaM and TLF; the records of the folder for validation and export) and peak RSS,
plus totals; the scaling ratio between consecutive sizes (time ratio per 10x subjects); and, with
--baseline-ref, the same run of that git commit of this repository (extracted with git archive, run
with the same Python) on the same raw data, and the ratio baseline / now, measured in the same run.
Targets of issue 15 are printed beside the totals. A size whose peak memory, projected linearly from the
largest size run before it, exceeds what the machine has available is not run (it would end in the
kernel's out-of-memory kill) and its target is reported not met; --force runs it anyway.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cdisc_als.run_stages import SDTM_EXPORT, SDTM_VALIDATION, TLF_STAGE, done_in_second_process

ROOT = Path(__file__).resolve().parents[1]
STAGES = [  # (stage, pattern of the progress line that starts it); the first pattern that matches wins
    ("read raw", r"reading raw tables"),
    ("SDTM", r"mapping SDTM"),
    ("ADaM", r"building ADaM|beside the ADaM build"),
    ("waiting", r"waiting for|done \("),
    ("validate ADaM", r"validating ADAM|beside the ADaM validation"),
    ("validate", r"validating"),
    ("export SDTM", r"exporting SDTM"),
    ("export ADaM", r"exporting ADAM"),
    ("guides", r"reviewer's guides"),
    ("TLF", r"computing ARD"),
]
# With two CPUs a second process validates and exports the SDTM folder beside the ADaM build, then computes
# the TLFs beside the ADaM validation and export and the guides: their own durations come from the lines
# that report them ("... done (12.3 s in the second process)"), their memory is the two processes' over the
# window they ran in, and "waiting" is what the main process spent collecting them. The index page and the
# manifest are in "index": they start after the last "done" line.
OWN_TIME = {"validate SDTM": done_in_second_process(SDTM_VALIDATION),
            "export SDTM": done_in_second_process(SDTM_EXPORT), "TLF": done_in_second_process(TLF_STAGE)}
OWN_WINDOW = {"validate SDTM": ("ADaM", "guides"), "export SDTM": ("ADaM", "guides"), "TLF": ("validate ADaM", "index")}
# the baseline's stages that this run splits in two (their sum is compared)
PARTS = {"validate": ("validate SDTM", "validate ADaM"), "export": ("export SDTM", "export ADaM")}
TARGETS = {10_000: (60.0, 4.0), 100_000: (600.0, 16.0)}   # subjects: (seconds, GB)


@dataclass
class StageRun:
    seconds: float = 0.0
    peak_mb: float = 0.0


@dataclass
class RunResult:
    total: float = 0.0
    peak_mb: float = 0.0
    stages: dict[str, StageRun] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    status: int = 0
    own: dict[str, float] = field(default_factory=dict)   # stages of the second process: their own seconds


def _own_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except (OSError, ValueError):
                continue
            found += children
            queue += children
    return found


def _rss_mb(pid: int) -> float:
    """Resident memory of the run and every process it started (the TLF stage's second process)."""
    return sum(_own_rss_mb(p) for p in [pid, *_descendants(pid)])


def _stage_of(message: str) -> str | None:
    return next((name for name, pattern in STAGES if re.search(pattern, message)), None)


def run_pipeline(command: list[str], env: dict | None, cwd: Path) -> RunResult:
    """Run one `cdisc-als run`, attributing time and peak memory to the stage its progress lines name."""
    result = RunResult()
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.perf_counter(), _rss_mb(proc.pid)))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    marks: list[tuple[float, str]] = [(start, "start")]
    for line in proc.stderr:
        for name, pattern in OWN_TIME.items():
            if found := pattern.search(line):
                result.own[name] = float(found.group(1))
        if f"{TLF_STAGE} done" in line:
            marks.append((time.perf_counter(), "index"))
            continue
        stage = _stage_of(line)
        if stage and stage != marks[-1][1]:
            marks.append((time.perf_counter(), stage))
    stdout = proc.stdout.read()
    result.status = proc.wait()
    end = time.perf_counter()
    done.set()
    sampler.join()
    result.total = end - start
    marks.append((end, "end"))
    for (t0, name), (t1, _) in zip(marks, marks[1:], strict=False):
        stage = result.stages.setdefault(name, StageRun())
        stage.seconds += t1 - t0
        stage.peak_mb = max([stage.peak_mb, *(mb for t, mb in samples if t0 <= t <= t1)])
    for name, seconds in result.own.items():    # the second process's stages: own seconds, the window's memory
        first, last = OWN_WINDOW[name]
        begin = next((t for t, stage in marks if stage == first), start)
        finish = next((t for t, stage in marks if stage == last and t >= begin), end)
        result.stages[name] = StageRun(seconds, max((mb for t, mb in samples if begin <= t <= finish), default=0.0))
    if "validate ADaM" in result.stages and "validate SDTM" not in result.own:     # one process: both in one row
        both = result.stages.setdefault("validate", StageRun())
        adam = result.stages.pop("validate ADaM")
        both.seconds, both.peak_mb = both.seconds + adam.seconds, max(both.peak_mb, adam.peak_mb)
    result.peak_mb = max((mb for _, mb in samples), default=0.0)
    result.counts = _counts(stdout)
    return result


def _counts(stdout: str) -> dict[str, int]:
    counts = {}
    if m := re.search(r"raw data: \d+ tables, (\d+) rows", stdout):
        counts["raw"] = int(m.group(1))
    if m := re.search(r"SDTM: \d+ datasets, (\d+) records", stdout):
        counts["sdtm"] = int(m.group(1))
    if m := re.search(r"ADaM: (.*) records", stdout):
        counts["adam"] = sum(int(n) for n in re.findall(r"\b[A-Z]+ (\d+)", m.group(1)))
    return counts


def _records(stage: str, counts: dict[str, int]) -> int:
    return {"read raw": counts.get("raw", 0), "SDTM": counts.get("sdtm", 0), "ADaM": counts.get("adam", 0),
            "validate": counts.get("sdtm", 0) + counts.get("adam", 0), "validate SDTM": counts.get("sdtm", 0),
            "validate ADaM": counts.get("adam", 0),
            "export SDTM": counts.get("sdtm", 0), "export ADaM": counts.get("adam", 0),
            "export": counts.get("sdtm", 0) + counts.get("adam", 0), "TLF": counts.get("adam", 0)}.get(stage, 0)


def _baseline_tree(ref: str, into: Path) -> Path:
    tree = into / f"baseline-{ref}"
    if not tree.exists():
        tree.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def _print(n: int, now: RunResult, base: RunResult | None) -> None:
    print(f"\n== {n:,} subjects: {now.counts.get('raw', 0):,} raw rows -> {now.counts.get('sdtm', 0):,} SDTM "
          f"and {now.counts.get('adam', 0):,} ADaM records (exit status {now.status})")
    head = f"{'stage':13s} {'seconds':>9s} {'records/s':>11s} {'peak RSS MB':>12s}"
    if base:
        head += f" {'baseline s':>11s} {'base/now':>9s}"
    print(head)
    names = [name for name, _ in STAGES] + ["validate SDTM", "export", "index", "start"]   # "export": the baseline's
    names.insert(names.index("validate ADaM"), names.pop(names.index("validate SDTM")))
    for name in names:
        stage, note = now.stages.get(name), ""
        if name in now.own:
            note = "  (second process)"
        if stage is None and base and name in base.stages and name in PARTS and \
                all(part in now.stages for part in PARTS[name]):        # one baseline row, two rows now: summed
            parts = [now.stages[part] for part in PARTS[name]]
            stage, note = StageRun(sum(p.seconds for p in parts), max(p.peak_mb for p in parts)), \
                f"  (= {' + '.join(PARTS[name])})"
        if stage is None and not (base and name in base.stages):
            continue
        stage = stage or StageRun()
        records = _records(name, now.counts)
        rate = f"{records / stage.seconds:11,.0f}" if records and stage.seconds > 0 else f"{'':>11s}"
        line = f"{name:13s} {stage.seconds:9.1f} {rate} {stage.peak_mb:12.0f}"
        if base and name in base.stages:
            b = base.stages[name].seconds
            line += f" {b:11.1f} {b / stage.seconds if stage.seconds else float('nan'):9.1f}"
        elif base:
            line += f" {'':>11s} {'':>9s}"
        print(line + note)
    total = f"{'total':13s} {now.total:9.1f} {'':>11s} {now.peak_mb:12.0f}"
    if base:
        total += f" {base.total:11.1f} {base.total / now.total:9.1f}"
    print(total)
    if base:
        print(f"peak RSS: now {now.peak_mb:,.0f} MB, baseline {base.peak_mb:,.0f} MB "
              f"(baseline / now {base.peak_mb / now.peak_mb if now.peak_mb else float('nan'):.1f})")
    if now.own:
        print("(second process: SDTM validation and export beside ADaM, TLF beside the ADaM validation and export and"
              " the guides, or after the validation when both would not fit the memory budget; its peak RSS is the"
              " two processes' over that window, and the stages' seconds add up to more than the wall-clock total)")
    if n in TARGETS:
        seconds, gb = TARGETS[n]
        ok = now.total <= seconds and now.peak_mb <= gb * 1024
        print(f"target for {n:,} subjects: under {seconds:.0f} s and {gb:.0f} GB -> "
              f"{now.total:.1f} s, {now.peak_mb / 1024:.2f} GB: {'met' if ok else 'NOT met'}")


def _available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return float("inf")


def _projected_peak_mb(n: int, peaks: dict[int, float]) -> float:
    """The peak of the largest size run so far, scaled linearly to n subjects (0 when none ran)."""
    if not peaks:
        return 0.0
    largest = max(peaks)
    return peaks[largest] * n / largest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--baseline-ref", help="git commit to measure in the same run (e.g. 5c454ce)")
    parser.add_argument("--work", help="folder for simulated data and outputs (default: a temporary folder)")
    parser.add_argument("--force", action="store_true",
                        help="run every size, even one whose projected peak memory exceeds the machine's")
    args = parser.parse_args()
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="cdisc_als_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    cli = [sys.executable, "-m", "cdisc_als.cli"]
    totals, peaks, base_peaks = {}, {}, {}
    for n in args.subjects:
        if not args.force and (projected := _projected_peak_mb(n, peaks)) > 0.9 * _available_mb():
            print(f"\n== {n:,} subjects: not run: memory grows linearly with the subjects, so the "
                  f"{max(peaks):,}-subject peak projects {projected / 1024:.1f} GB, more than this machine has "
                  f"available ({_available_mb() / 1024:.1f} GB); --force runs it anyway")
            if n in TARGETS:
                print(f"target for {n:,} subjects: under {TARGETS[n][0]:.0f} s and {TARGETS[n][1]:.0f} GB -> NOT met")
            continue
        raw = work / f"raw{n}"
        if not (raw / "demog.csv").exists():
            t0 = time.perf_counter()
            subprocess.run([*cli, "simulate", "--subjects", str(n), "--out", str(raw), "--quiet"], check=True,
                           capture_output=True, cwd=ROOT)
            print(f"simulated {n:,} subjects in {time.perf_counter() - t0:.1f} s (not part of the pipeline time)")
        now = run_pipeline([*cli, "run", "--raw", str(raw), "--out", str(work / f"out{n}"), "--overwrite",
                            "--no-reference"], None,
                           ROOT)
        base = None
        if args.baseline_ref and (projected := _projected_peak_mb(n, base_peaks)) > 0.9 * _available_mb():
            print(f"(baseline {args.baseline_ref} not run at {n:,} subjects: its {max(base_peaks):,}-subject peak "
                  f"projects {projected / 1024:.1f} GB, more than this machine has available)")
        elif args.baseline_ref:
            tree = _baseline_tree(args.baseline_ref, work)
            env = {**__import__("os").environ, "PYTHONPATH": str(tree)}
            base = run_pipeline([sys.executable, "-m", "cdisc_als.cli", "run", "--raw", str(raw),
                                 "--out", str(work / f"baseline{n}")], env, tree)
        _print(n, now, base)
        totals[n], peaks[n] = now.total, now.peak_mb
        if base is not None:
            base_peaks[n] = base.peak_mb
    sizes = sorted(totals)
    for small, big in zip(sizes, sizes[1:], strict=False):
        factor = big / small
        ratio = totals[big] / totals[small]
        print(f"\nscaling {small:,} -> {big:,} subjects ({factor:g}x): time x {ratio:.2f} "
              f"(target: at most {1.1 * factor:g}x) -> {'met' if ratio <= 1.1 * factor else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
