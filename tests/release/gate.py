"""The release gate: does this tree's schema change keep the previous release working?

    uv run python -m tests.release.gate v1.4.0       # the previous release: a tag or commit

In a rolling deploy the new release's entrypoint migrates the database while the previous
release still serves, so every revision the new release ships must keep the previous release
working, and the new release must work on the result. The gate runs exactly that:

1. the previous release, built from git with its own locked dependencies, is deployed on a fresh
   database: its entrypoint migrates with its revisions, then serves; its API tests run against
   it (they put data in, and show the previous release works on its own schema);
2. this tree's entrypoint starts on the same database: it runs the revisions it would run in a
   deploy, then serves, beside the previous release's server;
3. the previous release's API tests run again, black-box over HTTP, against the previous
   release's code on the new schema; then this tree's API tests against this tree's server.

Exit status 0 when both pass. Otherwise the first line names the revisions this tree applied
and the previous release's failing tests (or what else failed), then the details follow.
Databases are made on TEST_POSTGRES_URL's server (default: the local PostgreSQL) and dropped.
What the gate cannot see: a change in behaviour the previous release's tests never covered.
"""

import argparse
import asyncio
import sys
from collections.abc import Sequence

import httpx
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from tests.release.releases import (
    Release,
    ReleaseError,
    TestRun,
    api_tests,
    checked_out,
    serving,
    this_tree,
)
from tests.support.paths import ROOT
from tests.support.processes import Process
from tests.support.throwaway import Server, connect_to, server_url

EXIT_FAILED = 1
EXIT_CANNOT_RUN = 2


class GateFailedError(Exception):
    """The gate ran and the release failed it: the first line, then the details."""

    def __init__(self, line: str, details: str = "") -> None:
        super().__init__(line)
        self.line, self.details = line, details


async def run_gate(previous_ref: str, server: Server) -> str:
    """Run the gate; the line that says it passed, or GateFailedError."""
    new = this_tree()
    with checked_out(previous_ref) as old:
        async with server.temporary_database("gate") as url:
            with serving(old, url) as old_server:
                await _ready(old, old_server)
                before = api_tests(old, old_server.base_url)
                if not before.ok:
                    raise GateFailedError(
                        f"{old}'s own API tests fail on its own schema ({_failures(before)}): "
                        "the gate needs a previous release that passes them",
                        before.output,
                    )
                started_at = await _heads(url)
                with serving(new, url) as new_server:
                    await _ready(new, new_server)
                    revisions = _applied(started_at, await _heads(url))
                    after = api_tests(old, old_server.base_url)
                    if not after.ok:
                        raise GateFailedError(
                            f"revision(s) {revisions} broke {old}: {_failures(after)}",
                            after.output,
                        )
                    own = api_tests(new, new_server.base_url)
                    if not own.ok:
                        raise GateFailedError(
                            f"{new}'s API tests fail on the migrated database "
                            f"(revisions {revisions}): {_failures(own)}",
                            own.output,
                        )
    return (
        f"{old}'s {after.passed} API tests pass on the schema of revision(s) {revisions}, "
        f"and {new}'s {own.passed} on the same database"
    )


async def _ready(release: Release, server: Process) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        try:
            await server.wait_until_ready(client)
        except AssertionError:
            raise GateFailedError(
                f"{release}'s entrypoint did not become ready", server.output[-5000:]
            ) from None


async def _heads(url: URL) -> set[str]:
    connection = await connect_to(url)
    try:
        rows = await connection.fetch("SELECT version_num FROM alembic_version")
    finally:
        await connection.close()
    return {row["version_num"] for row in rows}


def _applied(before: set[str], after: set[str]) -> str:
    """The revisions between the previous release's heads and the new ones, oldest first."""
    scripts = ScriptDirectory(str(ROOT / "alembic"))
    known = {script.revision for script in scripts.walk_revisions()}
    if after == before:
        return "(none)"
    base = tuple(sorted(before & known))
    revisions = [
        script.revision
        for script in scripts.iterate_revisions(tuple(sorted(after)), base or "base")
        if script.revision not in before
    ]
    return ", ".join(reversed(revisions)) or ", ".join(sorted(after))


def _failures(run: TestRun) -> str:
    if not run.failed:
        return "no test ran"
    shown = ", ".join(run.failed[:3])
    return shown + (f" and {len(run.failed) - 3} more" if len(run.failed) > 3 else "")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.release.gate", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("previous", help="the previous release: a git tag or commit")
    args = parser.parse_args(argv)
    server = Server(server_url(), prefix="gate")
    try:
        if (problem := asyncio.run(server.problem())) is not None:
            where = server.url.render_as_string(hide_password=True)
            raise ReleaseError(f"no PostgreSQL at {where} ({problem}); set TEST_POSTGRES_URL")
        line = asyncio.run(run_gate(args.previous, server))
    except ReleaseError as exc:
        print(f"release gate: cannot run: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except GateFailedError as failure:
        print(f"release gate: FAILED: {failure.line}", file=sys.stderr)
        if failure.details:
            print(f"\n{failure.details.strip()}", file=sys.stderr)
        return EXIT_FAILED
    print(f"release gate: passed: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
