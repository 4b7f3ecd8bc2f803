"""Rename users.name to users.full_name, step 2 of 4 (migrate): copy name into full_name.

Release:    4, whose code reads `full_name` and still writes both columns.
Live:       release 3 (writes both, reads `name`) while this runs; then releases 3 and 4.
Locks:      no table lock beyond the ROW EXCLUSIVE every UPDATE takes. Row locks are held a
            batch at a time (MIGRATION_BACKFILL_BATCH_SIZE rows), each batch its own short
            transaction inside autocommit_block(), so no writer waits for longer than one batch.
Safe since: release 3 keeps both columns equal on every write, so the copy never fights it: a
            row it changes during the backfill is either still to be copied (and copied from its
            new value) or already equal. Release 4 may start reading full_name once this is done.
Downgrade:  nothing to undo: the schema is unchanged, and full_name stays filled.

Why `full_name IS DISTINCT FROM name` and not `full_name IS NULL`: while release 3 rolled out,
release 2 instances were still updating `name` alone, also on rows release 3 had already given
a full_name. Those copies are stale, and only comparing the two columns finds them.

The naive `UPDATE users SET full_name = name` is one transaction over the whole table: it
locks every row until the end (live writers stall behind it), doubles the table's size in dead
row versions that autovacuum can only reclaim afterwards, and on failure throws all of its work
away. The batched form commits as it goes, and a re-run resumes: `where` selects only the rows
still to do. Progress is logged per batch (logger app.schema.operations).

Revision ID: 0005_backfill_user_full_name
Revises: 0004_add_user_full_name
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from app.schema.operations import backfill_in_batches

revision: str = "0005_backfill_user_full_name"
down_revision: str | Sequence[str] | None = "0004_add_user_full_name"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    backfill_in_batches("users", "full_name = name", "full_name IS DISTINCT FROM name")


def downgrade() -> None:
    pass  # a data migration: the copies are harmless where release 3 runs again
