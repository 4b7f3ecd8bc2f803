"""Naive twin of 0003_user_role_not_null: one UPDATE, then SET NOT NULL with its table scan.

Both statements run in the revision's one transaction. The UPDATE reads every row (it finds
none to change: 0002's default filled them). SET NOT NULL then takes ACCESS EXCLUSIVE and
scans the whole table to prove there is no NULL, and holds the lock until the commit: no query
on users, not even a SELECT, runs meanwhile.
"""

from alembic import op

revision = "naive_0003_user_role_not_null"
down_revision = "naive_0002_add_user_role"
SAFE_TWIN = "0003_user_role_not_null"


def upgrade() -> None:
    op.execute("UPDATE users SET role = 'member' WHERE role IS NULL")
    op.alter_column("users", "role", nullable=False)
