"""A request body over MAX_REQUEST_BODY_BYTES is answered 413 in JSON, before it is held.

In-process with a small limit: the answer, however the body is sent. Against a real server with
the configured limit: a 100 MB body leaves the server's peak memory where it was.
"""

import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from app.main import create_app
from tests.support.app import serve
from tests.support.processes import entrypoint
from tests.support.settings import settings_for

LIMIT = 1000
TOO_LARGE = {"detail": f"The request body is larger than the limit of {LIMIT} bytes."}


@pytest.fixture
async def client(committed_database: URL) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_for(committed_database, max_request_body_bytes=LIMIT))
    async with serve(app) as client:
        yield client


def body_of(size: int) -> bytes:
    """A user's JSON padded with spaces to `size` bytes: valid, only too large."""
    user = b'{"email": "pad@example.com", "full_name": "Pad"}'
    return user + b" " * (size - len(user))


async def test_a_body_with_a_content_length_over_the_limit_is_413(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/users", content=body_of(LIMIT + 1))

    assert response.status_code == 413
    assert response.json() == TOO_LARGE


async def test_a_body_sent_in_chunks_is_413_once_past_the_limit(client: httpx.AsyncClient) -> None:
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        # No Content-Length: the size is only known as the chunks arrive.
        for _ in range(100):
            sent.append(600)
            yield b" " * 600

    response = await client.post(
        "/users", content=chunks(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert len(sent) == 2  # refused at the chunk that passed the limit, the rest never read


async def test_a_body_at_the_limit_is_served(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/users", content=body_of(LIMIT), headers={"content-type": "application/json"}
    )

    assert response.status_code == 201, response.text


def peak_memory_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmHWM for pid {pid}")


def send_large_body(port: int, size: int, *, chunked: bool) -> bytes:
    """POST `size` bytes on a plain socket (so the client holds only one chunk at a time), then
    read the answer; the server may stop reading and answer before the body is all sent."""
    chunk = b" " * 65536
    framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % size
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(
            b"POST /users HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + framing
            + b"\r\n\r\n"
        )
        deadline = time.monotonic() + 30
        try:
            for _ in range(size // len(chunk)):
                assert time.monotonic() < deadline, "sending the body took over 30s"
                connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            if chunked:
                connection.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server closed the connection after answering: read the answer
        return connection.recv(65536)


def status_and_body(raw: bytes) -> tuple[str, str]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), body.decode(errors="replace")


async def test_a_100_mb_body_is_refused_without_being_held(committed_database: URL) -> None:
    with entrypoint(committed_database) as server:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            await server.wait_until_ready(client)
            port = int(server.base_url.rsplit(":", 1)[1])
            before = peak_memory_kib(server.pid)
            answers = [
                status_and_body(send_large_body(port, 100 * 2**20, chunked=chunked))
                for chunked in (False, True)
            ]
            after = peak_memory_kib(server.pid)
            still_serving = await client.get("/health/ready")

    for status_line, body in answers:
        assert status_line.endswith(" 413 Request Entity Too Large"), status_line
        assert body.startswith('{"detail":"The request body is larger than the limit of ')
    # Holding one of the bodies would take 100 MB at least (432 MB at the peak, before the
    # limit existed).
    assert after - before < 20 * 1024, f"peak memory grew from {before} to {after} KiB"
    assert still_serving.status_code == 200
