"""File writing that never leaves a half-written output behind, never lands outside the output
folder, and never hands a spreadsheet a formula.

Every output file is written here (atomic_write_*, write_csv). Three guards:
  * atomic: a temporary file in the target folder, renamed over the target;
  * confined: inside `confine_writes(root, ...)` (the CLI sets it to --out for every verb) a path that
    resolves outside the roots, through '..' or a symbolic link, is refused with OutputPathError;
  * formulas neutralised: a text cell starting with = + - @ tab or carriage return that is not a
    number is written to CSV with a leading apostrophe (`neutralise_formula`, as OWASP recommends
    against CSV injection; numbers are never changed), and `protect_formulas` stores such XLSX cells
    as text with Excel's quotePrefix style (the exact text shows, nothing is evaluated).
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import yaml

from cdisc_als.columnar import factorized

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_WRITE_ROOTS: ContextVar[tuple[Path, ...] | None] = ContextVar("write_roots", default=None)


class OutputPathError(ValueError):
    """A write would land outside the output folder (an absolute name, '..', or a symbolic link)."""


@contextmanager
def confine_writes(*roots: str | Path) -> Iterator[tuple[Path, ...]]:
    """Within the block, every write through this module must resolve inside one of `roots` (symbolic
    links followed); nested blocks replace the roots."""
    resolved = tuple(Path(r).resolve() for r in roots)
    token = _WRITE_ROOTS.set(resolved)
    try:
        yield resolved
    finally:
        _WRITE_ROOTS.reset(token)


def check_inside_roots(path: str | Path) -> None:
    """Raise OutputPathError when path resolves outside the roots of `confine_writes` (no-op outside one)."""
    roots = _WRITE_ROOTS.get()
    if roots is None:
        return
    target = Path(path).resolve()
    if not any(target == root or root in target.parents for root in roots):
        shown = ", ".join(str(r) for r in roots) or "(none: this command writes no files)"
        raise OutputPathError(f"refusing to write {path}: it resolves to {target}, outside the output folder "
                              f"{shown} (a symbolic link or '..' in the path?)")


def neutralise_formula(value: object) -> object:
    """A text value a spreadsheet would evaluate (starting with = + - @ tab or CR, and not a number)
    with a leading apostrophe; anything else unchanged."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def is_formula_like(text: str) -> bool:
    """Starts with = + - @ tab or CR, is longer than that one character, and is not a number."""
    return len(text) > 1 and text.startswith(FORMULA_PREFIXES) and not NUMBER.fullmatch(text)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """neutralise_formula on every text cell (numeric columns untouched); the frame itself if nothing changes.
    Each distinct value is judged once; cells that are not formula-like keep their own objects."""
    changed: dict[int, np.ndarray] = {}
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if column.dtype != object:
            continue
        values = column.to_numpy()
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        formula = np.array([isinstance(u, str) and is_formula_like(u) for u in uniques], dtype=bool)
        if not formula.any():
            continue
        hits = np.flatnonzero((codes >= 0) & formula[np.maximum(codes, 0)])
        quoted = values.copy()
        quoted[hits] = ["'" + value for value in values[hits]]
        changed[position] = quoted
    if not changed:
        return frame
    out = frame.copy()
    for position, quoted in changed.items():
        out.isetitem(position, quoted)
    return out


def protect_formulas(book) -> int:
    """Every cell of an openpyxl workbook that holds a formula, or text starting with = + - @ tab or CR
    (numbers excepted), becomes a text cell with the quotePrefix style: Excel shows the exact text and
    never evaluates it, not even after the cell is edited. Returns the number of cells protected."""
    count = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if not isinstance(value, str):
                    continue
                if cell.data_type == "f" or is_formula_like(value):
                    cell.data_type = "s"
                    cell.quotePrefix = True
                    count += 1
    return count


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
    with atomic_writer(path) as handle:
        for chunk in chunks:
            handle.write(chunk)


