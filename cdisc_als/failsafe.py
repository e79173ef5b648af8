"""How the command line fails: one line on stderr, a log file for the unexpected, a documented exit status.

Exit status of every verb (README "Exit status"):
  0    finished; no error in the data
  1    finished; errors in the data (findings of severity error, validation errors, compare
       differences, reconciliation differences), every one listed in the findings files
  2    could not run: bad command line, study spec, mapping spec, metadata or catalogue, an unreadable
       or damaged input, an output path outside --out, or an internal error (its traceback in a log
       file, see cdisc_als.io.log_dir)
  130  interrupted by SIGINT (Ctrl-C);  143  stopped by SIGTERM

Problems the user can fix (the project's own error classes, all ValueError subclasses, and files that
cannot be opened) print their message. Anything else is an internal error: the traceback goes to a log
file and one line points to it. Outputs are never left ambiguous: `run` keeps the previous output and
moves the partial one to <out>.incomplete/ (outputs.staged_output); the other verbs write
INCOMPLETE.txt into their output folder when they stop early, and remove it when they finish.
"""

from __future__ import annotations

import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cdisc_als.io import atomic_write_text, confine_writes, write_error_log

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR, EXIT_SIGINT, EXIT_SIGTERM = 0, 1, 2, 130, 143
INCOMPLETE = "INCOMPLETE.txt"


class UsageError(ValueError):
    """The command line asks for something that cannot be done (a missing option, a size over a limit)."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; `signal_name` says which."""

    def __init__(self, signal_name: str = "SIGINT"):
        super().__init__(signal_name)
        self.signal_name = signal_name


@contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """SIGTERM raises Interrupted like Ctrl-C raises KeyboardInterrupt, so both unwind through the
    same cleanup (staged outputs moved aside, markers written)."""
    def on_term(signum, frame):
        raise Interrupted("SIGTERM")

    try:
        previous = signal.signal(signal.SIGTERM, on_term)
    except ValueError:          # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def is_user_error(exc: BaseException) -> bool:
    """The project's own error classes and files that cannot be opened: the message is enough."""
    return isinstance(exc, OSError) or (isinstance(exc, ValueError) and type(exc).__module__.startswith("cdisc_als"))


def mark_incomplete(folders: list[Path], reason: str) -> None:
    for folder in folders:
        if folder.is_dir():
            try:
                atomic_write_text(folder / INCOMPLETE, "This output is INCOMPLETE: the command stopped before it "
                                  f"finished.\nReason: {reason}\n")
            except (OSError, ValueError):
                pass


def clear_incomplete(folders: list[Path]) -> None:
    for folder in folders:
        (folder / INCOMPLETE).unlink(missing_ok=True)


def run_guarded(verb: str, func: Callable[[], int], outputs: list[Path] | None, staged: Path | None = None) -> int:
    """Run a verb's function with writes confined to `outputs` (None: the verb confines its own
    writes, as `run` does in its staging folder, whose target is `staged`) and every failure turned
    into a message and an exit status."""
    folders = outputs or []
    say = _printer(verb)
    try:
        with signals_as_interrupts():
            if outputs is None:
                return int(func())
            for folder in folders:
                if folder.exists() and not folder.is_dir():
                    raise UsageError(f"output folder {folder} exists and is not a folder")
            with confine_writes(*folders):
                clear_incomplete(folders)
                return int(func())
    except KeyboardInterrupt as exc:
        name = exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"
        mark_incomplete(folders, f"interrupted by {name}")
        say(f"interrupted by {name}; " + _where(folders, staged))
        return EXIT_SIGTERM if name == "SIGTERM" else EXIT_SIGINT
    except Exception as exc:  # noqa: BLE001 - the one place that turns any failure into an exit status
        if is_user_error(exc):
            mark_incomplete(folders, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            say(str(exc) or type(exc).__name__)
            return EXIT_ERROR
        log = write_error_log(f"cdisc-als {verb}: {' '.join(sys.argv[1:])}\n\n{traceback.format_exc()}")
        first = (str(exc).splitlines() or [""])[0][:200]
        mark_incomplete(folders, f"internal error {type(exc).__name__}: {first} (traceback in {log})")
        _note_log(staged, log)
        say(f"internal error ({type(exc).__name__}: {first}); the traceback is in {log}. Please report it "
            "with that file. " + _where(folders, staged))
        return EXIT_ERROR


def _note_log(staged: Path | None, log: Path) -> None:
    """Add the log's path to the INCOMPLETE.txt of a staged run's partial output."""
    marker = staged.parent / f"{staged.name}.incomplete" / INCOMPLETE if staged is not None else None
    if marker is not None and marker.is_file():
        with confine_writes(marker.parent):
            atomic_write_text(marker, marker.read_text(encoding="utf-8") + f"Traceback: {log}\n")


def _where(folders: list[Path], staged: Path | None) -> str:
    if staged is not None:
        partial = staged.parent / f"{staged.name}.incomplete"
        kept = f"{staged} is unchanged"
        return f"{kept}; the partial output is in {partial} (INCOMPLETE.txt)" if partial.is_dir() else kept
    existing = [str(f) for f in folders if f.is_dir()]
    return (f"outputs in {', '.join(existing)} are incomplete (INCOMPLETE.txt)" if existing
            else "no output was written")


def _printer(verb: str) -> Callable[[str], None]:
    def say(message: str) -> None:
        print(f"cdisc-als {verb}: {message}", file=sys.stderr, flush=True)
    return say
