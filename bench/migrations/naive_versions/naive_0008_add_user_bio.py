"""Naive twin of 0008_add_user_bio: the same statement (ADD COLUMN, catalog-only)."""

import sqlalchemy as sa
from alembic import op

revision = "naive_0008_add_user_bio"
down_revision = "naive_0007_drop_user_name"
SAFE_TWIN = "0008_add_user_bio"


def upgrade() -> None:
    op.add_column("users", sa.Column("bio", sa.Text(), nullable=True))
