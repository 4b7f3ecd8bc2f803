"""Drop users.bio: the profile text feature is gone. Irreversible: the text exists nowhere else.

Release:    9. Release 8 removed `bio` from the model and shipped no revision: a column may
            only be dropped once no live release maps it.
Live:       release 8 (whose model has no `bio`) while this runs; then releases 8 and 9.
Locks:      DROP COLUMN: ACCESS EXCLUSIVE on users for milliseconds; catalog only.
Safe since: release 8 neither reads nor writes `bio`. Had this run with release 7 live, every
            query of release 7 on users would fail (its model maps `bio`).
Downgrade:  refuses. The column could be recreated, but not the text it held, and a downgrade
            that quietly returns an empty column is worse than one that stops.

Before running this in production, take a snapshot you can restore from: a base backup with
WAL archiving (point-in-time recovery to just before this revision ran), or at the least
`pg_dump --table=users --column-inserts` of the data, or
`COPY (SELECT id, bio FROM users WHERE bio IS NOT NULL) TO ...`.

Revision ID: 0010_drop_user_bio
Revises: 0009_merge_index_and_bio
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_drop_user_bio"
down_revision: str | Sequence[str] | None = "0009_merge_index_and_bio"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Migration lint (app/schema/lint.py): what squawk flags here, and why it is accepted.
SQUAWK_EXEMPTIONS = {
    "ban-drop-column": "release 8 no longer maps `bio`; the text is lost on purpose (see above)",
}

IRREVERSIBLE = (
    "0010_drop_user_bio dropped users.bio and with it every user's bio; a downgrade can "
    "recreate the column but not its contents. To go back, restore the snapshot taken before "
    "this revision ran (see its docstring). If the text is expendable, recreate the column "
    "by hand (ALTER TABLE users ADD COLUMN bio text) and run "
    "`alembic stamp 0009_merge_index_and_bio`."
)


def upgrade() -> None:
    op.drop_column("users", "bio")


def downgrade() -> None:
    raise NotImplementedError(IRREVERSIBLE)
