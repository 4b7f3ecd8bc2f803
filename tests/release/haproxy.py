"""HAProxy (Debian's package) in front of the rehearsal's replicas, driven by its runtime API.

The backend has a fixed number of server slots (`server-template`), all in maintenance at
start. A replica takes a slot with `set server ... addr` and `state ready`; HAProxy then sends
it traffic only once its health check, GET /health/ready, answers 200, as a Kubernetes Service
sends traffic to a pod only once its readiness probe passes. Draining a slot (`state drain`)
stops new requests to it while those in flight finish, as removing a pod from the endpoints
does before its SIGTERM.
"""

import asyncio
import csv
import io
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import Process, started
from tests.support.throwaway import free_port

BACKEND = "app"
SLOT = "replica"
# Readiness probing: every 200 ms, one success to turn ready, two failures to turn unready.
CHECKS = "inter 200ms fastinter 200ms downinter 200ms rise 1 fall 2"

CONFIG = """\
global
    stats socket {socket} level admin
    maxconn 2000

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    # A request whose connection to a replica failed is sent to another one; nothing that may
    # have reached a replica is ever sent twice.
    retries 2
    option redispatch

frontend web
    bind 127.0.0.1:{port}
    default_backend {backend}

backend {backend}
    balance roundrobin
    option httpchk GET /health/ready
    http-check expect status 200
    default-server {checks}
    server-template {slot} 1-{slots} 127.0.0.1:9 disabled check
"""


class HAProxyError(Exception):
    """HAProxy cannot be started or refused a command; the message says which, in one line."""


@dataclass
class HAProxy:
    process: Process
    socket: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def command(self, line: str) -> str:
        reader, writer = await asyncio.open_unix_connection(str(self.socket))
        try:
            writer.write(f"{line}\n".encode())
            await writer.drain()
            answer = (await reader.read()).decode()
        finally:
            writer.close()
            await writer.wait_closed()
        # Its refusals read "No such server.", "Unknown command...", "... expects ...".
        if answer.startswith(("No such", "Unknown", "Require")) or " expects " in answer:
            raise HAProxyError(f"haproxy refused {line!r}: {answer.strip()}")
        return answer

    async def attach(self, slot: int, port: int) -> None:
        """Give slot `slot` to the replica on `port`; it takes traffic once its check passes."""
        server = f"{BACKEND}/{SLOT}{slot}"
        await self.command(f"set server {server} addr 127.0.0.1 port {port}")
        # Out of maintenance a server counts as up until its checks fail. Through drain (no
        # traffic) it is marked down first, so that its first passing check, not the command,
        # lets traffic in.
        for step in ("state drain", "health down", "state ready"):
            await self.command(f"set server {server} {step}")

    async def drain(self, slot: int) -> None:
        await self.command(f"set server {BACKEND}/{SLOT}{slot} state drain")

    async def detach(self, slot: int) -> None:
        await self.command(f"set server {BACKEND}/{SLOT}{slot} state maint")

    async def stats(self) -> dict[str, dict[str, str]]:
        """`show stat` of the backend's slots: name -> {status, scur, ...}."""
        answer = await self.command("show stat")
        rows = csv.DictReader(io.StringIO(answer.removeprefix("# ")))
        return {
            row["svname"]: row
            for row in rows
            if row["pxname"] == BACKEND and row["svname"].startswith(SLOT)
        }

    async def wait_for(self, slot: int, status: str, within: float) -> float:
        """Until the slot's status is `status` (UP, DOWN, MAINT, DRAIN); the seconds it took."""
        started_at = time.monotonic()
        while True:
            now = (await self.stats())[f"{SLOT}{slot}"]
            if now["status"].startswith(status):
                return time.monotonic() - started_at
            if time.monotonic() - started_at > within:
                raise HAProxyError(f"slot {slot} still {now['status']} after {within:g}s")
            await asyncio.sleep(0.05)

    async def wait_idle(self, slot: int, within: float) -> float:
        """Until no request is in flight on the slot (after a drain); the seconds it took."""
        started_at = time.monotonic()
        while int((await self.stats())[f"{SLOT}{slot}"]["scur"] or 0) > 0:
            if time.monotonic() - started_at > within:
                raise HAProxyError(f"slot {slot} still busy after {within:g}s")
            await asyncio.sleep(0.02)
        return time.monotonic() - started_at


@asynccontextmanager
async def running(slots: int) -> AsyncIterator[HAProxy]:
    executable = shutil.which("haproxy")
    if executable is None:
        raise HAProxyError("haproxy not found: apt-get install haproxy (Debian's package)")
    with tempfile.TemporaryDirectory(prefix="haproxy-") as scratch:
        socket, port = Path(scratch) / "admin.sock", free_port()
        config = Path(scratch) / "haproxy.cfg"
        config.write_text(
            CONFIG.format(
                socket=socket, port=port, backend=BACKEND, slot=SLOT, slots=slots, checks=CHECKS
            )
        )
        # -db: stay in the foreground, so that its process group is ours to end.
        with started([executable, "-db", "-f", config], env={}, cwd=Path(scratch)) as process:
            proxy = HAProxy(process, socket, port)
            deadline = time.monotonic() + 10
            while True:
                try:
                    await proxy.stats()
                    break
                except OSError:
                    if process.returncode is not None or time.monotonic() > deadline:
                        raise HAProxyError(f"haproxy did not start: {process.output}") from None
                    await asyncio.sleep(0.05)
            yield proxy
