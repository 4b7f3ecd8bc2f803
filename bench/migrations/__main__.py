"""`python -m bench.migrations`; what it runs and measures: bench/migrations/__init__.py."""

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import URL

import bench.migrations
from app.settings import Settings, describe
from bench import database, report
from bench.errors import BenchError
from bench.migrations import summary
from bench.migrations.load import MIX
from bench.migrations.naive import INITIAL
from bench.migrations.series import Schedule, SeriesRun, all_series, run_series

# Release 1's users, in its table (`name`, not yet `full_name`); one statement, as bench/users.py
# seeds the table at head.
SEED_AT_INITIAL_SCHEMA = """
    INSERT INTO users (email, name)
    SELECT 'seed-' || n || '@example.com', 'Seed User ' || n
    FROM generate_series(1, $1::int) AS n
"""

# What both copies must agree on at the end: the table as the catalog describes it.
USERS_SCHEMA = """
    SELECT json_build_object(
        'columns', (SELECT json_agg(json_build_array(column_name, data_type, is_nullable,
                                                     column_default, is_identity)
                                    ORDER BY column_name)
                    FROM information_schema.columns
                    WHERE table_schema = current_schema() AND table_name = 'users'),
        'indexes', (SELECT json_agg(indexdef ORDER BY indexname) FROM pg_indexes
                    WHERE schemaname = current_schema() AND tablename = 'users'),
        'constraints', (SELECT json_agg(json_build_array(conname, pg_get_constraintdef(oid))
                                        ORDER BY conname)
                        FROM pg_constraint WHERE conrelid = 'users'::regclass)
    )::text
"""

SETTINGS_REPORTED = (
    "pool_size",
    "pool_max_overflow",
    "pool_timeout_seconds",
    "db_statement_timeout_ms",
    "migration_lock_timeout_ms",
    "migration_statement_timeout_ms",
    "migration_backfill_batch_size",
    "migration_attempts",
)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    description = (bench.migrations.__doc__ or "").split("\n\n")[0]
    parser = report.Parser(prog="python -m bench.migrations", description=description)
    seconds = report.non_negative_number
    parser.add_argument(
        "--rows", type=report.positive_int, default=1_000_000, help="users (default: %(default)s)"
    )
    parser.add_argument(
        "--rate", type=report.positive_number, default=200, help="requests/s (default: %(default)s)"
    )
    for option, default, what in (
        ("--warmup", 2, "of load before the baseline, not counted"),
        ("--baseline", 20, "of load measured before the first revision"),
        ("--pause", 2, "each release serves before the next release's revisions start"),
        ("--tail", 5, "of load after the last revision"),
    ):
        parser.add_argument(
            option, type=seconds, default=default, help=f"seconds {what} (default: %(default)s)"
        )
    parser.add_argument(
        "--seed", type=report.natural_int, default=1, help="of the request mix (default: 1)"
    )
    report.output_argument(parser, "migrations.json")
    args = parser.parse_args(argv)
    if args.baseline * args.rate < 1:
        parser.error("--baseline and --rate leave no request to measure the baseline with")
    return args


def end_state(url: URL, rows: int, run: SeriesRun) -> dict[str, Any]:
    """The schema a copy ended with, and whether it holds every user seeded or inserted."""
    inserted = sum(s.kind == "insert" and s.error is None for s in run.samples)
    return {
        "schema": database.fetch_value(url, USERS_SCHEMA),
        "rows": int(database.fetch_value(url, "SELECT count(*) FROM users")),
        "expected_rows": rows + inserted,  # seeded, plus every insert that was acknowledged
    }


def app_settings(url: URL) -> Settings:
    """What the app and Alembic run with here (the environment, .env), on `url`."""
    try:
        return Settings(database_url=url)
    except ValidationError as exc:
        raise BenchError(describe(exc)) from None


def run_both(rows: int, schedule: Schedule) -> tuple[list[SeriesRun], dict[str, dict[str, Any]]]:
    """Seed one database at the initial schema, copy it, run each series on its own copy."""
    runs: list[SeriesRun] = []
    ends: dict[str, dict[str, Any]] = {}
    with database.temporary_database("mig_seed") as seed_url:
        database.migrate(seed_url, INITIAL)
        max_id = database.seed_users(seed_url, rows, SEED_AT_INITIAL_SCHEMA)
        # Hint bits and the visibility map are set now, in the original, not by the first
        # scan in each copy.
        database.execute(seed_url, "VACUUM (ANALYZE) users")
        with (
            database.temporary_database("mig_safe", template=seed_url) as safe_url,
            database.temporary_database("mig_naive", template=seed_url) as naive_url,
        ):
            for series, url in zip(all_series(), (safe_url, naive_url), strict=True):
                print(f"running the {series.name} series: {series.title}", file=sys.stderr)
                runs.append(asyncio.run(run_series(series, app_settings(url), schedule, max_id)))
                ends[series.name] = end_state(url, rows, runs[-1])
    return runs, ends


def run(argv: list[str]) -> int:
    args = parse(argv)
    facts = report.machine()
    settings = app_settings(database.SERVER.url)
    schedule = Schedule(args.rate, args.seed, args.warmup, args.baseline, args.pause, args.tail)
    runs, ends = run_both(args.rows, schedule)

    real_name = {naive: real for real, naive in runs[-1].series.revision_for.items()}
    schemas = {end.pop("schema") for end in ends.values()}
    reached_head = not any(one.failure for one in runs)
    result: dict[str, Any] = {
        "benchmark": "migrations",
        "machine": facts,
        "rows": args.rows,
        "load": {**asdict(schedule), "mix": MIX},
        "settings": {name: getattr(settings, name) for name in SETTINGS_REPORTED},
        "series": {one.series.name: summary.summarise(one, real_name) for one in runs},
        "end_state": {"same_schema": len(schemas) == 1 if reached_head else None, "series": ends},
    }
    report.publish(args.output, result, summary.human_summary(result))
    requests_csv = args.output.with_name(f"{args.output.stem}-requests.csv")
    summary.write_requests(requests_csv, runs)
    picture = args.output.with_suffix(".png")
    # Imported here: matplotlib takes about a second to import, which a mistyped argument or an
    # unreachable server should not wait for.
    from bench.migrations import plot

    panels = [
        plot.Panel(
            f"{one.series.name}: {one.series.title}; "
            + summary.headline(result["series"][one.series.name]),
            one.counted,
            one.migrations_from,
            [upgraded for _, upgraded in one.upgrades],
            real_name,
        )
        for one in runs
    ]
    plot.draw(picture, panels, lock_timeout_s=settings.migration_lock_timeout_ms / 1000)
    print(f"every request in {requests_csv.name}, the plot in {picture.name}")

    # A naive migration that fails (a statement timeout, say) is a finding; these are not.
    if runs[0].failure:
        raise BenchError(f"the safe series failed to migrate: {runs[0].failure}")
    if reached_head and len(schemas) != 1:
        raise BenchError("the two series ended with different schemas; compare their revisions")
    lost = [name for name, end in ends.items() if end["rows"] != end["expected_rows"]]
    if lost:
        raise BenchError(f"seeded + inserted rows differ from the rows found in: {', '.join(lost)}")
    return 0


if __name__ == "__main__":
    report.main(run)
