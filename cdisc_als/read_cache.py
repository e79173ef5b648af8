"""Within one `cdisc-als run`, a dataset file that several stages read is decoded once.

The stages talk through files (SDTM XPT -> ADaM, validation, define.xml, Dataset-JSON, guides; ADaM
XPT -> validation, export, guides, TLF), so the same file is read four or five times in a run. Inside
`shared_reads()`, the XPT reader keeps what it decoded, keyed by the file's path, size, modification
time and inode (a file rewritten since is read again), and hands every later reader a copy (so no
stage can change what another reads). The XPT writer keeps there, too, what a reader of the file it has
just written would decode (xpt_written.kept_as_read), so a file written in the run is not decoded
at all when it fits; when it does not, the writer leaves a note instead (WrittenNote: the file is sound, and
each text column's values with their counts), so that a validation need not read it only to check it for
damage, nor the guides to count parameters. What is kept is compact (xpt_reader.KeptDataset: numbers as
arrays, each text column as the code of each record and the text of each code), bounded in memory (least
recently used dropped first): CDISC_ALS_READ_CACHE_MB, default 2048. Outside `shared_reads()` nothing
is kept.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cdisc_als.xpt_reader import KeptDataset


DEFAULT_LIMIT_MB = 2048
_ACTIVE: ContextVar[ReadCache | None] = ContextVar("read_cache", default=None)


class ReadCache:
    """Decoded datasets by file identity, at most `limit` bytes of column data."""

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0
        self.hits = self.misses = 0
        self._items: OrderedDict[tuple, tuple[KeptDataset, int]] = OrderedDict()
        self._notes: dict[str, tuple[tuple, WrittenNote]] = {}

    @staticmethod
    def key(path: Path) -> tuple:
        info = path.stat()
        return str(path.resolve()), info.st_size, info.st_mtime_ns, info.st_ino

    def get(self, path: Path) -> KeptDataset | None:
        key = self.key(path)
        if key not in self._items:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return self._items[key][0]

    def put(self, path: Path, dataset: KeptDataset) -> None:
        key = self.key(path)
        for old in [k for k in self._items if k[0] == key[0]]:      # an earlier version of the file
            self.used -= self._items.pop(old)[1]
        size = dataset.nbytes
        if size > self.limit:
            return
        self._items[key] = (dataset, size)
        self.used += size
        while self.used > self.limit:
            _, (_, dropped) = self._items.popitem(last=False)
            self.used -= dropped

    def note(self, path: Path, note: WrittenNote) -> None:
        """What the writer knows of a file it wrote that is too large to keep."""
        key = self.key(path)
        self._notes[key[0]] = (key, note)

    def noted(self, path: Path) -> WrittenNote | None:
        """The writer's note of the file, when the file is still the one it wrote."""
        entry = self._notes.get(str(Path(path).resolve()))
        try:
            return entry[1] if entry is not None and entry[0] == self.key(path) else None
        except OSError:
            return None

    def release(self, folder: Path) -> None:
        """Drop what was read from `folder` (its last reader is done)."""
        root = Path(folder).resolve()
        for key in [k for k in self._items if Path(k[0]).parent == root]:
            self.used -= self._items.pop(key)[1]
        for name in [n for n in self._notes if Path(n).parent == root]:
            del self._notes[name]

    def clear(self) -> None:
        self._items.clear()
        self._notes.clear()
        self.used = 0


@dataclass(frozen=True)
class WrittenNote:
    """A file the XPT writer wrote in this run and could not keep: no damage to find in it (it is unchanged
    since), and for each text column its values (trailing blanks removed) with their number of records."""

    counts: dict[str, dict[str, int]]


def written_note(path: Path) -> WrittenNote | None:
    """The note the writer left on this file in the active shared_reads() block, else None."""
    cache = active_cache()
    return cache.noted(path) if cache is not None else None


def limit_from_environment() -> int:
    text = os.environ.get("CDISC_ALS_READ_CACHE_MB", "")
    megabytes = int(text) if text.strip().isdigit() else DEFAULT_LIMIT_MB
    return megabytes * 1024 * 1024


@contextmanager
def shared_reads(limit: int | None = None) -> Iterator[ReadCache]:
    """Within the block, XPT files are decoded once (see the module docstring); everything kept is dropped
    when the block ends."""
    cache = ReadCache(limit_from_environment() if limit is None else limit)
    token = _ACTIVE.set(cache)
    try:
        yield cache
    finally:
        _ACTIVE.reset(token)
        cache.clear()


def active_cache() -> ReadCache | None:
    return _ACTIVE.get()
