"""Start-up: wait, a bounded number of times, until the database answers; then migrate it.

    python -m app.schema.startup                     # wait only
    python -m app.schema.startup --migrate           # wait, then `alembic upgrade head`
    python -m app.schema.startup --create-database   # wait for the server, create the database
                                                     # if it is missing (local development)

Run by entrypoint.sh (and scripts/run-local.sh). Prints one line per failed attempt and one line
at the end; exits 0 when the database answered, 1 when it never did, 2 when the configuration is
wrong (so waiting longer cannot help). Tries and interval come from DB_WAIT_ATTEMPTS and
DB_WAIT_INTERVAL_SECONDS. With --migrate it then runs `alembic upgrade head` and exits with
Alembic's status.
"""

import argparse
import asyncio
import sys
import time
from typing import NoReturn

import asyncpg
from sqlalchemy.engine import URL

from app.db import connect, quote_identifier
from app.settings import Settings, load_or_exit

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


async def _try_once(url: URL, connect_timeout: float, database: str | None) -> None:
    connection = await connect(url, connect_timeout=connect_timeout, database=database)
    try:
        await connection.fetchval("SELECT 1")
    finally:
        await connection.close()


async def wait_for_database(settings: Settings, *, server_only: bool = False) -> int:
    """Try to connect until it works or the tries run out; 0, or the exit status and one line.

    `server_only`: connect to the server's `postgres` database, for when ours may not exist yet.
    """
    url = settings.database_url
    where = _where(url.set(database="postgres") if server_only else url)
    attempts, interval = settings.db_wait_attempts, settings.db_wait_interval_seconds
    started = time.monotonic()
    for attempt in range(1, attempts + 1):
        try:
            await _try_once(url, max(interval, 1.0), "postgres" if server_only else None)
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
    return EXIT_UNREACHABLE  # not reached: attempts is at least 1


async def create_if_missing(url: URL) -> str:
    """Create the database `url` names on its server, unless it exists. Local development only:
    production databases are provisioned by whoever runs the server, never by the app."""
    connection = await connect(url, connect_timeout=5, database="postgres")
    try:
        exists = await connection.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", url.database
        )
        if exists:
            return f"database {url.database!r} exists"
        await connection.execute(f"CREATE DATABASE {quote_identifier(str(url.database))}")
        return f"created database {url.database!r}"
    finally:
        await connection.close()


def migrate_to_head() -> int:
    """`alembic upgrade head`, through Alembic's own command-line entry point, in this process.

    The very command the `alembic` script runs, with the same output and exit status. Running
    it here rather than in a second interpreter saves a Python start-up and a second import of
    SQLAlchemy and pydantic, a large share of a replica's time from start to ready.
    """
    print("running migrations: alembic upgrade head", file=sys.stderr)
    # Imported here: a plain wait (MIGRATE_ON_START=false) has no use for Alembic.
    from alembic.config import main as alembic

    try:
        alembic(argv=["upgrade", "head"], prog="alembic")
    except SystemExit as exc:  # how Alembic's CLI reports a failed command
        return exc.code if isinstance(exc.code, int) else 1
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, the usage, and the exit status of a configuration error.
        print(f"usage: python -m app.schema.startup {_USAGE}", file=sys.stderr)
        raise SystemExit(EXIT_MISCONFIGURED)


_USAGE = "[--migrate | --create-database]"


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m app.schema.startup", add_help=False, allow_abbrev=False)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--migrate", action="store_true")
    mode.add_argument("--create-database", action="store_true")
    args = parser.parse_args(argv)
    settings = load_or_exit()
    waited = asyncio.run(wait_for_database(settings, server_only=args.create_database))
    if waited != 0:
        return waited
    if args.create_database:
        try:
            print(asyncio.run(create_if_missing(settings.database_url)), file=sys.stderr)
        except (OSError, asyncpg.PostgresError) as exc:
            where = _where(settings.database_url)
            print(f"error: cannot create the database {where}: {_describe(exc)}", file=sys.stderr)
            return EXIT_UNREACHABLE
        return 0
    return migrate_to_head() if args.migrate else 0


if __name__ == "__main__":
    sys.exit(main())
