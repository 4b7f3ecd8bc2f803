"""Merge the two 0008 branches (the full_name index and users.bio) into one head.

Release:    7.
Live:       release 6 while this runs.
Locks:      none: a merge revision changes no schema, it only records that both parents ran.
Safe since: there is nothing to break.
Downgrade:  nothing to undo; downgrading further runs each branch's own downgrade.

How the branch arose: two features were developed at once, each adding a revision on top of
0007. Both were merged into the main branch, and `alembic heads` printed two heads. The fix is
not to renumber one of them: either may already have run on some database (a staging server, a
colleague's machine), and its id is recorded there. Instead:

    alembic merge -m "merge index and bio" heads

writes this revision, whose down_revision names both parents. `alembic heads` shows one head
again, `alembic history` shows the fork and the join. The suite's head check
(scripts/check-migration-heads.sh) fails a build that has more than one head, so a branch is
noticed, and merged, before it is deployed.

Revision ID: 0009_merge_index_and_bio
Revises: 0008_add_user_bio, 0008_index_users_full_name_id
Create Date: 2026-11-25
"""

from collections.abc import Sequence

revision: str = "0009_merge_index_and_bio"
down_revision: str | Sequence[str] | None = ("0008_add_user_bio", "0008_index_users_full_name_id")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
