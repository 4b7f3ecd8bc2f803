"""Rename users.name to users.full_name, step 1 of 4 (expand): add full_name, nullable.

Release:    3, whose code writes both `name` and `full_name` and still reads `name`.
Live:       release 2 (reads and writes `name` only) while this runs; then releases 2 and 3.
Locks:      ADD COLUMN without a default: ACCESS EXCLUSIVE on users for milliseconds, catalog
            only, on every PostgreSQL version.
Safe since: release 2 does not know the column; its rows simply have no full_name yet.
            Release 3 writes both columns, so its rows are complete from the start.
Downgrade:  drops full_name. Nothing is lost: at this point every full_name is a copy of name.

`ALTER TABLE users RENAME COLUMN name TO full_name` is instant too, and breaks every running
instance of the previous release at once: its queries name a column that no longer exists. A
rename during rolling deploys takes four releases, one step each:

    expand   (0004, release 3)  add full_name; write both, read name
    migrate  (0005, release 4)  copy name into full_name; read full_name, write both
    relax    (0006, release 5)  name becomes nullable; stop writing (and mapping) name
    contract (0007, release 6)  full_name NOT NULL, drop name

At every step the release that is still live works on the new schema, and the new release
works on it as soon as its own revisions have run.

Revision ID: 0004_add_user_full_name
Revises: 0003_user_role_not_null
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_add_user_full_name"
down_revision: str | Sequence[str] | None = "0003_user_role_not_null"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("full_name", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "full_name")
