"""The suite cannot hang on the processes it starts: each tree is ended whole, each wait bounded.

A command such as scripts/run-local.sh is a tree (bash -> uv -> bash -> uvicorn). These tests
start trees whose leaves outlive their parents and hold the output open, as an orphaned uvicorn
would, and show that the helpers end all of them, and promptly.
"""

import os
import signal
import time
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.processes import Process, living_members, run_to_end, started

# A parent that starts two grandchildren and waits; the grandchildren keep stdout open.
TREE = ["bash", "-c", "sleep 313 & sleep 313 & echo started; wait"]


def alive(process_group: int) -> bool:
    return bool(living_members(process_group))


def test_a_tree_left_running_by_a_failing_test_is_ended_whole() -> None:
    def failing_test() -> int:
        with started(TREE, env=dict(os.environ)) as process:
            deadline = time.monotonic() + 10
            while "started" not in process.output:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            outputs.append(process)
            raise RuntimeError("the test failed here")

    outputs: list[Process] = []
    with pytest.raises(RuntimeError):
        failing_test()

    [process] = outputs
    assert not alive(process.pid)
    assert process.output == "started\n"  # kept after the log file went


def test_a_tree_that_ignores_sigterm_is_killed_after_the_grace_period() -> None:
    stubborn = ["bash", "-c", "trap '' TERM; sleep 300 & wait"]
    started_at = time.monotonic()
    with started(stubborn, env=dict(os.environ)) as process:
        time.sleep(0.2)
        group = process.pid

    assert not alive(group)
    assert time.monotonic() - started_at < 15


def test_a_command_that_outlives_its_timeout_fails_promptly_and_leaves_nothing() -> None:
    started_at = time.monotonic()
    with pytest.raises(AssertionError, match="did not finish within 1s"):
        run_to_end(TREE, cwd=ROOT, env=dict(os.environ), timeout=1)

    assert time.monotonic() - started_at < 15
    leftovers = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _sleeping(p)]
    assert leftovers == []


def test_a_wait_that_runs_out_names_the_command_and_shows_its_output() -> None:
    with started(TREE, env=dict(os.environ)) as process, pytest.raises(AssertionError) as failed:
        process.wait(timeout=0.5)

    assert "still running after 0.5s" in str(failed.value)
    assert TREE[-1] in str(failed.value)


def _sleeping(process: Path) -> bool:
    """Whether /proc/<pid> is one of TREE's grandchildren."""
    try:
        return (process / "cmdline").read_bytes() == b"sleep\x00313\x00"
    except OSError:
        return False


def test_signals_reach_the_first_process_only() -> None:
    """`signal` stands for `docker stop`: SIGTERM to PID 1, which passes it on or not."""
    with started(
        ["bash", "-c", "trap 'echo got it; exit 3' TERM; sleep 300 & wait"], env=dict(os.environ)
    ) as process:
        time.sleep(0.3)
        process.signal(signal.SIGTERM)
        status = process.wait(timeout=10)

    assert status == 3
    assert "got it" in process.output
