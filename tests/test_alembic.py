"""Alembic as users run it: the CLI, with DATABASE_URL in the environment."""

import re
from pathlib import Path

from tests.conftest import DatabaseFactory
from tests.support import alembic, postgres
from tests.support.alembic import SCRIPTS, project_copy, run_cli, run_tool
from tests.support.paths import ROOT
from tests.support.postgres import database_url

NOWHERE = database_url("nowhere").set(host="127.0.0.1", port=1)
REVISIONS = list(SCRIPTS.walk_revisions())


def test_offline_sql_needs_no_database() -> None:
    result = run_cli("upgrade", "head", "--sql", url=NOWHERE)

    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE users" in result.stdout
    assert result.stdout.rstrip().endswith("COMMIT;")
    # psql applies the same timeouts as an online run: SET before the first transaction.
    head = result.stdout[: result.stdout.index("BEGIN;")]
    assert "SET lock_timeout = 5000;" in head
    assert "SET statement_timeout = 60000;" in head


def test_history_needs_no_database() -> None:
    result = run_cli("history", url=NOWHERE)

    assert result.returncode == 0, result.stderr
    # Every revision, each with its parents (a merge lists both), and nothing else.
    listed = result.stdout.strip().splitlines()
    assert len(listed) == len(REVISIONS), result.stdout
    for script in REVISIONS:
        parents = ", ".join(script._all_down_revisions) or "<base>"
        assert any(line.startswith(f"{parents} -> {script.revision}") for line in listed), (
            script.revision
        )


def test_one_head() -> None:
    result = run_cli("heads", url=NOWHERE)

    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1, result.stdout


async def test_check_finds_no_drift_after_upgrade(fresh_database: DatabaseFactory) -> None:
    url = await fresh_database()
    assert run_cli("upgrade", "head", url=url).returncode == 0

    result = run_cli("check", url=url)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No new upgrade operations detected" in result.stdout


async def test_check_fails_when_the_schema_drifts(fresh_database: DatabaseFactory) -> None:
    url = await fresh_database()
    await alembic.upgrade(url)
    # A table the models do not have: drift whatever the project's own tables are.
    await postgres.execute(url, "CREATE TABLE drift_probe (id bigint)")

    result = run_cli("check", url=url)

    assert result.returncode != 0
    assert "drift_probe" in result.stdout + result.stderr


def test_new_revision_is_numbered_named_and_lint_clean_without_a_database(
    tmp_path: Path,
) -> None:
    project = project_copy(tmp_path)
    before = {p.name for p in (project / "alembic" / "versions").glob("*.py")}
    highest = max(int(re.match(r"\d+", name).group()) for name in before)  # type: ignore[union-attr]

    result = run_cli(
        "revision", "-m", "Add user bio!", url=NOWHERE, cwd=project, PYTHONPATH=str(ROOT)
    )

    assert result.returncode == 0, result.stderr
    expected = f"{highest + 1:04d}_add_user_bio.py"
    created = {p.name for p in (project / "alembic" / "versions").glob("*.py")} - before
    assert created == {expected}
    text = (project / "alembic" / "versions" / expected).read_text()
    assert f'revision: str = "{expected.removesuffix(".py")}"' in text
    assert "Locks:" in text  # the lesson-style docstring sections
    # Clean but for the imports of `op` and `sa`, which the author is about to use.
    lint = run_tool(
        "ruff", "check", "--extend-ignore", "F401", str(project / "alembic" / "versions" / expected)
    )
    assert lint.returncode == 0, lint.stdout


async def test_autogenerate_without_changes_writes_no_revision(
    tmp_path: Path, fresh_database: DatabaseFactory
) -> None:
    url = await fresh_database()
    await alembic.upgrade(url)
    project = project_copy(tmp_path)
    before = sorted((project / "alembic" / "versions").glob("*.py"))

    result = run_cli(
        "revision", "--autogenerate", "-m", "nothing", url=url, cwd=project, PYTHONPATH=str(ROOT)
    )

    assert result.returncode == 0, result.stderr
    assert "no revision written" in result.stdout
    assert sorted((project / "alembic" / "versions").glob("*.py")) == before
