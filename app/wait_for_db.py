"""Wait, a bounded number of times, until the database accepts connections; then migrate it.

    python -m app.wait_for_db              # wait only
    python -m app.wait_for_db --migrate    # wait, then `alembic upgrade head`

Run by entrypoint.sh. Prints one line per failed attempt and one line at the end; exits 0 when
the database answered, 1 when it never did, 2 when the configuration is wrong (so waiting
longer cannot help). Tries and interval come from DB_WAIT_ATTEMPTS and DB_WAIT_INTERVAL_SECONDS.
With --migrate it then runs `alembic upgrade head` and exits with Alembic's status.
"""

import asyncio
import os
import sys
import time

import asyncpg
from pydantic import ValidationError
from sqlalchemy.engine import URL

from app.settings import Settings

# Errors no amount of waiting fixes: the server answered and said no.
_CONFIGURATION_ERRORS = (
    asyncpg.InvalidAuthorizationSpecificationError,  # unknown role, pg_hba rejects us
    asyncpg.InvalidPasswordError,
    asyncpg.InvalidCatalogNameError,  # the database does not exist
)

EXIT_UNREACHABLE = 1
EXIT_MISCONFIGURED = 2


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _where(url: URL) -> str:
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"


async def connect(
    url: URL, *, connect_timeout: float, database: str | None = None
) -> asyncpg.Connection:
    """A plain asyncpg connection to `url` (or to another `database` on the same server)."""
    return await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=database or url.database,
        timeout=connect_timeout,
    )


async def _try_once(url: URL, connect_timeout: float) -> None:
    connection = await connect(url, connect_timeout=connect_timeout)
    try:
        await connection.fetchval("SELECT 1")
    finally:
        await connection.close()


async def wait_for_database(url: URL, attempts: int, interval: float) -> int:
    where = _where(url)
    started = time.monotonic()
    for attempt in range(1, attempts + 1):
        try:
            await _try_once(url, connect_timeout=max(interval, 1.0))
        except _CONFIGURATION_ERRORS as exc:
            print(f"error: database at {where} refused us: {_describe(exc)}", file=sys.stderr)
            return EXIT_MISCONFIGURED
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            # Refused, unresolvable host, timeout, or "the database system is starting up".
            if attempt == attempts:
                print(
                    f"error: database at {where} not reachable after {attempts} attempts "
                    f"({time.monotonic() - started:.0f}s): {_describe(exc)}",
                    file=sys.stderr,
                )
                return EXIT_UNREACHABLE
            print(
                f"waiting for database at {where} (attempt {attempt}/{attempts}): {_describe(exc)}",
                file=sys.stderr,
            )
            await asyncio.sleep(interval)
        else:
            print(f"database at {where} is up", file=sys.stderr)
            return 0
    return EXIT_UNREACHABLE  # attempts < 1


def migrate_to_head() -> int:
    """`alembic upgrade head`, through Alembic's own command-line entry point, in this process.

    The very command the `alembic` script runs, with the same output and exit status. Running
    it here rather than in a second interpreter saves a Python start-up and a second import of
    SQLAlchemy and pydantic: about a quarter of the time from start to ready at head
    (docs/performance.md).
    """
    print("running migrations: alembic upgrade head", file=sys.stderr)
    # Imported here: a plain wait (MIGRATE_ON_START=false) has no use for Alembic.
    from alembic.config import main as alembic

    try:
        alembic(argv=["upgrade", "head"], prog="alembic")
    except SystemExit as exc:  # how Alembic's CLI reports a failed command
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments not in ([], ["--migrate"]):
        print("usage: python -m app.wait_for_db [--migrate]", file=sys.stderr)
        return EXIT_MISCONFIGURED
    try:
        attempts = int(os.environ.get("DB_WAIT_ATTEMPTS", "30"))
        interval = float(os.environ.get("DB_WAIT_INTERVAL_SECONDS", "2"))
    except ValueError as exc:
        print(f"error: DB_WAIT_ATTEMPTS / DB_WAIT_INTERVAL_SECONDS: {exc}", file=sys.stderr)
        return EXIT_MISCONFIGURED
    try:
        url = Settings().database_url
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])).upper()} {e['msg']}" for e in exc.errors()
        )
        print(f"error: invalid settings: {problems}", file=sys.stderr)
        return EXIT_MISCONFIGURED
    waited = asyncio.run(wait_for_database(url, max(attempts, 1), max(interval, 0.0)))
    if waited != 0 or not arguments:
        return waited
    return migrate_to_head()


if __name__ == "__main__":
    sys.exit(main())
