"""One series of revisions run through the story, release by release, under the live load."""

import asyncio
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.db import create_engine
from app.settings import Settings
from bench import database, server
from bench.migrations.load import Sample, StoryLoad
from bench.migrations.naive import naive_twins
from bench.migrations.upgrade import UpgradeRun, upgrade
from bench.paths import VENV_BIN
from tests.story.releases import RELEASES


@dataclass(frozen=True)
class Schedule:
    rate: float  # requests per second
    seed: int  # of the request mix
    warmup: float  # seconds of load before the baseline, not counted
    baseline: float  # seconds of load measured before the first revision
    pause: float  # seconds each release serves before the next release's revisions start
    tail: float  # seconds of load after the last revision


@dataclass(frozen=True)
class Series:
    name: str
    title: str
    command: tuple[str, ...]  # run with `upgrade <revision>`
    revision_for: Mapping[str, str]  # real revision -> the one this series runs in its place


def all_series() -> list[Series]:
    twins = naive_twins()
    real = {revision: revision for revision in twins}
    return [
        Series(
            "safe", "the example revisions (alembic/versions/)", (str(VENV_BIN / "alembic"),), real
        ),
        Series(
            "naive",
            "their naive forms (bench/migrations/naive_versions/)",
            (sys.executable, "-m", "bench.migrations.naive"),
            twins,
        ),
    ]


@dataclass
class SeriesRun:
    series: Series
    samples: list[Sample] = field(default_factory=list)
    upgrades: list[tuple[int, UpgradeRun]] = field(default_factory=list)  # (release, its run)
    baseline_from: float = 0.0
    migrations_from: float = 0.0
    migrations_to: float = 0.0

    @property
    def counted(self) -> list[Sample]:
        """The requests after the warm-up."""
        return [sample for sample in self.samples if sample.due >= self.baseline_from]

    @property
    def failure(self) -> str | None:
        return next((run.failure for _, run in self.upgrades if run.failure), None)


async def run_series(
    series: Series, settings: Settings, schedule: Schedule, max_id: int
) -> SeriesRun:
    """Release 1 live under load, then each release's upgrade as a rolling deploy runs it.

    `settings` are the app's, on the database of this series: its pool is the app's pool.
    """
    url = settings.database_url
    engine = create_engine(settings)
    load = StoryLoad(
        engine,
        RELEASES[0],
        rate=schedule.rate,
        max_id=max_id,
        seed=schedule.seed,
        started=time.monotonic(),
    )
    # As bench/server.py starts processes: this database, bytecode kept, output unbuffered.
    env = server.server_env(database.dsn(url), PYTHONUNBUFFERED="1")
    run = SeriesRun(series)
    load.start()
    try:
        await asyncio.sleep(schedule.warmup)
        run.baseline_from = load.clock()
        await asyncio.sleep(schedule.baseline)
        run.migrations_from = load.clock()
        for step, release in enumerate(RELEASES[1:]):
            if step:
                await asyncio.sleep(schedule.pause)
            if release.schema_revision != load.live.schema_revision:
                target = series.revision_for[release.schema_revision]
                upgraded = await upgrade(series.command, target, env, load.clock, database.dsn(url))
                run.upgrades.append((release.number, upgraded))
                if upgraded.failure:
                    break  # the story cannot go on; the live release keeps serving
            load.live = release
        run.migrations_to = load.clock()
        await asyncio.sleep(schedule.tail)
    finally:
        run.samples = await load.stop()
        await engine.dispose()
    return run
