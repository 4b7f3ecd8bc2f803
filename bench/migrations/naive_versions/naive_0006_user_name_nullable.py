"""Naive twin of 0006_user_name_nullable: the same statement (DROP NOT NULL, catalog-only)."""

from alembic import op

revision = "naive_0006_user_name_nullable"
down_revision = "naive_0005_backfill_full_name"
SAFE_TWIN = "0006_user_name_nullable"


def upgrade() -> None:
    op.alter_column("users", "name", nullable=True)
