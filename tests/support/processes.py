"""Real processes of the service: entrypoint.sh (or the README's run script) on a free port."""

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.engine import URL

from tests.support.alembic import ROOT, subprocess_env

ENTRYPOINT = ROOT / "entrypoint.sh"
STARTUP_DEADLINE_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Entrypoint:
    process: subprocess.Popen[str]
    base_url: str

    async def wait_until_ready(self, client: httpx.AsyncClient) -> None:
        await self.wait_for_200(client, "/health/ready")

    async def wait_for_200(self, client: httpx.AsyncClient, path: str) -> None:
        deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"exited early:\n{self.process.communicate()[0]}")
            try:
                if (await client.get(path, timeout=1)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"{path} not 200 within {STARTUP_DEADLINE_SECONDS}s")


@contextmanager
def entrypoint(
    url: URL | str, command: Path = ENTRYPOINT, env: dict[str, str] | None = None
) -> Iterator[Entrypoint]:
    """Start entrypoint.sh (or `command`); kill it at the end if the test did not stop it."""
    port = free_port()
    database_url = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    process = subprocess.Popen(
        [str(command)],
        cwd=ROOT,
        env=subprocess_env(
            None, HOST="127.0.0.1", PORT=str(port), DATABASE_URL=database_url, **(env or {})
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield Entrypoint(process, f"http://127.0.0.1:{port}")
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()  # reaps it and closes the pipe
