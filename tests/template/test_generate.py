"""`copier copy` of this template: both kinds of project, renamed, and passing their own tests.

- Answered with the template's own names, copier gives back the template's own files: the
  derivations in the *.jinja files change nothing but the names.
- A new service, without the examples, keeps no trace of the template's names or of the story,
  and its README's test command passes.
- A new service with the examples keeps the story: one head, no drift, and its API and compose
  tests pass (the rest of its suite is this template's own).
- An answer that cannot work is refused, with the rule it breaks.
"""

import os
import re
from pathlib import Path

import pytest

from tests.support.alembic import HEAD
from tests.support.paths import ROOT, VENV_BIN
from tests.template.generate import (
    OWN_ANSWERS,
    TEMPLATE_ONLY,
    Answers,
    blocks,
    copier,
    data,
    files,
    generate,
    git,
    lock_problem,
    run,
    tracked_files,
    unused_support_modules,
)
from tests.template.references import dangling

NEW_SERVICE: Answers = {
    "project_name": "Ledger Keeper",
    "project_slug": "ledger-keeper",
    "description": "Keeps every account's ledger, one entry at a time.",
    # Long on purpose: the local database URL in app/settings.py must still pass ruff.
    "database_name": "ledger_keeper_records_of_the_accounts_department",
    "python_version": "3.12",
    "app_port": 8123,
    "postgres_port": 5544,
    "with_examples": False,
}
# Text of the template's own answers that a new service must not contain.
NAMES = ("fastapi-alembic-template", "Alembic service template")
TRACES = (
    *NAMES,
    "5432/app",
    "dbname=app",
    "POSTGRES_DB: app",
    'LOCAL_DATABASE = "app"',
    "5433",
    "APP_HOST_PORT:-8000",
    "APP_HOST_PORT=8000",
    "localhost:8000",
    "127.0.0.1:8000",
    "python:3.13",
)
STORY_REVISIONS = sorted(
    path.stem
    for path in (ROOT / "alembic" / "versions").glob("*.py")
    if path.stem != "0001_initial_schema"
)
STORY = ("expand-contract", "production-migrations", "tests/story", "tests.story", *STORY_REVISIONS)


# Files that hold no text to search (a plot).
BINARY_SUFFIXES = (".png",)


def traces(project: Path, texts: tuple[str, ...]) -> dict[str, list[str]]:
    """For each text file, the `texts` it contains. uv.lock is only searched for the names: its
    hashes hold any number."""
    found = {}
    for name in sorted(files(project)):
        if name.endswith(BINARY_SUFFIXES):
            continue
        searched = NAMES if name == "uv.lock" else texts
        content = (project / name).read_text()
        if hits := [text for text in searched if text in content]:
            found[name] = hits
    return found


def own_environment(scratch: Path) -> dict[str, str]:
    """For running a generated project's own commands beside this suite."""
    env = dict(os.environ)
    # It makes its own virtual environment: never this one.
    env.pop("VIRTUAL_ENV", None)
    env.pop("UV_PROJECT_ENVIRONMENT", None)
    # Its lock holds this template's packages, which `uv sync` put in uv's cache already.
    env.update(UV_OFFLINE="1", UV_PYTHON_DOWNLOADS="never")
    # Its pytest keeps its temporary folders apart, so its clean-up never meets this suite's.
    env["PYTEST_DEBUG_TEMPROOT"] = str(scratch)
    return env


# --- the template's own answers --------------------------------------------------------------


