"""The release checks on a generated service's own releases: tags v1 and v2 of its own git.

A compatible change (the README's nickname: an expand revision, the model, an API field) passes
the release gate and the rehearsal, and the service's whole suite after it. Each of two breaking
changes (a column the previous release reads, dropped; a column renamed in one step) fails the
gate, which names the revision and a test of the previous release, and the rehearsal counts the
old replicas' failed requests. The suite asserts counts, never speeds.
"""

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.template.changes import (
    add_nickname,
    drop_a_column_the_previous_release_reads,
    release,
    rename_in_one_step,
)
from tests.template.generate import generate, git, run
from tests.template.test_generate import NEW_SERVICE, WITH_EXAMPLES, own_environment

# The rehearsal, small: two replicas are enough for old and new to serve side by side.
SHORT_REHEARSAL = ("--replicas", "2", "--rate", "30", "--baseline", "2", "--tail", "2")


@pytest.fixture(scope="module")
def v1(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new service, its first release tagged v1, its environment made."""
    project = generate(template, tmp_path_factory.mktemp("releases") / "ledger", NEW_SERVICE)
    git(project, "init", "--quiet", "--initial-branch=main")
    release(project, "v1")
    synced = run(
        "uv", "sync", "--frozen", "--quiet", cwd=project, env=own_environment(project.parent)
    )
    assert synced.returncode == 0, synced.stderr
    return project


def branch(v1: Path, into: Path) -> Path:
    """A clone of the service at v1, to make its next release in."""
    git(into.parent, "clone", "--quiet", str(v1), str(into))
    shutil.copytree(v1 / ".venv", into / ".venv", symlinks=True)
    return into


def gate(project: Path, env: dict[str, str]) -> tuple[int, str]:
    result = run(
        project / ".venv" / "bin" / "python", "-m", "tests.release.gate", "v1", cwd=project, env=env
    )
    return result.returncode, result.stdout + result.stderr


def rehearse(project: Path, env: dict[str, str], output: Path) -> tuple[int, dict[str, Any]]:
    result = run(
        project / ".venv" / "bin" / "python",
        "-m",
        "tests.release.rehearsal",
        "v1",
        *SHORT_REHEARSAL,
        f"--output={output}",
        cwd=project,
        env=env,
        timeout=300,
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    figures: dict[str, Any] = json.loads((output / "rehearsal.json").read_text())
    return result.returncode, figures


@pytest.mark.timeout(900)
async def test_a_compatible_change_passes_the_gate_the_rehearsal_and_the_suite(
    v1: Path, tmp_path: Path
) -> None:
    env = own_environment(tmp_path)
    project = branch(v1, tmp_path / "v2")
    await add_nickname(project, env)
    release(project, "v2")

    status, output = gate(project, env)
    assert status == 0, output
    [line] = output.strip().splitlines()
    assert line.startswith("release gate: passed: release v1's ")
    assert "0002_add_user_nickname" in line

    status, figures = rehearse(project, env, tmp_path / "rehearsal")
    assert status == 0, figures
    assert figures["failed_requests"] == 0
    assert figures["rows_present"] == figures["rows_acknowledged"]
    assert figures["rows_acknowledged"] > 0
    assert (tmp_path / "rehearsal" / "rehearsal.png").stat().st_size > 0

    suite = run(project / "scripts" / "test.sh", cwd=project, env=env, timeout=840)
    assert suite.returncode == 0, (suite.stdout + suite.stderr)[-5000:]
    assert re.search(r"^=+ \d+ passed in [\d.]+s", suite.stdout, re.MULTILINE), suite.stdout[-2000:]


@pytest.mark.parametrize(
    ("change", "revision"),
    [
        (rename_in_one_step, "0002_rename_full_name"),
        (drop_a_column_the_previous_release_reads, "0002_drop_created_at"),
    ],
    ids=["rename", "drop"],
)
def test_a_breaking_change_fails_the_gate_naming_the_revision_and_the_old_test(
    v1: Path, tmp_path: Path, change: object, revision: str
) -> None:
    env = own_environment(tmp_path)
    project = branch(v1, tmp_path / "v2")
    change(project, "0001_initial_schema")  # type: ignore[operator]
    release(project, "v2")

    status, output = gate(project, env)

    assert status == 1, output
    first = output.strip().splitlines()[0]
    assert first.startswith(f"release gate: FAILED: revision(s) {revision} broke release v1: ")
    assert re.search(r"tests/api/\w+\.py::\w+", first), first
    assert "Traceback" not in first


@pytest.mark.timeout(600)
def test_a_breaking_change_makes_the_old_replicas_fail_requests_in_the_rehearsal(
    v1: Path, tmp_path: Path
) -> None:
    env = own_environment(tmp_path)
    project = branch(v1, tmp_path / "v2")
    rename_in_one_step(project, "0001_initial_schema")
    release(project, "v2")

    status, figures = rehearse(project, env, tmp_path / "rehearsal")

    assert status == 1
    assert figures["failed_requests"] > 0
    assert any("500" in failure for failure in figures["failures"])


@pytest.mark.timeout(1500)
async def test_the_readme_s_first_change_keeps_a_service_with_the_examples_green(
    template: Path, tmp_path: Path
) -> None:
    """The nickname in a service that kept the story: its whole suite, story and benchmarks
    included, still passes (no test pins the revisions, the head or the columns)."""
    env = own_environment(tmp_path)
    project = generate(template, tmp_path / "ledger-story", WITH_EXAMPLES)
    synced = run("uv", "sync", "--frozen", "--quiet", cwd=project, env=env)
    assert synced.returncode == 0, synced.stderr
    await add_nickname(project, env)

    suite = run(project / "scripts" / "test.sh", cwd=project, env=env, timeout=1440)

    assert suite.returncode == 0, (suite.stdout + suite.stderr)[-5000:]
    assert re.search(r"^=+ \d+ passed in [\d.]+s", suite.stdout, re.MULTILINE), suite.stdout[-2000:]
