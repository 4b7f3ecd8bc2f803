"""schemathesis against the service's own OpenAPI document, on a real server: every check.

It sends what the document allows (each such request must be accepted, or answered with a
status the document lists) and what it does not (each must be refused with a 4xx), in single
requests and in stateful sequences that follow the links between operations (create, then
read, change and delete what was created), and checks every answer's status, headers and body
against the document. A 500 anywhere fails it.

Bounded here to fit the suite; the longer run, with a new seed each time:

    API_FUZZ_EXAMPLES=1000 uv run pytest tests/test_api_fuzz.py

A failure prints the seed and a curl command that reproduces it.
"""

import os
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from tests.support.paths import VENV_BIN
from tests.support.processes import entrypoint, run_command

EXAMPLES_SETTING = "API_FUZZ_EXAMPLES"
EXAMPLES = int(os.environ.get(EXAMPLES_SETTING, "30"))


@pytest.mark.timeout(120 + EXAMPLES)
async def test_the_api_keeps_every_promise_of_its_openapi_document(
    committed_database: URL, tmp_path: Path
) -> None:
    with entrypoint(committed_database) as server:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            await server.wait_until_ready(client)
        result = run_command(
            [
                VENV_BIN / "schemathesis",
                "run",
                f"{server.base_url}/openapi.json",
                "--checks=all",
                f"--max-examples={EXAMPLES}",
                "--workers=1",
                "--generation-database=none",
                "--no-color",
            ],
            cwd=tmp_path,  # where schemathesis keeps its cache of crashes
            timeout=60 + EXAMPLES,
        )
        server_output = server.output

    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert "Traceback" not in server_output, server_output[-4000:]
