"""What a reader would decode from an XPT file that this run has just written, computed from the frame (or the
parts) it was written from instead of from the file's bytes: handed to the read cache (read_cache.py) so that
the file's first reader does not decode it again, or, for a file too big to keep, the writer's note on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_als.dataset_file import DatasetFile
from cdisc_als.xpt_reader import CodedText, KeptDataset, _coded_text, _numbered_by_first_appearance
from cdisc_als.xpt_structure import xpt_layout


def keep_written(path: Path, headers: bytes, frame: pd.DataFrame | list[pd.DataFrame], names: list[str]) -> None:
    """Inside read_cache.shared_reads(): keep what reading the file just written from `frame` (a frame, or the
    parts it was written from; its columns `names`, in the file's order) would decode (kept_as_read),
    so that its first reader does not decode it again. Nothing is built when even its least size (8 bytes per
    number, 1 per text code) is more than the cache holds: the cache would refuse it; the writer's note on
    the file is kept instead (read_cache.WrittenNote)."""
    from cdisc_als.columnar import stack_parts
    from cdisc_als.read_cache import active_cache

    cache = active_cache()
    if cache is None:
        return
    parts = [frame] if isinstance(frame, pd.DataFrame) else list(frame)
    if sum(least_kept_bytes(part, names) for part in parts) > cache.limit:
        cache.note(path, written_note_of(headers, path, parts, names))
        return
    whole = parts[0] if len(parts) == 1 else stack_parts([part[names] for part in parts])
    if (kept := kept_as_read(path, headers, whole, names)) is not None:
        cache.put(path, kept)


def written_note_of(headers: bytes, path: Path, parts: list[pd.DataFrame], names: list[str]):
    """The note on a file just written from these columns of the frame or its parts (kept_as_read's
    arguments): each text column's values as a reader decodes them (trailing blanks removed) and their counts,
    in order of first appearance."""
    from cdisc_als.read_cache import WrittenNote

    layout = xpt_layout(headers, path, len(headers), check_text=False)
    counts: dict[str, dict[str, int]] = {}
    for col, name in zip(layout.columns, names, strict=True):
        if col.type == "Char":
            counts[col.name] = {}
            for part in parts:
                codes, texts = read_back_text(part[name])
                per_text = np.bincount(codes, minlength=len(texts)).tolist()
                for text, count in zip(texts.tolist(), per_text, strict=True):
                    if count:
                        counts[col.name][text] = counts[col.name].get(text, 0) + count
    return WrittenNote(counts)


def read_back_text(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, texts) of a text column as a reader of the written file decodes it: missing as '', trailing
    blanks removed, values equal once stripped sharing one code (not numbered by first appearance when
    stripping merged two values)."""
    from cdisc_als.export.xpt import distinct_text

    codes, values = distinct_text(series)
    distinct, texts = pd.factorize(np.array([v.rstrip(" ") for v in values], dtype=object))
    return distinct[codes], np.asarray(texts, dtype=object)


def least_kept_bytes(frame: pd.DataFrame, names: list[str]) -> int:
    """A lower bound of KeptDataset.nbytes for these columns of the frame: 8 bytes per number, 1 per text code."""
    numbers = sum(1 for name in names if frame[name].dtype.kind in "fiub")
    return len(frame) * (8 * numbers + (len(names) - numbers))


def kept_as_read(path: Path, headers: bytes, frame: pd.DataFrame, names: list[str]) -> KeptDataset | None:
    """What reading back the file just written from the columns `names` of `frame` would decode (`headers`:
    the file's header records, whose variables are those columns in order, names upper-cased), built from
    the frame instead of the file's bytes: the same variables, numbers (every double the writer accepts
    is exact in IBM double precision; -0 reads as 0) and texts (trailing blanks removed, numbered in
    order of first appearance). None whenever the reader could decode anything else: no records, a
    number shorter than 8 bytes, a NUL in a text (the reader refuses the file), or a last record of
    blanks only (the reader takes it for padding)."""
    from cdisc_als.export.xpt import ibm_from_ieee

    layout = xpt_layout(headers, path, len(headers), check_text=False)
    if not len(frame) or any(c.type == "Num" and c.length != 8 for c in layout.columns):
        return None
    data: dict[str, np.ndarray | CodedText] = {}
    last_blank = True
    for col, name in zip(layout.columns, names, strict=True):
        if col.type == "Num":
            numbers = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)
            data[col.name] = np.where(numbers == 0, 0.0, numbers)
            last_blank = last_blank and bool((ibm_from_ieee(numbers[-1:]) == 0x20).all())
            continue
        merged, texts = read_back_text(frame[name])
        if any("\x00" in v for v in texts.tolist()):
            return None
        if not _numbered_by_first_appearance(merged):
            merged, order = pd.factorize(merged)
            texts = texts[order]
        coded = data[col.name] = _coded_text(merged, texts.tolist())
        last_blank = last_blank and coded.texts[coded.codes[-1]] == ""
    if last_blank:
        return None
    return KeptDataset(DatasetFile(path, layout.name.upper(), layout.label, list(layout.columns), pd.DataFrame(), [],
                           "xpt"), data)
