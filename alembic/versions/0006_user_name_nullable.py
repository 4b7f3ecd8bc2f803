"""Rename users.name to users.full_name, step 3 of 4 (relax): name becomes nullable.

Release:    5, whose model no longer maps `name` at all: it reads and writes `full_name` only.
Live:       release 4 (reads `full_name`, writes both) while this runs; then releases 4 and 5.
Locks:      DROP NOT NULL: ACCESS EXCLUSIVE on users for milliseconds, catalog only.
Safe since: release 4 still writes `name`, which remains allowed. Release 5 inserts rows
            without `name`, which needs exactly this change, so it must run first: the
            entrypoint migrates before uvicorn starts.
Downgrade:  copies full_name back into the names release 5 left empty, then NOT NULL the safe
            way (no table scan under ACCESS EXCLUSIVE).

Release 5 must drop `name` from its model, not merely stop assigning it: an ORM SELECT lists
every mapped column, so a release that still maps `name` fails the moment 0007 drops it. This
is the "ignored columns" step of other frameworks; here it is simply the model without the
attribute.

Revision ID: 0006_user_name_nullable
Revises: 0005_backfill_user_full_name
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

from app.schema.operations import backfill_in_batches, set_not_null

revision: str = "0006_user_name_nullable"
down_revision: str | Sequence[str] | None = "0005_backfill_user_full_name"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Migration lint (app/schema/lint.py): what squawk flags here, and why it is safe.
SQUAWK_EXEMPTIONS = {
    "ban-drop-not-null": "release 4, the only live release that reads `name`, still writes it",
}


def upgrade() -> None:
    op.alter_column("users", "name", nullable=True)


def downgrade() -> None:
    backfill_in_batches("users", "name = full_name", "name IS NULL")
    set_not_null("users", "name")
