"""One `alembic upgrade` while the load runs, and when each of its revisions started and ended.

The upgrade is a process of its own, as the entrypoint runs it: Alembic's command line, the
project's alembic.ini and env.py, and the production settings of the environment (lock and
statement timeouts, retries, the runner lock). On the benchmark's clock:

- a revision starts when Alembic's `Running upgrade A -> B, ...` line for it arrives: Alembic
  logs it just before it runs B;
- it ends when B appears in alembic_version, polled every 10 ms on a connection of its own
  (env.py runs one transaction per revision, and that transaction records B as it commits), or
  when the next revision starts, if that comes first. The log has no line at the end of a
  revision, and the end of the process would add the interpreter's exit to the last revision
  of each release.
"""

import asyncio
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import asyncpg

from bench.paths import ROOT

_RUNNING = re.compile(r"Running upgrade .*? -> (?P<revision>[^,\s]+)")
# app.schema.runtime logs "...; retrying in 2s" when it retries after a lock timeout.
_RETRY = "; retrying in "
POLL_SECONDS = 0.01


@dataclass(frozen=True)
class RevisionRun:
    revision: str
    started: float  # on the benchmark's clock, seconds
    ended: float  # committed; the process's exit if it never was

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass(frozen=True)
class UpgradeRun:
    target: str
    started: float  # the process was started
    ended: float  # the process exited
    revisions: list[RevisionRun]
    retries: int  # lock timeouts that app.schema.runtime retried
    failure: str | None  # the last line of a failed upgrade; None if it succeeded

    @property
    def startup_seconds(self) -> float:
        """Interpreter, Alembic, env.py, connecting and the runner lock: before any revision."""
        return (self.revisions[0].started if self.revisions else self.ended) - self.started


class _VersionWatch:
    """When each revision first appeared in alembic_version."""

    def __init__(self, connection: asyncpg.Connection, clock: Callable[[], float]) -> None:
        self.connection = connection
        self.clock = clock
        self.committed: dict[str, float] = {}
        self._seen: set[str] = set()

    async def poll(self) -> None:
        rows = await self.connection.fetch("SELECT version_num FROM alembic_version")
        at = self.clock()  # the commit happened since the previous poll
        current = {row["version_num"] for row in rows}
        for revision in current - self._seen:
            self.committed.setdefault(revision, at)
        self._seen = current

    async def run(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            await self.poll()


def revision_runs(
    lines: Sequence[tuple[float, str]], committed: Mapping[str, float], ended: float
) -> list[RevisionRun]:
    """Each revision's span: from its first `Running upgrade` line (a retried revision starts
    twice) to its commit, or to the next revision's start if the poll missed the commit (the
    next revision replaced it within 10 ms): revisions run one after the other."""
    starts: dict[str, float] = {}
    for at, line in lines:
        if match := _RUNNING.search(line):
            starts.setdefault(match["revision"], at)
    next_starts = [*list(starts.values())[1:], ended]
    return [
        RevisionRun(revision, at, max(at, min(committed.get(revision, ended), until)))
        for (revision, at), until in zip(starts.items(), next_starts, strict=True)
    ]


async def upgrade(
    command: Sequence[str],
    target: str,
    env: Mapping[str, str],
    clock: Callable[[], float],
    dsn: str,
) -> UpgradeRun:
    """`command upgrade target`; command: the alembic CLI, or bench.migrations.naive's."""
    connection = await asyncpg.connect(dsn)
    try:
        watch = _VersionWatch(connection, clock)
        await watch.poll()  # what is there already
        watch.committed.clear()
        started = clock()
        process = await asyncio.create_subprocess_exec(
            *command,
            "upgrade",
            target,
            cwd=ROOT,
            env=dict(env),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        watching = asyncio.create_task(watch.run())
        assert process.stdout is not None
        lines: list[tuple[float, str]] = []
        async for raw in process.stdout:
            lines.append((clock(), raw.decode(errors="replace").rstrip()))
        returncode = await process.wait()
        ended = clock()
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        await watch.poll()
    finally:
        await connection.close()

    failure = None
    if returncode != 0:
        failure = next((line for _, line in reversed(lines) if line.strip()), "no output")
    return UpgradeRun(
        target=target,
        started=started,
        ended=ended,
        revisions=revision_runs(lines, watch.committed, ended),
        retries=sum(_RETRY in line for _, line in lines),
        failure=failure,
    )
