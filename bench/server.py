"""Servers under test, started exactly as entrypoint.sh starts uvicorn.

The uvicorn command line is read from entrypoint.sh itself, so the app and the limit run with
the production flags (workers, proxy headers, ...) and a change there reaches the benchmark.
"""

import os
import re
import shlex
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.errors import BenchError
from bench.paths import ENTRYPOINT, PYCACHE, ROOT, VENV_BIN
from tests.support.throwaway import free_port

APP_TARGET = "app.main:create_app"
LIMIT_TARGET = "bench.limit_app:create_app"
READY_DEADLINE_SECONDS = 30.0
_DEFAULTED_VARIABLE = re.compile(r"\$\{(\w+):-([^}]*)\}")


def uvicorn_command(target: str, env: Mapping[str, str]) -> list[str]:
    """entrypoint.sh's `exec uvicorn ...` command, serving `target`, variables expanded."""
    script = ENTRYPOINT.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in script.splitlines()]
    exec_line = next((line for line in lines if line.startswith("exec uvicorn ")), None)
    if exec_line is None:
        raise BenchError(f"no 'exec uvicorn' line in {ENTRYPOINT.name}; update bench/server.py")
    words = [
        _DEFAULTED_VARIABLE.sub(lambda m: env.get(m[1]) or m[2], word)
        for word in shlex.split(exec_line)[1:]
    ]
    if words[1] != APP_TARGET:
        raise BenchError(f"{ENTRYPOINT.name} serves {words[1]!r}, expected {APP_TARGET!r}")
    return [str(VENV_BIN / "uvicorn"), target, *words[2:]]


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "HOST": "127.0.0.1", **extra}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    # Servers run from compiled bytecode, as in the image (UV_COMPILE_BYTECODE=1, compileall):
    # compiling SQLAlchemy, FastAPI and pydantic from source costs more than a whole start.
    # Where the environment forbids writing bytecode (PYTHONDONTWRITEBYTECODE), it goes to a
    # cache of the benchmarks' own instead of next to the sources.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(PYCACHE))
    return env


def get_status(url: str, timeout: float = 1.0) -> int | None:
    """The HTTP status of GET `url`, or None if nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def cpu_seconds(self) -> float:
        """CPU time of the process and of the children it waited for (user + system).

        Children count because entrypoint.sh runs its steps as children before `exec uvicorn`,
        and exec keeps the process's account of them.
        """
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system + times.children_user + times.children_system)

    def peak_rss_bytes(self) -> int:
        """The kernel's high-water mark of the process's resident memory (VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise BenchError(f"no VmHWM for {self.name} (pid {self.process.pid})")

    def log_tail(self) -> str:
        lines = self.log.read_text(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no output"


def wait_until_ready(
    server: Server,
    deadline_seconds: float = READY_DEADLINE_SECONDS,
    on_poll: Callable[[], None] | None = None,
) -> float:
    """Poll /health/ready every 5 ms until it answers 200; return the seconds that took."""
    started = time.monotonic()
    while time.monotonic() - started < deadline_seconds:
        if on_poll is not None:
            on_poll()
        if server.process.poll() is not None:
            raise BenchError(f"{server.name} exited early: {server.log_tail()}")
        if get_status(f"{server.base_url}/health/ready") == 200:
            return time.monotonic() - started
        time.sleep(0.005)
    raise BenchError(f"{server.name} not ready within {deadline_seconds:g}s: {server.log_tail()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running(
    name: str,
    command: list[str],
    env: dict[str, str],
    port: int,
    log_dir: Path,
    cwd: Path = ROOT,
) -> Iterator[Server]:
    """Start `command` in `cwd`, yield it as a Server (not yet ready), stop it on the way out."""
    log = log_dir / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own commands
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield Server(name, process, f"http://127.0.0.1:{port}", log)
    finally:
        stop(process)


@contextmanager
def uvicorn(
    name: str,
    target: str,
    database_url: str,
    log_dir: Path,
    settings: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
) -> Iterator[Server]:
    """uvicorn serving `target` from `cwd` with entrypoint.sh's flags, ready for requests.

    uvicorn imports `target` from its working directory, so `cwd` picks the source tree.
    """
    port = free_port()
    env = server_env(database_url, PORT=str(port), **(settings or {}))
    with running(name, uvicorn_command(target, env), env, port, log_dir, cwd) as server:
        wait_until_ready(server)
        yield server
