"""Expand: add users.role, nullable, with a server default.

Release:    2, whose code reads and writes `role`.
Live:       release 1 (which knows nothing of `role`) while this runs; then releases 1 and 2
            side by side until the rollout ends.
Locks:      ADD COLUMN takes ACCESS EXCLUSIVE on users, for milliseconds: with a constant
            default, PostgreSQL >= 11 only writes the catalog (the default is kept in
            pg_attribute.attmissingval and read for old rows); no row is rewritten. The wait
            for that lock is bounded by lock_timeout, so a busy table fails the migration fast
            instead of queueing every query behind it.
Safe since: release 1's INSERTs name no `role`, so they get the server default; its SELECTs
            list their own columns. Release 2 may start once this has run.
Downgrade:  drops the column, and the roles set since. Nothing else held them.

Why nullable, when a constant default makes `ADD COLUMN ... NOT NULL DEFAULT 'member'` just as
instant on PostgreSQL >= 11? Because that shortcut exists only for a constant default. A
volatile default (clock_timestamp(), gen_random_uuid()) rewrites the whole table under
ACCESS EXCLUSIVE (now() is stable, not volatile: it is evaluated once, and stays instant);
a value computed per row from other data, or a column with no sensible default, cannot be
NOT NULL on day one. The general pattern is this expand (nullable, default for new rows) and a
contract one release later (0003: backfill, then NOT NULL without a table scan). The same
contract makes users.full_name NOT NULL in 0007, where there is no default to lean on.

server_default, not a Python-side default: release 1 inserts through its own model, which has
never heard of `role`, so only a default in the database reaches its rows.

Revision ID: 0002_add_user_role
Revises: 0001_initial_schema
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_add_user_role"
down_revision: str | Sequence[str] | None = "0001_initial_schema"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("role", sa.Text(), nullable=True, server_default="member"),
    )


def downgrade() -> None:
    op.drop_column("users", "role")
