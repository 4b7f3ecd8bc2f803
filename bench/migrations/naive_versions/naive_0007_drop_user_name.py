"""Naive twin of 0007_drop_user_name: SET NOT NULL with its table scan, then DROP COLUMN.

SET NOT NULL takes ACCESS EXCLUSIVE and scans the whole table; the lock is held until the
revision commits, after the DROP COLUMN. Every query on users waits meanwhile.
"""

from alembic import op

revision = "naive_0007_drop_user_name"
down_revision = "naive_0006_user_name_nullable"
SAFE_TWIN = "0007_drop_user_name"


def upgrade() -> None:
    op.alter_column("users", "full_name", nullable=False)
    op.drop_column("users", "name")
