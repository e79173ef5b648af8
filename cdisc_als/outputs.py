"""Output folders a user can trust: built in a staging folder, swapped in whole, with a run manifest.

`staged_output(target)` yields a fresh staging folder beside the target. When the block finishes, the
previous content of the target is replaced by the staging folder in one rename, so a reader never sees
old and new files mixed (an old `suppss.xpt` cannot survive a rerun). When the block fails or is
interrupted, the previous target stays untouched and the partial output is moved to
`<target>.incomplete/` with `INCOMPLETE.txt` saying what failed. A non-empty target that is not a
cdisc-als output (no run_manifest.json) is refused unless `overwrite=True`.

`write_manifest` records what produced a folder: tool and dependency versions, Python and platform,
the command line, the SHA-256 of every input file (raw tables, study.yaml, mappings) and of every
output file. Times honour SOURCE_DATE_EPOCH (the reproducible-builds convention).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata as importlib_metadata
from pathlib import Path

from cdisc_als import __version__
from cdisc_als.io import atomic_write_text

MANIFEST = "run_manifest.json"
INCOMPLETE = "INCOMPLETE.txt"
DEPENDENCIES = ("numpy", "pandas", "pyreadstat", "pandera", "pydantic", "statsmodels", "scipy", "lifelines",
                "openpyxl", "jinja2", "matplotlib", "PyYAML")


class OutputFolderError(ValueError):
    """The output folder cannot be used (not a folder, or holds files that are not a cdisc-als output)."""


def run_timestamp() -> dt.datetime:
    """Now (UTC), or SOURCE_DATE_EPOCH when set, so that reruns can be byte-identical."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return dt.datetime.now(tz=dt.UTC).replace(microsecond=0)


def _is_ours(folder: Path) -> bool:
    return (folder / MANIFEST).is_file() or (folder / INCOMPLETE).is_file()


@contextmanager
def staged_output(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    target = Path(target).absolute()
    if target.exists() and not target.is_dir():
        raise OutputFolderError(f"output folder {target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not _is_ours(target) and not overwrite:
        raise OutputFolderError(f"output folder {target} is not empty and holds no cdisc-als run "
                                f"({MANIFEST} is missing); choose another --out or pass --overwrite to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
    except BaseException as exc:
        _keep_incomplete(staging, target, exc)
        raise
    old = target.parent / f".{target.name}.previous-{os.getpid()}"
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(target.parent / f"{target.name}.incomplete", ignore_errors=True)


def _keep_incomplete(staging: Path, target: Path, exc: BaseException) -> None:
    reason = (f"interrupted by {getattr(exc, 'signal_name', 'SIGINT')}" if isinstance(exc, KeyboardInterrupt)
              else f"{type(exc).__name__}: {exc}")
    try:
        atomic_write_text(staging / INCOMPLETE, "This output is INCOMPLETE: the run stopped before every stage "
                          f"finished.\nReason: {reason}\nThe previous complete output, if any, is still in {target}.\n")
        incomplete = target.parent / f"{target.name}.incomplete"
        shutil.rmtree(incomplete, ignore_errors=True)
        os.replace(staging, incomplete)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def _checksums(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """SHA-256 of every file below folder, by relative path; files hashed on as many threads as the run may
    use CPUs (hashlib releases the GIL), listed in path order."""
    from concurrent.futures import ThreadPoolExecutor

    from cdisc_als.background import worker_count

    files = [p for p in _files(folder) if p.name not in skip]
    with ThreadPoolExecutor(max_workers=max(1, min(worker_count(), 8))) as pool:
        digests = list(pool.map(sha256, files))
    return {p.relative_to(folder).as_posix(): digest for p, digest in zip(files, digests, strict=True)}


def _version(name: str) -> str:
    try:
        return importlib_metadata.version(name)
    except importlib_metadata.PackageNotFoundError:
        return "not installed"


def write_manifest(folder: Path, inputs: dict[str, Path], argv: list[str] | None = None) -> Path:
    """run_manifest.json in `folder`: versions, command line, input checksums (each input a file or a
    folder, named by its role) and output checksums."""
    described = {}
    for role, path in inputs.items():
        path = Path(path)
        if path.is_dir():
            described[role] = {"folder": path.name, "files": _checksums(path)}
        elif path.is_file():
            described[role] = {"file": path.name, "sha256": sha256(path)}
    manifest = {
        "tool": {"name": "cdisc-als", "version": __version__},
        "created": run_timestamp().isoformat(),
        "command": ["cdisc-als", *(argv if argv is not None else sys.argv[1:])],
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "dependencies": {name: _version(name) for name in DEPENDENCIES},
        "inputs": described,
        "outputs": _checksums(folder, skip=(MANIFEST,)),
    }
    path = folder / MANIFEST
    atomic_write_text(path, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path
