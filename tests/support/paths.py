"""Where the project and its tools are, and the environment its commands run in."""

import os
import sys
from pathlib import Path

from sqlalchemy.engine import URL

ROOT = Path(__file__).resolve().parents[2]
# The running interpreter's virtual environment: alembic, uvicorn, ruff, squawk, ...
VENV_BIN = Path(sys.executable).parent


def subprocess_env(url: URL | None = None, **extra: str) -> dict[str, str]:
    """This environment with the project's tools first on PATH, DATABASE_URL set to `url` (or
    removed, so that no developer's setting leaks in), and `extra` added."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("DATABASE_URL", None)
    if url is not None:
        env["DATABASE_URL"] = url.render_as_string(hide_password=False)
    env.update(extra)
    return env
