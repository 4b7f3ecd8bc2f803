"""Where the benchmarks find the project and its tools."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The running interpreter's venv: uvicorn, alembic and py-spy are the locked versions.
VENV_BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
ENTRYPOINT = ROOT / "entrypoint.sh"
# Bytecode of everything the servers import (see server.server_env); git-ignored.
PYCACHE = RESULTS / "pycache"
