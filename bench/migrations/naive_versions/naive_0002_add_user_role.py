"""Naive twin of 0002_add_user_role: the same statement, since there is no naive form of it.

ADD COLUMN with a constant default is catalog-only (ACCESS EXCLUSIVE for milliseconds) however
it is written; so is `NOT NULL DEFAULT 'member'` in one step. The naive mistake with `role`
comes one release later, in the contract (naive_0003).
"""

import sqlalchemy as sa
from alembic import op

revision = "naive_0002_add_user_role"
down_revision = "0001_initial_schema"
SAFE_TWIN = "0002_add_user_role"


def upgrade() -> None:
    op.add_column("users", sa.Column("role", sa.Text(), nullable=True, server_default="member"))
