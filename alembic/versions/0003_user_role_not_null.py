"""Contract: users.role NOT NULL, without a table scan under an exclusive lock.

Release:    3.
Live:       release 2 while this runs (release 1 is gone: it ended with release 2's rollout).
Locks:      the backfill takes row locks, a batch at a time, each batch its own short
            transaction. Then (app.schema.operations.set_not_null):
            ADD CONSTRAINT ... NOT VALID, ACCESS EXCLUSIVE for milliseconds, no scan;
            VALIDATE CONSTRAINT, a full scan under SHARE UPDATE EXCLUSIVE, which blocks no
            SELECT, INSERT, UPDATE or DELETE;
            SET NOT NULL, ACCESS EXCLUSIVE for milliseconds: PostgreSQL >= 12 finds the valid
            CHECK (role IS NOT NULL) and skips its own scan;
            DROP CONSTRAINT, ACCESS EXCLUSIVE for milliseconds.
Safe since: release 2 writes `role` on every INSERT and never writes NULL, so no new NULL can
            appear once the backfill has run; rows from release 1 got the default when 0002
            added the column.
Downgrade:  DROP NOT NULL (catalog only, instant). Every role stays.

The naive `ALTER TABLE users ALTER COLUMN role SET NOT NULL` scans the whole table while it
holds ACCESS EXCLUSIVE: no query on users, not even a SELECT, runs until the scan ends; on a
table of a few million rows that is seconds to minutes of outage.

Why a backfill at all, when 0002's default already filled the old rows? Because anything else
that writes to the table (a one-off script, a bulk load, release 2 with a bug) may have
written an explicit NULL; VALIDATE would then fail. The backfill is cheap when there is
nothing to do: one index-ordered pass that updates no row.

Revision ID: 0003_user_role_not_null
Revises: 0002_add_user_role
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

from app.schema.operations import backfill_in_batches, set_not_null

revision: str = "0003_user_role_not_null"
down_revision: str | Sequence[str] | None = "0002_add_user_role"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    backfill_in_batches("users", "role = 'member'", "role IS NULL")
    set_not_null("users", "role")


def downgrade() -> None:
    op.alter_column("users", "role", nullable=True)
