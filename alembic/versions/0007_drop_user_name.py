"""Rename users.name to users.full_name, step 4 of 4 (contract): full_name NOT NULL, drop name.

Release:    6.
Live:       release 5 (knows only `full_name`) while this runs; then releases 5 and 6.
Locks:      full_name NOT NULL by app.schema.operations.set_not_null: ACCESS EXCLUSIVE only
            for milliseconds at a time, the scan under SHARE UPDATE EXCLUSIVE (see 0003).
            DROP COLUMN: ACCESS EXCLUSIVE for milliseconds; the column is only marked dropped
            in the catalog, its space is reclaimed as rows are rewritten later.
Safe since: every release since 3 wrote full_name and 0005 filled the older rows, so VALIDATE
            finds no NULL (it would fail, changing nothing, if a release had skipped it).
            Release 5 neither maps nor writes `name`, so dropping it goes unnoticed.
Downgrade:  adds `name` back (nullable, as after 0006) and copies full_name into it in batches;
            full_name becomes nullable again. Nothing is lost: the data lives on in full_name.

Dropping `name` one release earlier, with release 4 live, breaks release 4 on its next query
(its model maps `name`): tests/story/test_compatibility.py shows that failure.

Revision ID: 0007_drop_user_name
Revises: 0006_user_name_nullable
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.schema.operations import backfill_in_batches, set_not_null

revision: str = "0007_drop_user_name"
down_revision: str | Sequence[str] | None = "0006_user_name_nullable"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Migration lint (app/schema/lint.py): what squawk flags here, and why it is safe.
SQUAWK_EXEMPTIONS = {
    "ban-drop-column": "release 5, the live release, no longer maps `name`; full_name holds it",
}


def upgrade() -> None:
    set_not_null("users", "full_name")
    op.drop_column("users", "name")


def downgrade() -> None:
    op.add_column("users", sa.Column("name", sa.Text(), nullable=True))
    backfill_in_batches("users", "name = full_name", "name IS NULL")
    op.alter_column("users", "full_name", nullable=True)
