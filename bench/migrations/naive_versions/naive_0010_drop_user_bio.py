"""Naive twin of 0010_drop_user_bio: the same statement (DROP COLUMN, catalog-only)."""

from alembic import op

revision = "naive_0010_drop_user_bio"
down_revision = "naive_0009_merge_index_and_bio"
SAFE_TWIN = "0010_drop_user_bio"


def upgrade() -> None:
    op.drop_column("users", "bio")
