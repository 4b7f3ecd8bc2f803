"""Naive twin of 0005_backfill_user_full_name: the backfill as one big UPDATE.

One transaction over the whole table: every row it has updated stays locked until the commit,
so a live request that updates any user waits for the end of the whole UPDATE, holding its
pooled connection meanwhile. Reads and inserts are not blocked by the row locks, but they queue
for the pool once the blocked updates hold every connection.
"""

from alembic import op

revision = "naive_0005_backfill_full_name"
down_revision = "naive_0004_add_user_full_name"
SAFE_TWIN = "0005_backfill_user_full_name"


def upgrade() -> None:
    op.execute("UPDATE users SET full_name = name WHERE full_name IS DISTINCT FROM name")
