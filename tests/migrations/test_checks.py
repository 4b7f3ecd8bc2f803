"""The migration checks a CI should run, each shown to pass here and to fail when it should."""

import re
import shlex
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from app.db import Base
from app.schema import lint
from tests.conftest import DatabaseFactory
from tests.support import alembic, postgres
from tests.support.alembic import HEAD, add_revision, project_copy, run_cli, run_project_cli
from tests.support.paths import ROOT
from tests.support.processes import run_command

HEADS_CHECK = ROOT / "scripts" / "check-migration-heads.sh"
NOWHERE = postgres.database_url("nowhere").set(host="127.0.0.1", port=1)
# The ids test revisions get: the next numbers after the head, whatever the project's history.
NEXT = int(HEAD[:4]) + 1


def next_id(offset: int, slug: str) -> str:
    return f"{NEXT + offset:04d}_{slug}"


# --- one head ----------------------------------------------------------------------------


def test_heads_check_passes_with_one_head() -> None:
    result = run_command([HEADS_CHECK])

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"one migration head: {HEAD} (head)"


def test_heads_check_fails_on_a_second_head_and_its_advice_fixes_it(tmp_path: Path) -> None:
    # Two features developed at once, each with a revision on top of today's head.
    project = project_copy(tmp_path)
    features = [next_id(0, "feature_a"), next_id(0, "feature_b")]
    for feature in features:
        add_revision(project, feature, HEAD, "pass")
    config = {"ALEMBIC_CONFIG": str(project / "alembic.ini")}

    failed = run_command([HEADS_CHECK], env=config)

    assert failed.returncode == 1
    [line] = failed.stderr.strip().splitlines()
    assert line.startswith("error: 2 migration heads (")
    for feature in features:
        assert f"{feature} (head)" in line
    merge = next_id(1, "merge_heads")
    advice = f'alembic merge --rev-id {merge} -m "merge heads" heads'
    assert line.endswith(f"join them with: {advice}")

    # With two heads, `alembic upgrade head` would refuse to run at deploy time (shown here in
    # offline mode, which needs no database and resolves "head" the same way).
    refused = run_cli(
        "-c",
        config["ALEMBIC_CONFIG"],
        "upgrade",
        "head",
        "--sql",
        url=NOWHERE,
        PYTHONPATH=str(ROOT),
    )
    assert refused.returncode != 0
    assert "Multiple head revisions are present" in refused.stdout + refused.stderr

    # The advice, run as printed (no database needed), leaves one head again.
    merged = run_cli(*shlex.split(advice)[1:], url=NOWHERE, cwd=project, PYTHONPATH=str(ROOT))
    assert merged.returncode == 0, merged.stderr
    assert (project / "alembic" / "versions" / f"{merge}.py").is_file()
    assert run_command([HEADS_CHECK], env=config).returncode == 0


# --- offline equals online ---------------------------------------------------------------


def schema_dump(url: URL) -> list[str]:
    result = run_command(
        ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", postgres.dsn(url)]
    )
    assert result.returncode == 0, result.stderr
    # Comments carry object names only; restrict/unrestrict keys differ per dump (PG >= 17.6).
    return [
        line
        for line in result.stdout.splitlines()
        if line.strip() and not line.startswith(("--", "\\restrict", "\\unrestrict"))
    ]


async def test_offline_sql_applied_with_psql_gives_the_online_schema(
    fresh_database: DatabaseFactory,
) -> None:
    offline, online = await fresh_database(), await fresh_database()
    sql = run_cli("upgrade", "head", "--sql", url=NOWHERE)
    assert sql.returncode == 0, sql.stderr

    applied = run_command(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", postgres.dsn(offline)], stdin=sql.stdout
    )
    await alembic.upgrade(online)

    assert applied.returncode == 0, applied.stderr
    assert schema_dump(offline) == schema_dump(online)
    for url in (offline, online):
        assert await postgres.fetchval(url, "SELECT version_num FROM alembic_version") == HEAD


# --- stamping a database made without Alembic ----------------------------------------------


async def test_create_all_then_stamp_head_passes_the_drift_check(
    fresh_database: DatabaseFactory, migrated_template: str
) -> None:
    url = await fresh_database()
    async with postgres.connect(url) as connection:
        await connection.run_sync(Base.metadata.create_all)
        await connection.commit()

    stamped = run_cli("stamp", "head", url=url)
    check = run_cli("check", url=url)

    assert stamped.returncode == 0, stamped.stderr
    assert check.returncode == 0, check.stdout + check.stderr
    migrated = postgres.database_url(migrated_template)
    assert await postgres.schema_fingerprint(url) == await postgres.schema_fingerprint(migrated)


# --- a failing revision changes nothing --------------------------------------------------


