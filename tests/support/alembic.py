"""Run Alembic the two ways the suite needs: in-process (fast) and as the real CLI."""

import asyncio
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from tests.support.paths import ROOT, VENV_BIN
from tests.support.processes import run_command
from tests.support.settings import settings_for

SCRIPTS = ScriptDirectory(str(ROOT / "alembic"))


def _head() -> str:
    # get_current_head() raises on more than one head; scripts/check-migration-heads.sh says why.
    head = SCRIPTS.get_current_head()
    if head is None:
        raise RuntimeError("alembic/versions/ holds no revision")
    return head


HEAD = _head()


def alembic_config(url: URL, **settings: Any) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    # env.py uses these instead of the environment's settings and the ini file's logging setup.
    config.attributes["settings"] = settings_for(url, **settings)
    config.attributes["configure_logger"] = False
    return config


async def upgrade(url: URL, revision: str = "head", **settings: Any) -> None:
    # env.py calls asyncio.run(); the suite's own loop is running, so use a thread.
    await asyncio.to_thread(command.upgrade, alembic_config(url, **settings), revision)


async def downgrade(url: URL, revision: str, **settings: Any) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(url, **settings), revision)


async def stamp(url: URL, revision: str) -> None:
    await asyncio.to_thread(command.stamp, alembic_config(url), revision)


def run_tool(
    tool: str, *args: str, url: URL | None = None, cwd: Path = ROOT, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """One of the project's command-line tools, DATABASE_URL set to `url`."""
    return run_command([VENV_BIN / tool, *args], url=url, cwd=cwd, env=extra_env)


def run_cli(
    *args: str, url: URL | None = None, cwd: Path = ROOT, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """`alembic ARGS`."""
    return run_tool("alembic", *args, url=url, cwd=cwd, **extra_env)


def run_project_cli(
    project: Path, *args: str, url: URL | None = None, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """`alembic ARGS` on a project copy's revisions, with `app` from the real project."""
    return run_command(
        [VENV_BIN / "alembic", "-c", project / "alembic.ini", *args],
        url=url,
        env={"PYTHONPATH": str(ROOT), **extra_env},
    )


def project_copy(into: Path) -> Path:
    """alembic.ini, alembic/ and the ruff config in a scratch folder, where a test may add or
    break revisions; `app` still imports from the real project (set PYTHONPATH=ROOT)."""
    shutil.copy(ROOT / "alembic.ini", into)
    shutil.copy(ROOT / "pyproject.toml", into)
    shutil.copytree(
        ROOT / "alembic", into / "alembic", ignore=shutil.ignore_patterns("__pycache__")
    )
    return into


def add_revision(project: Path, revision: str, down_revision: str, body: str) -> None:
    """Write a revision file into a project copy; `body` is the upgrade() function's body."""
    (project / "alembic" / "versions" / f"{revision}.py").write_text(
        f'''"""A revision written by a test."""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down_revision}"
branch_labels = None
depends_on = None


def upgrade() -> None:
{textwrap.indent(textwrap.dedent(body).strip(), "    ")}


def downgrade() -> None:
    pass
'''
    )
