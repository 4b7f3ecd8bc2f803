"""Real processes the tests start: each in a process group of its own, every wait bounded.

A command such as `scripts/run-local.sh` is a tree (bash -> uv -> bash -> uvicorn), and killing
only its first process leaves the rest running, holding the ports and any pipe they inherited.
So every process here starts a session of its own, writes its output to a file (never to a pipe
the test would have to drain), and is ended as a whole group when the test is done with it,
whatever happened in between. A wait that runs out raises AssertionError with the output so far.
"""

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.engine import URL

from tests.support.paths import ROOT, subprocess_env
from tests.support.throwaway import free_port
from tests.support.waiting import eventually

ENTRYPOINT = ROOT / "entrypoint.sh"
STARTUP_DEADLINE_SECONDS = 30
# After SIGTERM to the group, how long its processes get before SIGKILL.
STOP_GRACE_SECONDS = 5


@dataclass
class Process:
    popen: subprocess.Popen[bytes]
    log: Path
    command: str
    # What the process wrote, kept once it is stopped and its log file is gone.
    final_output: str | None = None
    # Where it answers, for a server.
    base_url: str = ""

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    @property
    def output(self) -> str:
        """Standard output and error so far, interleaved as written."""
        if self.final_output is not None:
            return self.final_output
        return self.log.read_text(errors="replace")

    def signal(self, number: signal.Signals) -> None:
        """Send `number` to the first process only, as `docker stop` signals PID 1."""
        self.popen.send_signal(number)

    def wait(self, timeout: float) -> int:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.command} still running after {timeout:g}s:\n{self.output[-3000:]}"
            ) from None

    async def finished(self, within: float) -> int:
        """`wait` without blocking the event loop (for tests that serve connections meanwhile)."""
        await eventually(lambda: self.popen.poll() is not None, f"{self.command} to exit", within)
        return self.popen.returncode

    async def wait_until_ready(self, client: httpx.AsyncClient) -> None:
        await self.wait_for_200(client, "/health/ready")

    async def wait_for_200(self, client: httpx.AsyncClient, path: str) -> None:
        """Until `path` answers 200 on `base_url` (for a process that serves HTTP)."""

        async def answers() -> bool:
            if self.popen.poll() is not None:
                raise AssertionError(f"exited early:\n{self.output}")
            try:
                return (await client.get(path, timeout=1)).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(answers, f"{path} to answer 200", STARTUP_DEADLINE_SECONDS)

    def stop(self) -> None:
        """End the whole process group: SIGTERM, then SIGKILL to what is left after a grace
        period; return once none of it runs any more, and the first process is reaped."""
        for number in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.popen.pid, number)
            except ProcessLookupError:  # the whole group has exited
                break
            if _group_ends(self.popen, STOP_GRACE_SECONDS):
                break
        self.popen.wait(timeout=STOP_GRACE_SECONDS)


def living_members(group: int) -> list[int]:
    """The processes of process group `group` that still run. A killed orphan that its new
    parent has not reaped yet (a zombie) runs no more, and holds nothing open."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended meanwhile
            continue
        # "pid (command) state ppid pgrp ...": the command may hold spaces and parentheses.
        state, _, process_group = stat[stat.rindex(")") + 2 :].split()[:3]
        if int(process_group) == group and state != "Z":
            members.append(int(entry.name))
    return members


def _group_ends(popen: subprocess.Popen[bytes], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        popen.poll()  # reap the leader, so that only live members keep the group
        if not living_members(popen.pid):
            return True
        time.sleep(0.05)
    return False


@contextmanager
def started(
    command: Sequence[str | Path],
    *,
    env: Mapping[str, str],
    cwd: Path = ROOT,
    stdin: str | None = None,
) -> Iterator[Process]:
    """Start `command` in a session of its own; end its whole group when the block ends."""
    with tempfile.TemporaryDirectory(prefix="process-") as scratch:
        log = Path(scratch) / "output.log"
        process = _spawn(command, cwd, env, stdin, log, None)
        popen = process.popen
        try:
            if stdin is not None and popen.stdin is not None:
                with popen.stdin:
                    popen.stdin.write(stdin.encode())
            yield process
        finally:
            process.stop()
            process.final_output = process.output


def _spawn(
    command: Sequence[str | Path],
    cwd: Path,
    env: Mapping[str, str],
    stdin: str | None,
    out: Path,
    err: Path | None,
) -> Process:
    """`command` in a session (and so a process group) of its own, writing to `out` (and to
    `err`, or interleaved into `out`)."""
    with out.open("wb") as stdout, (err or out).open("ab") as stderr:
        popen = subprocess.Popen(
            [str(part) for part in command],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr if err is not None else subprocess.STDOUT,
            start_new_session=True,
        )
    return Process(popen, out, " ".join(str(part) for part in command))


def run_command(
    command: Sequence[str | Path],
    *,
    url: URL | None = None,
    cwd: Path = ROOT,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """A command as a user runs it, to its end: the project's tools first on PATH, DATABASE_URL
    set to `url` (or unset), `env` added. Its whole tree is ended if it outlives `timeout`."""
    environment = subprocess_env(url, **(env or {}))
    return run_to_end(command, cwd=cwd, env=environment, stdin=stdin, timeout=timeout)


def run_to_end(
    command: Sequence[str | Path],
    *,
    cwd: Path,
    env: Mapping[str, str],
    stdin: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`command` in exactly the environment `env`, in a session of its own, its output in files;
    its whole tree is ended if it outlives `timeout`, which fails the test."""
    with tempfile.TemporaryDirectory(prefix="command-") as scratch:
        out, err = Path(scratch) / "stdout", Path(scratch) / "stderr"
        process = _spawn(command, cwd, env, stdin, out, err)
        popen = process.popen
        try:
            popen.communicate(stdin.encode() if stdin is not None else None, timeout=timeout)
        except subprocess.TimeoutExpired:
            process.stop()
            raise AssertionError(
                f"{process.command} did not finish within {timeout:g}s:\n"
                f"{out.read_text(errors='replace')[-3000:]}{err.read_text(errors='replace')[-3000:]}"
            ) from None
        finally:
            if popen.poll() is None:
                process.stop()
        return subprocess.CompletedProcess(
            popen.args,
            popen.returncode,
            out.read_text(errors="replace"),
            err.read_text(errors="replace"),
        )


@contextmanager
def entrypoint(
    url: URL | str, command: Path = ENTRYPOINT, env: Mapping[str, str] | None = None
) -> Iterator[Process]:
    """entrypoint.sh (or `command`) serving on a free port, against the database at `url`."""
    port = free_port()
    database_url = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    environment = subprocess_env(
        None, HOST="127.0.0.1", PORT=str(port), DATABASE_URL=database_url, **(env or {})
    )
    with started([command], env=environment) as process:
        process.base_url = f"http://127.0.0.1:{port}"
        yield process
