"""Naive twin of 0009_merge_index_and_bio: joins the two naive 0008 branches; changes nothing."""

revision = "naive_0009_merge_index_and_bio"
down_revision = ("naive_0008_add_user_bio", "naive_0008_index_full_name_id")
SAFE_TWIN = "0009_merge_index_and_bio"


def upgrade() -> None:
    pass
