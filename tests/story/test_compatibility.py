"""The rolling-deploy rule, release by release: after release N's revisions ran, both release N-1
(still serving) and release N (starting) work, and every row written so far reads back right.

The story is walked as it happened: each release's revisions run on a database holding the
rows earlier releases wrote, then the two live releases insert and update, including each
other's rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from tests.conftest import DatabaseFactory
from tests.story.releases import HEAD_RELEASE, RELEASES, Release, release
from tests.support import alembic, postgres


@dataclass
class Ledger:
    """What the releases wrote: the latest name and role of every user."""

    names: dict[int, str] = field(default_factory=dict)
    roles: dict[int, str] = field(default_factory=dict)
    serial: count[int] = field(default_factory=count)

    def next_name(self, writer: Release) -> str:
        return f"Name {next(self.serial)} by {writer}"


@pytest.fixture
async def story_database(fresh_database: DatabaseFactory) -> URL:
    return await fresh_database()


async def serve_side_by_side(url: URL, old: Release, new: Release, ledger: Ledger) -> None:
    """Both live releases insert a user, then each updates the other's user."""
    async with postgres.transaction(url) as connection:
        ids: dict[Release, int] = {}
        for writer in (old, new):
            name = ledger.next_name(writer)
            role = "admin" if "role" in writer.columns else None
            email = f"{name}@example.com".replace(" ", ".")
            ids[writer] = await writer.insert(connection, email, name, role)
            ledger.names[ids[writer]] = name
            ledger.roles[ids[writer]] = role or "member"
        for writer, other in ((old, new), (new, old)):
            name = ledger.next_name(writer)
            await writer.update(connection, ids[other], name)
            ledger.names[ids[other]] = name


async def every_row_reads_back(url: URL, reader: Release, ledger: Ledger) -> None:
    async with postgres.transaction(url) as connection:
        users = await reader.read_all(connection)
    assert set(users) == set(ledger.names), f"{reader}: rows lost or invented"
    for user_id, user in users.items():
        assert user["the_name"] == ledger.names[user_id], f"{reader} reads user {user_id}"
        if "role" in reader.columns:
            assert user["role"] == ledger.roles[user_id], f"{reader} reads user {user_id}"


async def walk_to(url: URL, last: Release, ledger: Ledger) -> None:
    """Deploy releases 1..last in turn, each one's revisions first, as the entrypoint does."""
    previous: Release | None = None
    for current in RELEASES[: last.number]:
        await alembic.upgrade(url, current.schema_revision)
        await serve_side_by_side(url, previous or current, current, ledger)
        previous = current


@pytest.mark.parametrize("new", RELEASES[1:], ids=str)
async def test_after_its_revisions_a_release_and_its_predecessor_both_work(
    story_database: URL, new: Release
) -> None:
    ledger = Ledger()
    await walk_to(story_database, new, ledger)
    old = release(new.number - 1)

    for reader in (old, new):
        await every_row_reads_back(story_database, reader, ledger)


async def test_the_last_release_is_what_its_revisions_built(
    fresh_database: DatabaseFactory,
) -> None:
    """The story's last release maps exactly the columns its revisions left (in the template,
    also the app's: `alembic check` holds the models to the head; a service's own later
    revisions may take the app further)."""
    url = await fresh_database()
    await alembic.upgrade(url, HEAD_RELEASE.schema_revision)

    columns: list[str] = await postgres.fetchval(  # type: ignore[assignment]
        url,
        "SELECT array_agg(column_name::text) FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = 'users'",
    )

    assert set(columns) == HEAD_RELEASE.columns


async def run_as(url: URL, writer: Release) -> None:
    async with postgres.transaction(url) as connection:
        user_id = await writer.insert(connection, "early@example.com", "Too Early")
        await writer.read(connection, user_id)


async def read_as(url: URL, reader: Release) -> None:
    async with postgres.transaction(url) as connection:
        await reader.read_all(connection)


async def test_dropping_name_one_release_early_breaks_the_live_release(
    story_database: URL,
) -> None:
    """0007 shipped with release 5 instead of 6: release 4, still live, maps `name`."""
    await walk_to(story_database, release(4), Ledger())
    await run_as(story_database, release(4))  # fine on its own schema

    await alembic.upgrade(story_database, "0007_drop_user_name")

    # Its every SELECT lists the column, and so does its every INSERT.
    with pytest.raises(DBAPIError, match=r"column users\.name does not exist"):
        await read_as(story_database, release(4))
    with pytest.raises(DBAPIError, match='column "name" of relation "users" does not exist'):
        await run_as(story_database, release(4))


async def test_a_release_that_starts_before_its_revision_breaks(story_database: URL) -> None:
    """Release 5 inserts without `name`: on release 4's schema, where it is NOT NULL, it fails.
    That is why the entrypoint migrates before uvicorn starts."""
    await walk_to(story_database, release(4), Ledger())

    with pytest.raises(DBAPIError, match='null value in column "name"'):
        await run_as(story_database, release(5))


async def test_dropping_bio_while_release_7_is_live_breaks_it(story_database: URL) -> None:
    """Why release 8 exists: it stops mapping `bio`, so that release 9 may drop it."""
    await walk_to(story_database, release(7), Ledger())

    await alembic.upgrade(story_database, "0010_drop_user_bio")

    with pytest.raises(DBAPIError, match=r"column users\.bio does not exist"):
        await read_as(story_database, release(7))
    with pytest.raises(DBAPIError, match='column "bio" of relation "users" does not exist'):
        await run_as(story_database, release(7))
    await run_as(story_database, release(8))
