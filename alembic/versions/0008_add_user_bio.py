"""Add users.bio, nullable, no default: release 7's profile text (branch B).

Release:    7 (with 0008_index_users_full_name_id, made in parallel, and the merge 0009).
Live:       release 6 while this runs; then releases 6 and 7.
Locks:      ADD COLUMN without a default: ACCESS EXCLUSIVE on users for milliseconds, catalog
            only.
Safe since: release 6 does not know the column.
Downgrade:  drops the column, and every bio written since.

This revision and 0008_index_users_full_name_id were written on two branches from the same
parent, 0007. Each was fine alone; together they gave Alembic two heads, and `alembic upgrade
head` refuses to guess an order ("Multiple head revisions are present"). 0009 merges them.
Alembic may run the two in either order, so neither may depend on the other.

Revision ID: 0008_add_user_bio
Revises: 0007_drop_user_name
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_add_user_bio"
down_revision: str | Sequence[str] | None = "0007_drop_user_name"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("bio", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "bio")
