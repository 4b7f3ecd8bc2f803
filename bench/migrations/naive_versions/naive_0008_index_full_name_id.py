"""Naive twin of 0008_index_users_full_name_id: a plain CREATE INDEX, as autogenerate writes it.

CREATE INDEX takes SHARE on users for the whole build: reads go on, but every INSERT, UPDATE
and DELETE waits until the index is built and the revision commits.
"""

from alembic import op

revision = "naive_0008_index_full_name_id"
down_revision = "naive_0007_drop_user_name"
SAFE_TWIN = "0008_index_users_full_name_id"


def upgrade() -> None:
    op.create_index("ix_users_full_name_id", "users", ["full_name", "id"])