async def test_a_revision_that_fails_midway_leaves_schema_and_version_as_they_were(
    tmp_path: Path, committed_database: URL
) -> None:
    project = project_copy(tmp_path)
    # A table of its own: the revision must not depend on what the project's tables look like.
    add_revision(
        project,
        next_id(0, "fails_midway"),
        HEAD,
        """
        op.create_table("fails_midway", sa.Column("id", sa.BigInteger(), primary_key=True))
        op.create_index("ix_fails_midway_id", "fails_midway", ["id"])
        op.execute("SELECT 1 / 0")
        """,
    )
    before = await postgres.schema_fingerprint(committed_database)

    result = run_project_cli(project, "upgrade", "head", url=committed_database)

    assert result.returncode != 0
    assert "division by zero" in result.stderr
    assert await postgres.schema_fingerprint(committed_database) == before
    assert (
        await postgres.fetchval(committed_database, "SELECT version_num FROM alembic_version")
        == HEAD
    )


# --- migration lint ------------------------------------------------------------------------


def test_every_revision_passes_squawk(capsys: pytest.CaptureFixture[str]) -> None:
    assert lint.main([]) == 0, capsys.readouterr().out


def test_squawk_reports_the_unsafe_forms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = project_copy(tmp_path)
    # On a table that exists in every project: the one Alembic keeps.
    naive = {
        next_id(0, "plain_index"): 'op.create_index("ix_lint_probe", "alembic_version", '
        '["version_num"])',
        next_id(1, "required_column"): 'op.add_column("alembic_version", sa.Column('
        '"lint_probe_a", sa.BigInteger(), nullable=False))',
        next_id(2, "nullable_column"): 'op.add_column("alembic_version", sa.Column('
        '"lint_probe_b", sa.Text()))',
        next_id(3, "direct_not_null"): 'op.alter_column("alembic_version", "lint_probe_b", '
        "nullable=False)",
    }
    parent = HEAD
    for revision, body in naive.items():
        add_revision(project, revision, parent, body)
        parent = revision

    status = lint.main(["-c", str(project / "alembic.ini"), *naive])

    report = capsys.readouterr().out
    assert status == 1
    reported = {
        revision: set(re.findall(r"warning: ([a-z-]+)", section))
        for revision, section in re.findall(
            r"^(\d{4}_\w+):\n(.*?)(?=^\d{4}_|^squawk:)", report, re.M | re.S
        )
    }
    plain_index, required, nullable, not_null = naive
    assert "require-concurrent-index-creation" in reported[plain_index]
    assert "adding-required-field" in reported[required]
    assert "adding-not-nullable-field" in reported[not_null]
    assert nullable not in reported


def test_lint_refuses_a_revision_whose_lesson_is_still_the_template_s_placeholders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = project_copy(tmp_path)
    drafted = run_cli(
        "revision", "-m", "add a column", url=NOWHERE, cwd=project, PYTHONPATH=str(ROOT)
    )
    assert drafted.returncode == 0, drafted.stderr
    [draft] = (project / "alembic" / "versions").glob(f"{NEXT:04d}_*.py")

    status = lint.main(["-c", str(project / "alembic.ini")])

    assert status == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: {draft}: the docstring still holds the template's placeholders for Release, "
        "Live, Locks, Safe since, Downgrade: write the lesson they ask for"
    ]


def test_lint_refuses_an_autogenerated_body_nobody_reviewed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = project_copy(tmp_path)
    revision = next_id(0, "unreviewed")
    add_revision(
        project,
        revision,
        HEAD,
        """
        # ### commands auto generated by Alembic - please adjust! ###
        op.create_table("unreviewed", sa.Column("id", sa.BigInteger(), primary_key=True))
        # ### end Alembic commands ###
        """,
    )

    status = lint.main(["-c", str(project / "alembic.ini")])

    assert status == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line == (
        f"error: {project / 'alembic' / 'versions' / revision}.py: still says Alembic's "
        "'please adjust!': review the generated operations, then remove those comments"
    )


async def test_a_statement_timeout_fails_at_once_in_one_line(
    tmp_path: Path, committed_database: URL
) -> None:
    """Not retried: a schema change this slow is rewriting or scanning under its lock."""
    project = project_copy(tmp_path)
    slow = next_id(0, "slow_rewrite")
    add_revision(project, slow, HEAD, 'op.execute("SELECT pg_sleep(2)")')

    result = run_project_cli(
        project, "upgrade", "head", url=committed_database, MIGRATION_STATEMENT_TIMEOUT_MS="200"
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "retrying" not in result.stderr
    # Alembic prints its FAILED line on standard output, the log on standard error.
    assert result.stdout.strip().splitlines() == [
        f"FAILED: revision {slow}: ran longer than 200ms "
        "(MIGRATION_STATEMENT_TIMEOUT_MS) and was cancelled, for: SELECT pg_sleep(2) "
        "(a schema change this slow rewrites or scans the table under its lock; "
        "app/schema/operations.py has the safe forms)"
    ]
