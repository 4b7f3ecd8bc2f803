"""Every release of the example story (alembic/versions/), as its code sees the users table.

A release's database access is its model: an ORM SELECT lists every mapped column, an INSERT
or UPDATE writes the ones the release sets. So each release here is a Core `Table` with
exactly the columns its model maps, plus which columns it writes a user's name to and reads it
from. The operations below issue the same statements that release's ORM would.
"""

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


def _users(*extra: sa.Column[Any]) -> sa.Table:
    return sa.Table(
        "users",
        sa.MetaData(),
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("email", sa.Text),
        *extra,
        sa.Column("created_at", sa.DateTime(timezone=True)),
    )


def _name() -> sa.Column[Any]:
    return sa.Column("name", sa.Text)


def _full_name() -> sa.Column[Any]:
    return sa.Column("full_name", sa.Text)


def _role() -> sa.Column[Any]:
    return sa.Column("role", sa.Text)


def _bio() -> sa.Column[Any]:
    return sa.Column("bio", sa.Text)


@dataclass(frozen=True)
class Release:
    number: int
    # The head after this release's revisions ran (the entrypoint runs them before it serves).
    schema_revision: str
    table: sa.Table
    writes_name_to: tuple[str, ...]
    reads_name_from: str

    @property
    def columns(self) -> set[str]:
        return set(self.table.c.keys())

    def __str__(self) -> str:
        return f"release {self.number}"

    # -- its database access, as its ORM would do it --------------------------------------

    def _values(self, name: str, role: str | None) -> dict[str, Any]:
        values: dict[str, Any] = dict.fromkeys(self.writes_name_to, name)
        if role is not None and "role" in self.columns:
            values["role"] = role
        if "bio" in self.columns:
            values["bio"] = f"bio of {name}"
        return values

    async def insert(
        self, connection: AsyncConnection, email: str, name: str, role: str | None = None
    ) -> int:
        # Releases that know `role` always write it (release 2 onwards): that is what makes
        # 0003's NOT NULL safe while release 2 is live.
        if role is None and "role" in self.columns:
            role = "member"
        statement = sa.insert(self.table).values(email=email, **self._values(name, role))
        user_id: int = (await connection.execute(statement.returning(self.table.c.id))).scalar_one()
        return user_id

    async def update(
        self, connection: AsyncConnection, user_id: int, name: str, role: str | None = None
    ) -> None:
        statement = (
            sa.update(self.table)
            .where(self.table.c.id == user_id)
            .values(**self._values(name, role))
        )
        result = await connection.execute(statement)
        assert result.rowcount == 1, f"{self}: user {user_id} not found"

    async def read(self, connection: AsyncConnection, user_id: int) -> dict[str, Any]:
        row = (
            await connection.execute(sa.select(self.table).where(self.table.c.id == user_id))
        ).one()
        user = dict(row._mapping)
        user["the_name"] = user[self.reads_name_from]
        return user

    async def read_all(self, connection: AsyncConnection) -> dict[int, dict[str, Any]]:
        rows = (await connection.execute(sa.select(self.table).order_by(self.table.c.id))).all()
        return {
            row.id: {**row._mapping, "the_name": row._mapping[self.reads_name_from]} for row in rows
        }


RELEASES = (
    Release(1, "0001_initial_schema", _users(_name()), ("name",), "name"),
    Release(2, "0002_add_user_role", _users(_name(), _role()), ("name",), "name"),
    # Rename, expand: writes both, reads the old column.
    Release(
        3,
        "0004_add_user_full_name",
        _users(_name(), _full_name(), _role()),
        ("name", "full_name"),
        "name",
    ),
    # Rename, migrate: reads the new column, still writes both.
    Release(
        4,
        "0005_backfill_user_full_name",
        _users(_name(), _full_name(), _role()),
        ("name", "full_name"),
        "full_name",
    ),
    # Rename, relax: `name` is gone from the model.
    Release(
        5, "0006_user_name_nullable", _users(_full_name(), _role()), ("full_name",), "full_name"
    ),
    Release(6, "0007_drop_user_name", _users(_full_name(), _role()), ("full_name",), "full_name"),
    Release(
        7,
        "0009_merge_index_and_bio",
        _users(_full_name(), _role(), _bio()),
        ("full_name",),
        "full_name",
    ),
    # No revision: the code stops mapping `bio`, so that release 9 may drop it.
    Release(
        8, "0009_merge_index_and_bio", _users(_full_name(), _role()), ("full_name",), "full_name"
    ),
    Release(9, "0010_drop_user_bio", _users(_full_name(), _role()), ("full_name",), "full_name"),
)

HEAD_RELEASE = RELEASES[-1]


def release(number: int) -> Release:
    return RELEASES[number - 1]
