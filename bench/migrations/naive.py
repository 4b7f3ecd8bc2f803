"""Alembic's command line with the naive revisions (naive_versions/ here) beside the real ones.

    uv run python -m bench.migrations.naive upgrade naive_0003_user_role_not_null

For bench/migrations/, which runs the naive forms of the example revisions to compare them
with the safe ones. The naive series branches off 0001_initial_schema and makes the same schema
changes, release by release, in the forms their docstrings warn against. Nothing
else differs: the same alembic.ini, the same env.py (lock and statement timeouts, retries, the
runner lock), the same settings. Each naive revision names the real revision it stands in for
(`SAFE_TWIN`). Never point this at a database that matters: the naive revisions lock the table.
"""

import os
from argparse import Namespace

from alembic.config import CommandLine, Config
from alembic.script import ScriptDirectory

from bench.paths import ROOT

INITIAL = "0001_initial_schema"  # shared: both series start from the seeded initial schema


def with_naive_versions(config: Config) -> Config:
    # alembic.ini splits version_locations on os.pathsep (path_separator = os).
    locations = os.pathsep.join(
        ["%(here)s/alembic/versions", "%(here)s/bench/migrations/naive_versions"]
    )
    config.set_main_option("version_locations", locations)
    return config


def scripts() -> ScriptDirectory:
    """The real revisions and the naive ones, as `python -m bench.migrations.naive` sees them."""
    return ScriptDirectory.from_config(with_naive_versions(Config(str(ROOT / "alembic.ini"))))


def naive_twins() -> dict[str, str]:
    """Each real revision's naive counterpart: {'0005_backfill_user_full_name': 'naive_...'}."""
    twins = {INITIAL: INITIAL}
    for script in scripts().walk_revisions():
        safe = getattr(script.module, "SAFE_TWIN", None)
        if safe is not None:
            twins[safe] = script.revision
    return twins


class NaiveCommandLine(CommandLine):
    def run_cmd(self, config: Config, options: Namespace) -> None:
        super().run_cmd(with_naive_versions(config), options)


if __name__ == "__main__":
    NaiveCommandLine(prog="python -m bench.migrations.naive").main()
