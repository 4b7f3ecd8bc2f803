"""A generated service's own changes, made the way its owner makes them.

- `add_nickname`: the README's first change. The model and the API get an optional field, then
  `alembic revision --autogenerate -m "add user nickname"` drafts the revision, whose lesson the
  owner writes and whose "please adjust!" comments the owner removes after review.
- `rename_in_one_step` and `drop_a_column_the_previous_release_reads`: the two breaking changes
  the release checks must catch, each a release that is consistent on its own.
"""

import re
from collections.abc import Mapping
from pathlib import Path

from tests.support import postgres
from tests.support.throwaway import dsn
from tests.template.generate import git, run

NICKNAME_LESSON = '''"""Add users.nickname, nullable, no default: an expand step.

Release:    the one that adds the nickname to the API.
Live:       the previous release and this one, during the rolling deploy.
Locks:      ADD COLUMN without a default takes ACCESS EXCLUSIVE on users for a catalog change
            only: milliseconds, bounded by lock_timeout.
Safe since: the previous release neither reads nor writes the column; NULL is a valid value.
Downgrade:  drops the column and every nickname in it.
'''


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path} has {text.count(old)} x {old!r}"
    path.write_text(text.replace(old, new))


def release(project: Path, tag: str) -> None:
    """Commit what changed and tag it: a release."""
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--allow-empty", f"--message=release {tag}")
    git(project, "tag", tag)


async def add_nickname(project: Path, env: Mapping[str, str]) -> Path:
    """The README's example, in `project`; the revision it wrote."""
    edit(
        project / "app" / "models.py",
        "    created_at: Mapped[datetime]",
        "    nickname: Mapped[str | None] = mapped_column(Text)\n    created_at: Mapped[datetime]",
    )
    schemas = project / "app" / "schemas.py"
    edit(
        schemas,
        "    full_name: FullName\n",
        "    full_name: FullName\n    nickname: str | None = None\n",
    )
    edit(
        schemas,
        "    created_at: datetime\n",
        "    created_at: datetime\n    nickname: str | None\n",
    )
    before = set((project / "alembic" / "versions").glob("*.py"))
    async with postgres.temporary_database("nickname") as url:
        migrated = run(
            project / ".venv" / "bin" / "alembic",
            "upgrade",
            "head",
            cwd=project,
            env={**env, "DATABASE_URL": dsn(url)},
        )
        assert migrated.returncode == 0, migrated.stderr
        drafted = run(
            project / ".venv" / "bin" / "alembic",
            "revision",
            "--autogenerate",
            "-m",
            "add user nickname",
            cwd=project,
            env={**env, "DATABASE_URL": dsn(url)},
        )
        assert drafted.returncode == 0, drafted.stderr
    [revision] = set((project / "alembic" / "versions").glob("*.py")) - before
    # The owner's review: the lesson written, Alembic's reminders gone.
    text = revision.read_text()
    text = re.sub(r'(?s)\A""".*?\n\n(?=Revision ID:)', NICKNAME_LESSON + "\n", text)
    text = re.sub(r"\n *# ### .*? ###", "", text)
    revision.write_text(text)
    return revision


def rename_in_one_step(project: Path, head: str) -> None:
    """full_name renamed to name by one revision; the new code maps `name` to the same field."""
    number = int(head[:4]) + 1
    write_revision(
        project,
        f"{number:04d}_rename_full_name",
        head,
        "users.full_name renamed to name, in one step: the previous release breaks.",
        'op.alter_column("users", "full_name", new_column_name="name")',
        'op.alter_column("users", "name", new_column_name="full_name")',
    )
    models = project / "app" / "models.py"
    edit(
        models,
        "full_name: Mapped[str] = mapped_column(Text)",
        'full_name: Mapped[str] = mapped_column("name", Text)',
    )
    # The index keeps its name; it is on the renamed column now.
    edit(
        models,
        '"ix_users_full_name_id", "full_name", "id"',
        '"ix_users_full_name_id", "name", "id"',
    )


def drop_a_column_the_previous_release_reads(project: Path, head: str) -> None:
    """created_at dropped from the table, the model and the API at once."""
    number = int(head[:4]) + 1
    write_revision(
        project,
        f"{number:04d}_drop_created_at",
        head,
        "users.created_at dropped while the previous release still reads it.",
        'op.drop_column("users", "created_at")',
        'op.add_column("users", sa.Column("created_at", sa.DateTime(timezone=True)))',
    )
    models = project / "app" / "models.py"
    text = models.read_text()
    models.write_text(re.sub(r"\n    created_at: Mapped\[datetime\] = [^\n]*", "", text))
    edit(project / "app" / "schemas.py", "    created_at: datetime\n", "")


def write_revision(
    project: Path, revision: str, down: str, lesson: str, upgrade: str, downgrade: str
) -> None:
    (project / "alembic" / "versions" / f"{revision}.py").write_text(
        f'''"""{lesson}"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    {upgrade}


def downgrade() -> None:
    {downgrade}
'''
    )
