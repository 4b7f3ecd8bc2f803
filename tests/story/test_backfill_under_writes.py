"""The data migrations run while the live release keeps writing: no row lost, none left wrong.

Each test seeds rows the way the database looked before the revision, then runs the revision
(in a thread, as the entrypoint would in its own process) while writer tasks act as the live
release: inserting users and updating random ones. Small batches make the backfill take many
transactions, so the writers interleave with it.
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import DatabaseFactory
from tests.story.releases import Release, release
from tests.support import alembic, postgres

SEEDED = 20_000
BATCH_SIZE = 500
WRITERS = 3
INSERT_SHARE = 0.3


@dataclass
class WriteLog:
    """The last value each writer wrote per user, and when the writes happened."""

    values: dict[int, str] = field(default_factory=dict)
    inserted: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)


Write = Callable[[AsyncConnection, random.Random, WriteLog], Awaitable[None]]


async def keep_writing(
    url: URL, write: Write, log: WriteLog, seed: int, stop: asyncio.Event
) -> None:
    rng = random.Random(seed)
    async with postgres.connect(url) as connection:
        while not stop.is_set():
            async with connection.begin():
                await write(connection, rng, log)
            log.times.append(time.monotonic())
            await asyncio.sleep(0)


async def migrate_under_writes(
    url: URL, revision: str, write: Write
) -> tuple[WriteLog, float, float]:
    """Run `revision` while WRITERS tasks call `write`; return the log and the run's span."""
    log, stop = WriteLog(), asyncio.Event()
    writers = [
        asyncio.create_task(keep_writing(url, write, log, seed, stop)) for seed in range(WRITERS)
    ]
    await asyncio.sleep(0.2)  # the writers are up before the migration starts
    started = time.monotonic()
    try:
        await alembic.upgrade(url, revision, migration_backfill_batch_size=BATCH_SIZE)
    finally:
        finished = time.monotonic()
        stop.set()
        await asyncio.gather(*writers)
    return log, started, finished


def writes_during(log: WriteLog, started: float, finished: float) -> int:
    return sum(started <= at <= finished for at in log.times)


async def insert_or_update(
    writer: Release,
    connection: AsyncConnection,
    rng: random.Random,
    log: WriteLog,
    *,
    name: str,
    role: str | None = None,
    recorded: str,
) -> None:
    """What a live release does all day: add a user now and then, mostly change one."""
    if rng.random() < INSERT_SHARE:
        user_id = await writer.insert(connection, f"{name}@example.com", name, role)
        log.inserted.append(user_id)
    else:
        user_id = rng.randint(1, SEEDED)
        await writer.update(connection, user_id, name, role)
    log.values[user_id] = recorded


async def test_full_name_backfill_with_release_3_writing(fresh_database: DatabaseFactory) -> None:
    url = await fresh_database()
    await alembic.upgrade(url, "0004_add_user_full_name")
    # Rows from release 2: a name, no full_name.
    await postgres.seed_users(url, SEEDED, role="'member'")
    # Rows release 3 created and release 2 renamed during the rollout: a stale copy.
    await postgres.execute(url, "UPDATE users SET full_name = 'Stale ' || id WHERE id % 10 = 0")
    writer: Release = release(3)  # live while release 4's revision runs: writes both columns

    async def write(connection: AsyncConnection, rng: random.Random, log: WriteLog) -> None:
        name = f"Written {rng.random():.12f}"
        await insert_or_update(writer, connection, rng, log, name=name, recorded=name)

    log, started, finished = await migrate_under_writes(url, "0005_backfill_user_full_name", write)

    assert writes_during(log, started, finished) > 50, "the writers did not overlap the backfill"
    async with postgres.transaction(url) as connection:
        users = await release(4).read_all(connection)
    assert len(users) == SEEDED + len(log.inserted)
    assert all(user["full_name"] == user["name"] for user in users.values())
    assert all(users[user_id]["full_name"] == name for user_id, name in log.values.items())


async def test_role_backfill_and_not_null_with_release_2_writing(
    fresh_database: DatabaseFactory,
) -> None:
    url = await fresh_database()
    await alembic.upgrade(url, "0002_add_user_role")
    # NULL written on purpose, as a script bypassing the app might have done.
    await postgres.seed_users(url, SEEDED, role="NULL")
    writer = release(2)  # live while release 3's revisions run: always writes a role

    async def write(connection: AsyncConnection, rng: random.Random, log: WriteLog) -> None:
        role = rng.choice(["member", "admin"])
        name = f"Written {rng.random():.12f}"
        await insert_or_update(writer, connection, rng, log, name=name, role=role, recorded=role)

    log, started, finished = await migrate_under_writes(url, "0003_user_role_not_null", write)

    assert writes_during(log, started, finished) > 50, "the writers did not overlap the backfill"
    async with postgres.transaction(url) as connection:
        users = await writer.read_all(connection)
    assert len(users) == SEEDED + len(log.inserted)
    for user_id, user in users.items():
        assert user["role"] == log.values.get(user_id, "member"), f"user {user_id}"
    nullable = await postgres.fetchval(
        url,
        "SELECT is_nullable FROM information_schema.columns "
        "WHERE table_name = 'users' AND column_name = 'role'",
    )
    assert nullable == "NO"
