"""Every revision upgrades, downgrades and upgrades again on a database with rows in it.

For each revision: rows are written by the release live before it, the revision runs, rows
are written by the release live after it, and the downgrade must give back the schema as it
was, every row, and every value the older schema can hold. The one irreversible revision must
refuse with its documented message and change nothing. Last, the whole series there and back.
"""

from typing import Any

import pytest
from alembic.script import Script, ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL

from tests.conftest import DatabaseFactory
from tests.story.releases import RELEASES, Release
from tests.support import alembic, postgres
from tests.support.alembic import HEAD, run_cli
from tests.support.paths import ROOT

SCRIPTS = ScriptDirectory(str(ROOT / "alembic"))
IRREVERSIBLE = {"0010_drop_user_bio"}
# In upgrade order: every revision after its parents.
REVISIONS = list(reversed(list(SCRIPTS.walk_revisions())))


def parents(script: Script) -> tuple[str, ...]:
    return script._all_down_revisions


def applied_at(heads: tuple[str, ...]) -> set[str]:
    return {rev.revision for rev in SCRIPTS.iterate_revisions(heads, "base")}


def writer_at(heads: tuple[str, ...]) -> Release:
    """The newest release that serves on this schema: its revisions have all run."""
    applied = applied_at(heads)
    return max((r for r in RELEASES if r.schema_revision in applied), key=lambda r: r.number)


async def write_rows(url: URL, writer: Release, tag: str) -> None:
    async with postgres.transaction(url) as connection:
        for i in range(3):
            user_id = await writer.insert(connection, f"{tag}{i}@example.com", f"{tag} {i}")
            await writer.update(connection, user_id, f"{tag} {i} renamed")


async def all_rows(url: URL) -> dict[int, dict[str, Any]]:
    async with postgres.transaction(url) as connection:
        if await connection.scalar(text("SELECT to_regclass('users')")) is None:
            return {}
        result = await connection.execute(text("SELECT * FROM users ORDER BY id"))
        return {row.id: dict(row._mapping) for row in result}


async def state_before(url: URL, script: Script) -> tuple[str, ...]:
    """Bring an empty database to `script`'s parents, with rows from each release on the way."""
    heads = parents(script)
    needed = applied_at(heads)
    release_boundaries = {r.schema_revision for r in RELEASES}
    for step in REVISIONS:
        if step.revision in needed:
            await alembic.upgrade(url, step.revision)
            if step.revision in release_boundaries:
                await write_rows(url, writer_at((step.revision,)), step.revision)
    return heads


@pytest.mark.parametrize("script", REVISIONS, ids=lambda script: script.revision)
async def test_up_down_up_keeps_schema_and_rows(
    fresh_database: DatabaseFactory, script: Script
) -> None:
    url = await fresh_database()
    heads = await state_before(url, script)
    schema_before, rows_before = await postgres.schema_fingerprint(url), await all_rows(url)

    await alembic.upgrade(url, script.revision)
    await write_rows(url, writer_at((script.revision,)), f"after{script.revision[:4]}")
    schema_after, rows_after = await postgres.schema_fingerprint(url), await all_rows(url)

    if script.revision in IRREVERSIBLE:
        with pytest.raises(NotImplementedError, match="restore the snapshot taken before"):
            await alembic.downgrade(url, heads[0])
        assert await postgres.schema_fingerprint(url) == schema_after
        assert await all_rows(url) == rows_after
        return

    await alembic.downgrade(url, heads[0] if heads else "base")

    assert await postgres.schema_fingerprint(url) == schema_before
    rows_down = await all_rows(url)
    # Down to base, the table itself goes (0001's documented downgrade); otherwise no row may.
    assert rows_down.keys() == (rows_after.keys() if heads else set())
    for user_id, before in rows_before.items():
        kept = {k: v for k, v in before.items() if v is not None}
        assert kept.items() <= rows_down[user_id].items(), f"user {user_id} lost data"

    await alembic.upgrade(url, script.revision)

    assert await postgres.schema_fingerprint(url) == schema_after
    assert (await all_rows(url)).keys() == rows_down.keys()


async def test_upgrade_downgrade_base_upgrade_with_the_documented_recovery(
    fresh_database: DatabaseFactory,
) -> None:
    """The whole series there and back, through the one irreversible revision.

    0010's downgrade refuses; its message tells how to get past it when the dropped text is
    expendable. Following that advice must really work.
    """
    url = await fresh_database()
    await alembic.upgrade(url)

    refused = run_cli("downgrade", "base", url=url)
    assert refused.returncode != 0
    assert "NotImplementedError: 0010_drop_user_bio dropped users.bio" in refused.stderr

    await postgres.execute(url, "ALTER TABLE users ADD COLUMN bio text")
    await alembic.stamp(url, "0009_merge_index_and_bio")
    await alembic.downgrade(url, "base")
    await alembic.upgrade(url)

    assert await postgres.fetchval(url, "SELECT version_num FROM alembic_version") == HEAD
    assert run_cli("check", url=url).returncode == 0
