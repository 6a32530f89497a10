"""Two processes storing turns at once into one database (two Rasa workers on one SQLite file, two
servers on one PostgreSQL database) add up the daily counts exactly: every turn is counted once,
on the same day-and-channel rows, and the rows equal those recomputed from the turns.

PostgreSQL is the Debian package's binary (tests/scale/services.py); without it that case is
skipped, except in CI."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.scale import services

PROCESSES, TURNS = 2, 40
T0 = 1_790_000_000.0


def _write(url: str, ready: str, n: int, out) -> None:
    """One process: TURNS turns of its own conversations, all on one day and channel, every
    fourth rated, with a latency new at each turn (rows the writers create at about the same
    time), each saved through the conversation store (with the production SQLite patches).
    The ``n`` processes start writing together (each marks itself ready in the directory ``ready``
    and waits for the others) and report when they wrote, to show that they wrote at once."""
    worker = os.getpid()
    try:
        import asyncio

        from rasa.shared.core.domain import Domain
        from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker

        from bot import patches
        from bot.launcher import ROOT
        from bot.settings import Settings
        from bot.stores import SQLTrackerStore

        settings = Settings.from_env(check=False, lenient=True)
        for name in ("sqlite_wal", "sqlite_writes"):
            patches.apply(name, settings)
        domain = Domain.load(str(ROOT / "bot" / "domain"))
        u = sa.engine.make_url(url)
        if u.get_backend_name() == "sqlite":
            store = SQLTrackerStore(domain, dialect="sqlite", db=u.database)
        else:
            store = SQLTrackerStore(domain, dialect="postgresql", host=u.host, port=u.port,
                                    username=u.username, db=u.database)

        async def run() -> None:
            await store.retrieve("nobody")  # connected and the tables known before the start
            Path(ready, str(worker)).touch()
            deadline = time.monotonic() + 120
            while len(os.listdir(ready)) < n:
                if time.monotonic() > deadline:
                    raise TimeoutError("the other writers never became ready")
                time.sleep(0.005)
            for i in range(TURNS):
                sender = f"widget:p{worker}-{i % 5}"
                tracker = await store.retrieve(sender) or DialogueStateTracker.from_events(
                    sender, [ActionExecuted("action_listen", timestamp=T0)])
                ts = T0 + 86400 * (n - 1) + i  # the writers at once: a new day, rows new to all
                clause = f"m{i % 3}"
                tracker.update(UserUttered(f"问题{i}", intent={"name": "ask_clause", "confidence": 0.9},
                                           timestamp=ts, input_channel="widget"))
                tracker.update(BotUttered(f"回答{i % 7}", {"custom": {
                    "citations": [{"clause_id": clause}], "eligibility": {"verdict": "eligible"}}},
                    timestamp=ts + 0.001 * i))
                await store.save(tracker)
                if i % 4 == 0:
                    tracker.update(SlotSet("feedback", {"helpful": i % 8 == 0, "bot_timestamp": ts + 0.001 * i}))
                    await store.save(tracker)

        start = time.time()
        asyncio.run(run())
        out.put(("ok", start, time.time()))
        store.engine.dispose()
    except BaseException as e:  # reported to the test, not lost in the child's stderr
        out.put(("error", f"{type(e).__name__}: {e}"))


def _check(url: str, tmp_path: Path) -> None:
    from bot.staff import db, summary

    engine = sa.create_engine(url)
    db.ensure_schema(engine)  # as the first server does before the others start
    for n in (1, PROCESSES):  # one alone (the rows exist), then several at once on those rows
        ready = tmp_path / f"ready-{n}"
        ready.mkdir()
        results = services.in_processes(_write, (url, str(ready), n), n, timeout=240)
        assert [r[0] for r in results] == ["ok"] * n, results
    assert max(r[1] for r in results) < min(r[2] for r in results), "the writers did not overlap"

    def rows():
        with engine.connect() as conn:
            return {t.name: sorted(tuple(r) for r in conn.execute(sa.select(t))) for t in db.SUMMARY_TABLES}

    incremental = rows()
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(db.turns)).scalar() == (1 + PROCESSES) * TURNS
    summary.rebuild_daily(engine)
    assert rows() == incremental
    rated, up = len(range(0, TURNS, 4)), len(range(0, TURNS, 8))
    assert [r[1:] for r in incremental["staff_daily"]] == [
        ("widget", n * TURNS, n * TURNS, n * up, n * (rated - up)) for n in (1, PROCESSES)]
    assert len(incremental["staff_daily_conversations"]) == (1 + PROCESSES) * 5
    assert [r[2:4] for r in incremental["staff_daily_clauses"]] == [
        (f"m{k}", n * len(range(k, TURNS, 3))) for n in (1, PROCESSES) for k in range(3)]
    engine.dispose()


def test_two_processes_on_one_sqlite_file_count_every_turn_once(tmp_path):
    _check(f"sqlite:///{tmp_path / 'tracker.db'}", tmp_path)


def test_two_servers_on_one_postgresql_database_count_every_turn_once(tmp_path):
    if services.postgres_bin_dir() is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("PostgreSQL binaries missing; CI must have installed them", pytrace=False)
        pytest.skip("needs PostgreSQL (initdb, postgres): run scripts/install_system_deps.sh as root")
    pg = services.Postgres().start()
    try:
        _check(pg.url, tmp_path)
    finally:
        pg.stop()