def test_the_template_s_own_answers_give_back_its_own_files(template: Path, tmp_path: Path) -> None:
    """Byte for byte, but for what a service never gets: the template-only blocks (and the
    marker lines of the blocks it keeps), copier in the lock, and the README's own changes."""
    project = generate(template, tmp_path / "own", OWN_ANSWERS)

    expected = {name for name in tracked_files(template) if not TEMPLATE_ONLY.match(name)}
    assert files(project) == expected | {".copier-answers.yml"}
    changed = [
        name
        for name in sorted(expected - {"README.md", "uv.lock"})
        if (project / name).read_bytes()
        != blocks((template / name).read_bytes(), with_examples=True)
        or os.access(project / name, os.X_OK) != os.access(template / name, os.X_OK)
    ]
    assert changed == []
    assert "copier" not in (project / "pyproject.toml").read_text()
    # The README: the template's, titled and described by the answers, less its template-only
    # sections (how to generate), plus how to take in template updates.
    kept = blocks((template / "README.md").read_bytes(), with_examples=True).decode()
    title, _, rest = kept.partition("\n")
    readme = (project / "README.md").read_text()
    assert readme.startswith(
        f"{title}\n\n{OWN_ANSWERS['description']}\n{rest}\n## Template updates\n"
    )
    assert "uvx copier update" in readme


# --- a new service, without the examples ----------------------------------------------------