@contextmanager
def atomic_writer(path: str | Path) -> Iterator[BinaryIO]:
    """A binary handle on a temporary file in the target folder; when the block ends without an exception
    the file gets the umask's mode and is renamed over path, otherwise it is removed."""
    path = Path(path)
    check_inside_roots(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """CSV with Unix line ends and no index, formulas neutralised, written atomically (byte-stable for
    the same frame)."""
    text = plain_csv_text(frame)
    atomic_write_text(path, text if text is not None
                      else neutralise_frame(frame).to_csv(index=False, lineterminator="\n"))


CSV_SPECIAL = (",", '"', "\n", "\r")


def plain_csv_text(frame: pd.DataFrame) -> str | None:
    """The text neutralise_frame(frame).to_csv(index=False, lineterminator='\\n') writes, built column-wise
    (formulas neutralised once per distinct value), for the common frame that needs no quoting: at least
    two columns with text names, each column float64 (numpy's shortest repr, missing blank), int64, or
    text with missing values; no name or value holding a comma, quote or line break. None for any other
    frame (the caller then uses to_csv)."""
    names = list(frame.columns)
    if len(names) < 2 or not all(isinstance(n, str) and not _needs_quotes(n) for n in names):
        return None
    cells = []
    for position in range(len(names)):
        values = frame.iloc[:, position].to_numpy()
        if values.dtype == np.float64:          # numpy's repr of each distinct number (-0.0 kept apart)
            codes, uniques = factorized(values)
            text = np.append(np.asarray(uniques, dtype=np.float64).astype(str).astype(object), "")[codes]
        elif values.dtype == np.int64:
            text = list(map(str, values.tolist()))
        elif values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            uniques = [neutralise_formula(u) for u in uniques]
            if _needs_quotes("\x00".join(uniques)):
                return None
            text = np.array([*uniques, ""], dtype=object)[codes] if len(values) else values
        else:
            return None
        cells.append(text)
    header = ",".join(names) + "\n"
    if not len(frame):
        return header
    return header + "\n".join(map(",".join, zip(*cells, strict=True))) + "\n"


def _needs_quotes(text: str) -> bool:
    return any(c in text for c in CSV_SPECIAL)


def safe_child(folder: str | Path, name: str) -> Path:
    """folder / name, refusing names that would escape the folder (absolute paths, '..')."""
    folder = Path(folder).resolve()
    target = (folder / name).resolve()
    if folder != target and folder not in target.parents:
        raise OutputPathError(f"output name {name!r} would leave the output folder {folder} (it resolves to "
                              f"{target}: a symbolic link or '..' in the path?)")
    return target


def log_dir() -> Path:
    """Where error logs go: $CDISC_ALS_LOG_DIR, else $XDG_STATE_HOME/cdisc-als (default
    ~/.local/state/cdisc-als)."""
    if os.environ.get("CDISC_ALS_LOG_DIR"):
        return Path(os.environ["CDISC_ALS_LOG_DIR"])
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "cdisc-als"


def write_error_log(text: str) -> Path:
    """Write an error log (a traceback) to log_dir(), or the temporary folder when that cannot be
    written; returns its path. Logs are not outputs: they are never confined to --out."""
    stamp = dt.datetime.now(tz=dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"cdisc-als-error-{stamp}-{os.getpid()}.log"
    for folder in (log_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    raise OSError("no folder for the error log could be written")


_YAML_CACHE: dict[tuple[str, int, int], object] = {}


def read_yaml(path: str | Path) -> object:
    """yaml.safe_load of a UTF-8 file; a file read before and unchanged since (same modification time
    and size) is parsed once per process. Returns a fresh copy each time. Raises OSError,
    UnicodeDecodeError or yaml.YAMLError like reading and parsing would."""
    path = Path(path)
    info = path.stat()
    key = (str(path.resolve()), info.st_mtime_ns, info.st_size)
    if key not in _YAML_CACHE:
        _YAML_CACHE[key] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return copy.deepcopy(_YAML_CACHE[key])
