"""File writing that never leaves a half-written output behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a new file gets under the process umask (0o666 & ~umask), as open() would give it;
    mkstemp's 0600 would keep QC colleagues on a shared server from reading the outputs."""
    return 0o666 & ~_current_umask()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write data to a temporary file in the target folder, then rename it over path."""
    atomic_write_chunks(path, (data,))


def atomic_write_chunks(path: str | Path, chunks) -> None:
    """Write a sequence of bytes-like pieces (without joining them) to a temporary file in the target
    folder, give it the umask's mode, then rename it over path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """CSV with Unix line ends and no index, written atomically (byte-stable for the same frame)."""
    atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))


def safe_child(folder: str | Path, name: str) -> Path:
    """folder / name, refusing names that would escape the folder (absolute paths, '..')."""
    folder = Path(folder).resolve()
    target = (folder / name).resolve()
    if folder != target and folder not in target.parents:
        raise ValueError(f"output name {name!r} would leave the output folder {folder}")
    return target
