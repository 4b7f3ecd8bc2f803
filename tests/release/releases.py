"""A release as the checks run it: a source tree of its own, with its own locked environment.

The previous release is built from git (`git archive REF`, then `uv sync --frozen` from its own
lock), so its code, its revisions and its tests are exactly those it shipped with; the new
release is this working tree. Each is started the way it is deployed, through its own
entrypoint.sh, and its API tests run black-box against a base URL (tests/api/conftest.py).
"""

import io
import os
import re
import subprocess
import tarfile
import tempfile
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from tests.support.paths import ROOT, VENV_BIN
from tests.support.processes import Process, run_to_end, started
from tests.support.throwaway import dsn, free_port

API_TESTS = "tests/api"
# What one release's environment must not inherit from whoever runs the checks.
_NOT_INHERITED = {"VIRTUAL_ENV", "DATABASE_URL", "API_BASE_URL", "PYTHONPATH", "ALEMBIC_CONFIG"}


class ReleaseError(Exception):
    """A release cannot be built or run; the message says why, in one line."""


@dataclass(frozen=True)
class Release:
    label: str  # the git ref, or "this tree"
    root: Path
    bin: Path  # its virtual environment's executables

    def env(self, url: URL | None = None, /, **extra: str) -> dict[str, str]:
        """An environment for this release's commands: its own tools first on PATH."""
        env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(self.bin.parent)
        if url is not None:
            env["DATABASE_URL"] = dsn(url)
        env.update(extra)
        return env

    def heads(self) -> list[str]:
        """The head revision(s) this release ships (read from its files; no database)."""
        result = run_to_end([self.bin / "alembic", "heads"], cwd=self.root, env=self.env())
        if result.returncode != 0:
            raise ReleaseError(f"{self}: `alembic heads` failed: {_last_line(result.stderr)}")
        return re.findall(r"^(\S+) \(head\)", result.stdout, re.MULTILINE)

    def __str__(self) -> str:
        return self.label if self.root == ROOT else f"release {self.label}"


def this_tree() -> Release:
    return Release("this tree", ROOT, VENV_BIN)


@contextmanager
def checked_out(ref: str) -> Iterator[Release]:
    """`ref` of this repository in a folder of its own, with its own environment."""
    commit = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit.returncode != 0:
        raise ReleaseError(f"{ref!r} is not a commit or tag of {ROOT} (git tag --list shows tags)")
    with tempfile.TemporaryDirectory(prefix="release-") as scratch:
        root = Path(scratch) / "tree"
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", commit.stdout.strip()],
            capture_output=True,
            check=False,
        )
        if archive.returncode != 0:
            raise ReleaseError(f"git archive {ref} failed: {_last_line(archive.stderr.decode())}")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(root, filter="tar")
        release = Release(ref, root, root / ".venv" / "bin")
        synced = run_to_end(
            ["uv", "sync", "--frozen", "--quiet"],
            cwd=root,
            env={**release.env(), "UV_PROJECT_ENVIRONMENT": str(root / ".venv")},
            timeout=600,
        )
        if synced.returncode != 0:
            raise ReleaseError(f"{release}: uv sync --frozen failed: {_last_line(synced.stderr)}")
        if not (root / API_TESTS).is_dir():
            raise ReleaseError(f"{release} has no {API_TESTS}/: the checks need its API tests")
        yield release


@contextmanager
def serving(release: Release, url: URL, **env: str) -> Iterator[Process]:
    """The release's entrypoint.sh (which migrates, unless MIGRATE_ON_START=false, then serves)
    on a free port of 127.0.0.1, against the database at `url`."""
    port = free_port()
    settings = release.env(url, HOST="127.0.0.1", PORT=str(port), **env)
    with started([release.root / "entrypoint.sh"], env=settings, cwd=release.root) as process:
        process.base_url = f"http://127.0.0.1:{port}"
        yield process


@dataclass(frozen=True)
class TestRun:
    passed: int
    failed: list[str]  # node ids: tests/api/test_users.py::test_delete
    output: str

    @property
    def ok(self) -> bool:
        return not self.failed and self.passed > 0


def api_tests(release: Release, base_url: str, **env: str) -> TestRun:
    """The release's black-box API tests against the server at `base_url`."""
    with tempfile.TemporaryDirectory(prefix="api-tests-") as scratch:
        report = Path(scratch) / "junit.xml"
        command: list[str | Path] = [
            release.bin / "python",
            "-m",
            "pytest",
            API_TESTS,
            "-q",
            "-p",
            "no:cacheprovider",
        ]
        result = run_to_end(
            [*command, f"--junitxml={report}"],
            cwd=release.root,
            env=release.env(API_BASE_URL=base_url, **env),
            timeout=600,
        )
        output = result.stdout + result.stderr
        if not report.is_file():
            raise ReleaseError(f"{release}: its API tests did not run: {_last_line(output)}")
        passed, failed = _outcomes(report.read_text())
    return TestRun(passed, failed, output)


def _outcomes(junit: str) -> tuple[int, list[str]]:
    passed, failed = 0, []
    for case in ElementTree.fromstring(junit).iter("testcase"):  # noqa: S314 - pytest's own report
        path = case.get("classname", "").replace(".", "/")
        node = f"{path}.py::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(node)
        elif case.find("skipped") is None:
            passed += 1
    return passed, failed


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
    )


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
