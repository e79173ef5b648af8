"""Stages that depend on nothing the caller is still doing, run in a second process.

`cdisc-als run` has two: once SDTM is written, its validation and export need only the SDTM files while
the caller builds ADaM; once ADaM is written, the tables, listings and figures need only the ADaM files,
while the ADaM validation and export and the reviewer's guides need nothing from the TLFs. With two or
more CPUs they run, one after the other, in a second process beside the caller (concurrent.futures with
the 'spawn' start method: a fresh interpreter, nothing inherited but the arguments); with one CPU, or
CDISC_ALS_WORKERS=1, each runs in this process when its result is asked for. The outputs are the same
either way: a stage writes the same files from the same inputs. Failures come back as the stage's own
exception when its result is asked for; when the caller fails or is interrupted first, the second process
is stopped.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

WORKERS_VARIABLE = "CDISC_ALS_WORKERS"


def worker_count() -> int:
    """Processes a run may use: CDISC_ALS_WORKERS when it is a positive whole number, else the CPUs this
    process may run on."""
    text = os.environ.get(WORKERS_VARIABLE, "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                       # not Linux
        return os.cpu_count() or 1


class StageError(ValueError):
    """A problem the user can fix (a ValueError of the stage, e.g. a catalogue that does not fit the data)
    whose own exception class cannot travel between processes: its message, as a ValueError."""


class StageFailure(RuntimeError):
    """An unexpected failure of the stage whose exception cannot travel between processes."""


class SecondProcessLost(ValueError):
    """The second process ended before its stage did: the system stopped it, most often the kernel's
    out-of-memory killer. Not a bug to report: the message says what to do."""


class _Job:
    """A stage submitted to the second process: its result, or why the process could not give one."""

    def __init__(self, future: Future, name: str):
        self._future, self._name = future, name

    def result(self) -> Any:
        try:
            return self._future.result()
        except BrokenProcessPool:
            raise _lost(self._name) from None


def _lost(name: str) -> SecondProcessLost:
    return SecondProcessLost(
        f"the second process stopped before finishing {name}: the system ended it, most often for lack of "
        "memory (the two processes of a run hold their stages' datasets at once). Run again with "
        f"{WORKERS_VARIABLE}=1 to run every stage in one process, with less memory at once (docs/scale.md)")


def _travels(error: BaseException) -> bool:
    try:
        rebuilt = pickle.loads(pickle.dumps(error))
    except Exception:  # any failure to pickle or rebuild means it cannot cross the process boundary
        return False
    return type(rebuilt) is type(error) and str(rebuilt) == str(error)     # not garbled by its constructor


def _call_in_second_process(function: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """Run the stage; an exception that cannot be rebuilt in the caller's process (custom constructors)
    is replaced by one that can, with the same message (ValueErrors stay ValueErrors: exit status 2)."""
    try:
        return function(*args, **kwargs)
    except Exception as error:  # re-raised as is, or as an equivalent the caller can receive
        if _travels(error):
            raise
        kind = StageError if isinstance(error, ValueError) else StageFailure
        raise kind(str(error) if kind is StageError else f"{type(error).__name__}: {error}") from None


class Deferred:
    """The serial stand-in for a Future: the call runs when its result is first asked for."""

    def __init__(self, function: Callable[..., Any], args: tuple, kwargs: dict):
        self._call = (function, args, kwargs)
        self._done = False
        self._value: Any = None

    def result(self) -> Any:
        if not self._done:
            function, args, kwargs = self._call
            self._value, self._done = function(*args, **kwargs), True
        return self._value


class Background:
    """Stages submitted run one after another, in submission order, in one second process (or, with one
    worker, each in this process when its result is asked for)."""

    def __init__(self, workers: int):
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) if workers > 1 else None
        self._running = ""                       # the stage submitted last

    @property
    def parallel(self) -> bool:
        return self._pool is not None

    def submit(self, function: Callable[..., Any], *args: Any, what: str = "", **kwargs: Any) -> _Job | Deferred:
        """Run function(*args, **kwargs) there (`what`: the stage in words, for the messages)."""
        if self._pool is None:
            return Deferred(function, args, kwargs)
        try:
            future = self._pool.submit(_call_in_second_process, function, args, kwargs)
        except BrokenProcessPool:                # it ended while running an earlier stage
            raise _lost(self._running or "its stage") from None
        self._running = what or getattr(function, "__name__", "its stage")
        return _Job(future, self._running)

    def close(self, failed: bool) -> None:
        if self._pool is None:
            return
        if failed:                               # nobody will ask for the result: stop the second process
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def background(workers: int | None = None) -> Iterator[Background]:
    runner = Background(worker_count() if workers is None else workers)
    failed = True
    try:
        yield runner
        failed = False
    finally:
        runner.close(failed)
