"""Generate projects from this template as its users do: copier's CLI on a git repository.

Nothing of this folder reaches a generated project (copier.yml excludes it).
"""

import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Mapping
from pathlib import Path

from tests.support.paths import ROOT, VENV_BIN
from tests.support.processes import run_to_end

Answers = Mapping[str, str | int | bool]

COPIER = VENV_BIN / "copier"
# What the template itself is: answering with these gives back the template's own files.
OWN_ANSWERS: Answers = {
    "project_name": "FastAPI + PostgreSQL + Alembic service template",
    "project_slug": "fastapi-alembic-template",
    "description": tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["description"],
    "database_name": "app",
    "python_version": "3.13",
    "app_port": 8000,
    "postgres_port": 5433,
    "with_examples": True,
}
# What git and the tools leave in a project, which is not the project's content.
NOT_CONTENT = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
# Files of the template that a generated project never gets.
TEMPLATE_ONLY = re.compile(r"^(copier\.yml|\.copier/.*|tests/template/.*|.*\.jinja)$")


def run(
    *command: str | Path, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return run_to_end(command, cwd=cwd, env=os.environ if env is None else env, timeout=timeout)


def git(cwd: Path, *args: str) -> str:
    # A throwaway identity, and no signing whatever the developer's own git config asks for.
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    unsigned = ["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"]
    result = run("git", *identity, *unsigned, *args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


def template_repository(into: Path) -> Path:
    """The template as copier needs it for updates: a git repository with a tagged release.

    Made from the working tree, uncommitted changes included, so the suite tests what is on disk.
    """
    shutil.copytree(ROOT, into, ignore=shutil.ignore_patterns(*NOT_CONTENT))
    git(into, "init", "--quiet", "--initial-branch=main")
    git(into, "add", "--all")  # as .gitignore says: no .env, no bench results
    git(into, "commit", "--quiet", "--message=the template")
    git(into, "tag", "v1.0.0")
    return into


def copier(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run(COPIER, *args, cwd=cwd, env={**os.environ, "NO_COLOR": "1"})


def data(answers: Answers) -> list[str]:
    return [
        f"--data={key}={str(value).lower() if isinstance(value, bool) else value}"
        for key, value in answers.items()
    ]


def generate(template: Path, destination: Path, answers: Answers) -> Path:
    result = copier(
        "copy",
        "--defaults",
        *data(answers),
        str(template),
        str(destination),
        cwd=destination.parent,
    )
    assert result.returncode == 0, result.stderr
    return destination


def files(root: Path) -> set[str]:
    """Every file of the project at `root`, as a relative POSIX path."""
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and not NOT_CONTENT.intersection(path.relative_to(root).parts)
    }


def tracked_files(repository: Path) -> set[str]:
    return set(git(repository, "ls-files").splitlines())


def blocks(content: bytes, *, with_examples: bool) -> bytes:
    """A file as generation leaves its marked blocks (.copier/derive.jinja): template-only ones
    gone, examples-only ones gone or, with the examples, kept without their marker lines."""
    text = content.decode(errors="surrogateescape")

    def marker(name: str) -> str:
        return rf"^[ \t]*(?:<!-- |# ){name}(?: -->)?\n"

    dropped = ["template-only"] + ([] if with_examples else ["examples-only"])
    for name in dropped:
        text = re.sub(rf"(?ms){marker(name)}.*?{marker('/' + name)}\n?", "", text)
    text = re.sub(rf"(?m){marker('/?examples-only')}", "", text)
    return text.encode(errors="surrogateescape")


def lock_problem(project: Path, env: Mapping[str, str]) -> str | None:
    """None when `project`'s uv.lock is exactly what `uv lock` makes from its pyproject.toml;
    else what differs, and what to change in uv.lock.jinja."""
    before = (project / "uv.lock").read_text()
    relocked = run("uv", "lock", "--offline", "--quiet", cwd=project, env=env)
    after = (project / "uv.lock").read_text()
    (project / "uv.lock").write_text(before)
    if relocked.returncode != 0:
        return f"uv lock failed: {relocked.stderr.strip()}"
    if after == before:
        return None
    packages = re.compile(r'(?m)^\[\[package\]\]\nname = "([^"]+)"')
    extra = sorted(set(packages.findall(before)) - set(packages.findall(after)))
    missing = sorted(set(packages.findall(after)) - set(packages.findall(before)))
    return f"uv.lock.jinja should also drop {extra} and keep {missing}; or the lock differs so"


def unused_support_modules(project: Path) -> list[str]:
    """Modules of tests/support/ that no test imports, directly or through another of them."""
    support = {p.stem for p in (project / "tests" / "support").glob("*.py") if p.stem != "__init__"}
    imports = re.compile(
        r"^(?:from tests\.support(?:\.(\w+))? import ([\w, ]+)|import tests\.support\.(\w+))", re.M
    )

    def used_by(path: Path) -> set[str]:
        names: set[str] = set()
        for module, imported, plain in imports.findall(path.read_text()):
            if module or plain:
                names.add(module or plain)
            else:  # from tests.support import a, b
                names.update(name.strip() for name in imported.split(","))
        return names & support

    tests = [p for p in (project / "tests").rglob("*.py") if "support" not in p.parts]
    reached = set().union(*(used_by(p) for p in tests))
    frontier = set(reached)
    while frontier:
        found = set().union(*(used_by(project / "tests" / "support" / f"{m}.py") for m in frontier))
        frontier = found - reached
        reached |= found
    return sorted(support - reached)
