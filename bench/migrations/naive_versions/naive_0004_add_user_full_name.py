"""Naive twin of 0004_add_user_full_name: the same statement (ADD COLUMN, catalog-only).

The naive rename would be `RENAME COLUMN name TO full_name`, which breaks the live release at
once; the naive series keeps the same releases and schemas as the safe one, so it adds the
column too.
"""

import sqlalchemy as sa
from alembic import op

revision = "naive_0004_add_user_full_name"
down_revision = "naive_0003_user_role_not_null"
SAFE_TWIN = "0004_add_user_full_name"


def upgrade() -> None:
    op.add_column("users", sa.Column("full_name", sa.Text(), nullable=True))
