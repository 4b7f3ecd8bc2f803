"""The migrations-under-load benchmark starts, runs the whole story at a tiny size, writes its
outputs, and fails in one line. No timing is asserted: the figures are the benchmark's own.

It runs the example revisions and their naive forms, so it goes with the story (copier.yml).
"""

import csv
import json
import subprocess
from pathlib import Path

import pytest
from alembic.util import to_tuple

from bench.migrations import naive
from bench.migrations.naive import INITIAL, naive_twins
from bench.migrations.upgrade import revision_runs
from tests.story.releases import HEAD_RELEASE
from tests.support.alembic import SCRIPTS, run_tool
from tests.support.paths import ROOT

# The story's revisions: those up to its last release (a service's own later ones have no twin).
REAL_REVISIONS = {
    script.revision for script in SCRIPTS.iterate_revisions(HEAD_RELEASE.schema_revision, "base")
} - {INITIAL}


def bench_migrations(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bench.migrations ARGS`, as the documented command runs it."""
    return run_tool("python", "-m", "bench.migrations", *args, url=None, cwd=ROOT, **env)


def test_every_revision_has_a_naive_twin_in_the_same_place_of_the_graph() -> None:
    """So that the naive series runs the same releases, branches and merge as the real one."""
    twins, both = naive_twins(), naive.scripts()

    assert set(twins) == REAL_REVISIONS | {INITIAL}
    for real in REAL_REVISIONS:
        parents = to_tuple(SCRIPTS.get_revision(real).down_revision)
        naive_parents = to_tuple(both.get_revision(twins[real]).down_revision)
        assert naive_parents == tuple(twins[parent] for parent in parents), real


def test_a_revision_runs_from_its_first_log_line_to_its_commit() -> None:
    log = "INFO  [alembic.runtime.migration] Running upgrade"
    lines = [
        (0.5, "INFO  [alembic.runtime.migration] Will assume transactional DDL."),
        (1.0, f"{log} 0002_a -> 0003_b, Contract: role NOT NULL"),
        (2.0, "WARNI [app.schema.runtime] revision 0003_b: ...; retrying in 2s"),
        (4.0, f"{log} 0002_a -> 0003_b, Contract: role NOT NULL"),
        (5.0, f"{log} 0003_b -> 0004_c, Expand: add a column"),
        (5.5, f"{log} 0004_c, 0004_d -> 0005_merge, Merge"),
    ]

    runs = revision_runs(lines, {"0003_b": 4.5, "0005_merge": 6.0}, ended=7.0)

    assert [(run.revision, run.started, run.ended) for run in runs] == [
        ("0003_b", 1.0, 4.5),  # the first attempt, the backoff and the retry, to its commit
        ("0004_c", 5.0, 5.5),  # its commit was missed: until the next revision started
        ("0005_merge", 5.5, 6.0),
    ]


def test_migrations_benchmark_runs_the_story_at_a_tiny_size(tmp_path: Path) -> None:
    output = tmp_path / "migrations.json"

    result = bench_migrations(
        *("--rows", "2000", "--rate", "40", "--warmup", "0", "--baseline", "0.5"),
        *("--pause", "0", "--tail", "0.3", "--output", str(output)),
    )

    assert result.returncode == 0, result.stderr
    figures = json.loads(output.read_text())
    assert figures["machine"]["postgresql"]
    assert list(figures["series"]) == ["safe", "naive"]
    for name, series in figures["series"].items():
        # Every revision of the story ran, named after the real one it is or stands in for.
        assert {r["revision"] for r in series["revisions"]} == REAL_REVISIONS, name
        assert series["migration_failure"] is None
        assert series["before"]["requests"] > 0
        assert series["during"]["requests"] > 0
    assert figures["series"]["safe"]["all"]["failed"] == 0
    end = figures["end_state"]
    assert end["same_schema"] is True
    assert all(e["rows"] == e["expected_rows"] > 2000 for e in end["series"].values())
    assert "safe series: 0 failed (target 0): met" in output.with_suffix(".txt").read_text()
    assert output.with_suffix(".png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    with (tmp_path / "migrations-requests.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert {row["series"] for row in rows} == {"safe", "naive"}
    assert {row["kind"] for row in rows} == {"get", "update", "insert"}


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--rows", "0"], "0 is not positive"),
        (["--rate", "fast"], "'fast' is not a number"),
        (["--rate", "0"], "0 is not positive"),
        (["--tail", "inf"], "inf is not a finite number"),
        (["--pause", "-1"], "-1 is negative"),
        (["--baseline", "0"], "leave no request to measure the baseline with"),
    ],
)
def test_bad_arguments_are_one_line(args: list[str], complaint: str) -> None:
    result = bench_migrations(*args)

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert complaint in result.stderr
