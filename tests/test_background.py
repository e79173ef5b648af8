"""A stage in a second process (cdisc_als.background): same result as in this process, its own exception
when it fails, the serial stand-in runs only when asked, and the worker count from CDISC_ALS_WORKERS."""

from __future__ import annotations

import os
import time

import pytest

from cdisc_als.background import background, worker_count


def _square_and_pid(value: int) -> tuple[int, int]:
    return value * value, os.getpid()


def _fails(message: str) -> None:
    raise ValueError(message)


class _SpecProblem(ValueError):
    def __init__(self, problems: list[str]):        # a constructor pickle cannot call with the message
        self.problems = problems
        super().__init__("; ".join(problems))


def _fails_with_a_custom_error() -> None:
    raise _SpecProblem(["output T9: unknown variable WEIGHT", "output T9: no rows"])


def test_a_stage_runs_in_a_second_process_when_there_are_two_workers():
    with background(workers=2) as side:
        assert side.parallel
        value, pid = side.submit(_square_and_pid, 7).result()
    assert value == 49 and pid != os.getpid()


def test_with_one_worker_the_stage_runs_here_and_only_when_its_result_is_asked_for():
    calls = []
    with background(workers=1) as side:
        job = side.submit(lambda: calls.append("ran") or len(calls))
        assert not side.parallel and calls == []
        assert job.result() == 1 and job.result() == 1 and calls == ["ran"]


@pytest.mark.parametrize("workers", [1, 2])
def test_the_stage_fails_with_its_own_exception(workers):
    with pytest.raises(ValueError, match="bad catalogue"), background(workers=workers) as side:
        side.submit(_fails, "bad catalogue").result()


def test_an_error_that_cannot_cross_processes_arrives_as_a_value_error_with_its_message():
    with pytest.raises(ValueError, match="output T9: unknown variable WEIGHT; output T9: no rows"), \
            background(workers=2) as side:
        side.submit(_fails_with_a_custom_error).result()


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def test_a_failure_of_the_caller_stops_the_second_process():
    start = time.perf_counter()
    with pytest.raises(RuntimeError), background(workers=2) as side:
        side.submit(_square_and_pid, 3).result()          # the second process is up
        side.submit(_sleep, 60)
        raise RuntimeError("the caller failed")
    assert time.perf_counter() - start < 30, "the 60-second stage was waited for instead of stopped"


@pytest.mark.parametrize(("text", "expected"), [("1", 1), ("3", 3), ("0", None), ("two", None), ("-2", None)])
def test_worker_count_from_the_environment(monkeypatch, text, expected):
    monkeypatch.setenv("CDISC_ALS_WORKERS", text)
    fallback = len(os.sched_getaffinity(0))
    assert worker_count() == (expected if expected is not None else fallback)


def _killed() -> None:
    import signal

    os.kill(os.getpid(), signal.SIGKILL)             # as the kernel's out-of-memory killer ends a process


def test_a_second_process_the_system_ends_gives_a_message_with_what_to_do():
    from cdisc_als.background import SecondProcessLost
    from cdisc_als.failsafe import is_user_error

    with pytest.raises(SecondProcessLost) as raised, background(workers=2) as side:
        side.submit(_killed, what="the tables, listings and figures").result()
    message = str(raised.value)
    assert "before finishing the tables, listings and figures" in message and "CDISC_ALS_WORKERS=1" in message
    assert is_user_error(raised.value)              # a message and exit status 2, no traceback to report


def test_a_stage_submitted_after_the_second_process_was_ended_names_the_stage_that_was_lost():
    from cdisc_als.background import SecondProcessLost

    with pytest.raises(SecondProcessLost, match="before finishing the SDTM checks"), \
            background(workers=2) as side:
        lost = side.submit(_killed, what="the SDTM checks")
        with pytest.raises(SecondProcessLost):
            lost.result()                               # the process is gone before the next stage is submitted
        side.submit(_square_and_pid, 3, what="the TLFs")