@pytest.fixture(scope="module")
def new_service(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(template, tmp_path_factory.mktemp("new") / "ledger-keeper", NEW_SERVICE)


def test_a_new_service_has_its_own_names_and_no_story(new_service: Path) -> None:
    project = new_service

    assert traces(project, TRACES + STORY) == {}
    assert "<!--" not in (project / "README.md").read_text()
    assert not [name for name in files(project) if TEMPLATE_ONLY.match(name)]
    assert sorted(path.name for path in (project / "alembic" / "versions").iterdir()) == [
        "0001_initial_schema.py"
    ]
    assert not (project / "tests" / "story").exists()
    assert not (project / "docs").exists()
    assert 'name = "ledger-keeper"' in (project / "pyproject.toml").read_text()
    assert '\n[[package]]\nname = "ledger-keeper"\n' in (project / "uv.lock").read_text()
    compose = (project / "docker-compose.yml").read_text()
    assert "name: ledger-keeper\n" in compose
    assert "@db:5432/ledger_keeper_records_of_the_accounts_department" in compose
    assert "${APP_HOST_PORT:-8123}" in compose
    assert "${POSTGRES_HOST_PORT:-5544}" in compose
    assert "ARG BASE=python:3.12-slim-bookworm" in (project / "Dockerfile").read_text()
    assert (
        (project / "README.md")
        .read_text()
        .startswith("# Ledger Keeper\n\nKeeps every account's ledger, one entry at a time.\n\n")
    )
    assert 'title="Ledger Keeper"' in (project / "app" / "main.py").read_text()
    answers = (project / ".copier-answers.yml").read_text()
    assert "_commit: v1.0.0\n" in answers
    assert "project_slug: ledger-keeper\n" in answers
    assert "with_examples: false\n" in answers


def test_a_new_service_names_no_path_module_or_link_it_does_not_have(new_service: Path) -> None:
    assert dangling(new_service) == {}


def test_every_test_support_module_of_a_new_service_is_used(new_service: Path) -> None:
    assert unused_support_modules(new_service) == []


def test_a_new_service_s_lock_is_the_one_uv_makes_for_it(new_service: Path, tmp_path: Path) -> None:
    assert lock_problem(new_service, own_environment(tmp_path)) is None


@pytest.mark.timeout(900)
def test_a_new_service_passes_its_readme_test_command(new_service: Path, tmp_path: Path) -> None:
    """./scripts/test.sh in the new project, whole: its own environment from its lock, ruff,
    mypy, then every one of its tests."""
    test_command = new_service / "scripts" / "test.sh"
    result = run(test_command, cwd=new_service, env=own_environment(tmp_path), timeout=840)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    # Every test ran and passed: nothing failed, nothing was skipped.
    assert re.search(r"^=+ \d+ passed in [\d.]+s", output, re.MULTILINE), output[-2000:]


# --- a new service with the examples --------------------------------------------------------

WITH_EXAMPLES: Answers = {**NEW_SERVICE, "project_slug": "ledger-story", "with_examples": True}


def test_a_new_service_with_the_examples_keeps_the_story_and_passes_its_tests(
    template: Path, tmp_path: Path
) -> None:
    project = generate(template, tmp_path / "ledger-story", WITH_EXAMPLES)

    assert traces(project, TRACES) == {}
    assert dangling(project) == {}
    assert unused_support_modules(project) == []
    assert lock_problem(project, own_environment(tmp_path)) is None
    assert "<!--" not in (project / "README.md").read_text()
    for name in tracked_files(template):
        if name.startswith(("alembic/versions/", "tests/story/")) and not TEMPLATE_ONLY.match(name):
            assert (project / name).read_bytes() == (template / name).read_bytes(), name
    assert (project / "docs" / "expand-contract.md").is_file()
    heads = run(VENV_BIN / "alembic", "heads", cwd=project)
    assert heads.stdout.strip() == f"{HEAD} (head)", heads.stderr
    # Its tests are this template's own, which ran in this suite already; these check what the
    # new names could break. This suite's environment has the same locked packages.
    result = run(
        VENV_BIN / "python",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "tests/test_alembic.py::test_check_finds_no_drift_after_upgrade",
        "tests/test_container_files.py",
        "tests/api",
        cwd=project,
        env=own_environment(tmp_path),
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr
    assert re.search(r"^=+ \d+ passed in [\d.]+s", result.stdout, re.MULTILINE), result.stdout


# --- the template itself ---------------------------------------------------------------------


def test_the_template_names_no_path_module_or_link_it_does_not_have() -> None:
    assert dangling(ROOT) == {}


def test_every_test_support_module_of_the_template_is_used() -> None:
    assert unused_support_modules(ROOT) == []


def test_a_replacement_that_would_match_more_than_intended_stops_generation(
    template: Path, tmp_path: Path
) -> None:
    """A derivation replaces each text exactly as often as its .jinja sibling says: here the
    slug appears once more in the Dockerfile than Dockerfile.jinja expects."""
    upstream = tmp_path / "upstream"
    git(tmp_path, "clone", "--quiet", str(template), str(upstream))
    dockerfile = upstream / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "# fastapi-alembic-template, once more\n")
    git(upstream, "commit", "--quiet", "--all", "--message=one more name")

    # The commit itself: copier takes the newest tag otherwise.
    result = copier(
        "copy",
        "--defaults",
        "--vcs-ref=HEAD",
        *data(NEW_SERVICE),
        str(upstream),
        "bad",
        cwd=tmp_path,
    )

    assert result.returncode != 0
    assert (
        'Dockerfile contains "fastapi-alembic-template" 3 time(s); its .jinja sibling replaces '
        "it 2 time(s)"
    ) in result.stderr
    assert not (tmp_path / "bad").exists()


# --- bad answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (
            {"project_slug": "Billing_Service"},
            "Validation error for question 'project_slug': must be lowercase letters, digits "
            "and single hyphens, starting with a letter, e.g. billing-service",
        ),
        (
            {"database_name": "billing-db"},
            "Validation error for question 'database_name': must be lowercase letters, digits "
            "and underscores",
        ),
        (
            {"app_port": 80},
            "Validation error for question 'app_port': must be between 1024 and 65535",
        ),
        (
            {"app_port": 5433, "postgres_port": 5433},
            "Validation error for question 'postgres_port': must differ from app_port (5433)",
        ),
    ],
    ids=["slug", "database", "port-range", "same-ports"],
)
def test_an_answer_that_cannot_work_is_refused_with_the_rule_it_breaks(
    template: Path, tmp_path: Path, answers: Answers, message: str
) -> None:
    result = copier("copy", "--defaults", *data(answers), str(template), "bad", cwd=tmp_path)

    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith(f"ValueError: {message}")
    assert not (tmp_path / "bad").exists()
