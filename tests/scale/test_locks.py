"""Conversation locks shared by several Rasa processes: every ticket is issued once, and a
finished message never deletes the lock another message is waiting on (bot/locks.py)."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from rasa.core.lock_store import LockError

from bot.locks import RedisLockStore, SQLiteLockStore, default_sqlite_path
from tests.scale.services import Redis, in_processes

PROCESSES, TICKETS = 4, 150


# ---- the same behaviour for both stores --------------------------------------------------------

@pytest.fixture(scope="module")
def redis_port(scale_binaries):
    r = Redis().start()
    yield r.port
    r.stop()


def make(kind: str, where):
    if kind == "sqlite":
        return SQLiteLockStore(path=where)
    return RedisLockStore(host="127.0.0.1", port=where, db=3, key_prefix="locktest")


@pytest.fixture(params=["sqlite", "redis"])
def store_spec(request, tmp_path):
    if request.param == "sqlite":
        return "sqlite", tmp_path / "locks.db"
    return "redis", request.getfixturevalue("redis_port")


def test_tickets_are_served_in_order_and_the_lock_goes_when_the_last_one_is_done(store_spec):
    store = make(*store_spec)
    cid = f"c-{time.time_ns()}"
    first, second = store.issue_ticket(cid, 30), store.issue_ticket(cid, 30)
    assert (first, second) == (0, 1)
    lock = store.get_lock(cid)
    assert not lock.is_locked(first) and lock.is_locked(second)
    store.cleanup(cid, first)
    lock = store.get_lock(cid)
    assert lock is not None and not lock.is_locked(second)  # still there: someone is waiting
    store.cleanup(cid, second)
    assert store.get_lock(cid) is None


def test_the_lock_context_serialises_two_messages_of_one_conversation(store_spec):
    store = make(*store_spec)
    cid = f"c-{time.time_ns()}"
    order = []

    async def message(name: str, hold: float):
        async with store.lock(cid, lock_lifetime=30, wait_time_in_seconds=0.05):
            order.append(f"{name} in")
            await asyncio.sleep(hold)
            order.append(f"{name} out")

    async def both():
        first = asyncio.create_task(message("a", 0.3))
        await asyncio.sleep(0.05)
        await message("b", 0)
        await first

    asyncio.run(both())
    assert order == ["a in", "a out", "b in", "b out"]
    assert store.get_lock(cid) is None


def test_a_turn_longer_than_the_lock_lifetime_keeps_its_lock(store_spec):
    """A hung action server: the first turn takes four lifetimes. The second message (another
    worker, its own store) must still wait for it, and neither ticket may be lost meanwhile."""
    first_worker, second_worker = make(*store_spec), make(*store_spec)
    cid = f"c-{time.time_ns()}"
    order = []

    async def message(store, name: str, hold: float):
        async with store.lock(cid, lock_lifetime=0.5, wait_time_in_seconds=0.05):
            order.append(f"{name} in")
            await asyncio.sleep(hold)
            order.append(f"{name} out")

    async def both():
        first = asyncio.create_task(message(first_worker, "a", 2.0))
        await asyncio.sleep(0.1)
        await message(second_worker, "b", 0)
        await first

    asyncio.run(both())
    assert order == ["a in", "a out", "b in", "b out"]
    assert first_worker.get_lock(cid) is None


def test_a_ticket_of_a_process_that_is_gone_still_expires(store_spec):
    store = make(*store_spec)
    cid = f"c-{time.time_ns()}"
    store.issue_ticket(cid, 0.3)  # issued, then its process died: nobody keeps it alive
    time.sleep(0.4)

    async def message():
        async with store.lock(cid, lock_lifetime=30, wait_time_in_seconds=0.05):
            return True

    assert asyncio.run(asyncio.wait_for(message(), 5))


def test_expired_tickets_are_dropped(store_spec):
    store = make(*store_spec)
    cid = f"c-{time.time_ns()}"
    stale = store.issue_ticket(cid, 0.01)
    time.sleep(0.05)
    fresh = store.issue_ticket(cid, 30)
    store.update_lock(cid)
    lock = store.get_lock(cid)
    assert len(lock.tickets) == 1 and lock.tickets[0].expires > time.time() + 20
    assert not lock.is_locked(fresh) and stale == fresh == 0  # numbering restarts on an empty lock


# ---- several processes at once -----------------------------------------------------------------

def _hammer(kind: str, where, cid: str, n: int, out) -> None:
    store = make(kind, where)
    got, errors = [], 0
    for _ in range(n):
        try:
            ticket = store.issue_ticket(cid, 30)
            got.append(ticket)
            store.cleanup(cid, ticket)
        except LockError:
            errors += 1
    out.put((got, errors))


def test_processes_issuing_and_returning_tickets_at_once_never_share_one(store_spec):
    kind, where = store_spec
    cid = f"c-{time.time_ns()}"
    results = in_processes(_hammer, (kind, where, cid, TICKETS), PROCESSES, timeout=120)
    tickets = [t for got, _ in results for t in got]
    assert sum(e for _, e in results) == 0
    assert len(tickets) == PROCESSES * TICKETS
    # A lost update leaves a returned ticket behind (the lock outlives its last holder).
    assert make(kind, where).get_lock(cid) is None


def _hold_and_check(kind: str, where, cid: str, n: int, out) -> None:
    """Each message holds the lock for a moment and checks that nobody else is inside."""
    store = make(kind, where)
    marker = Path(str(where) + f".inside.{cid}") if kind == "sqlite" else None
    overlaps, errors = 0, 0

    async def one():
        nonlocal overlaps
        async with store.lock(cid, lock_lifetime=30, wait_time_in_seconds=0.002):
            if kind == "sqlite":
                try:
                    marker.mkdir()  # atomic: fails if another process is inside
                except FileExistsError:
                    overlaps += 1
                    return
                await asyncio.sleep(0.001)
                marker.rmdir()
            else:
                r = store.red
                if not r.set(f"inside:{cid}", 1, nx=True):
                    overlaps += 1
                    return
                await asyncio.sleep(0.001)
                r.delete(f"inside:{cid}")

    async def run():
        nonlocal errors
        for _ in range(n):
            try:
                await one()
            except LockError:
                errors += 1

    asyncio.run(run())
    out.put((overlaps, errors))


def test_processes_contending_for_one_conversation_take_turns(store_spec):
    kind, where = store_spec
    cid = f"c-{time.time_ns()}"
    results = in_processes(_hold_and_check, (kind, where, cid, 40), 3, timeout=180)
    assert results == [(0, 0)] * 3, results
    assert make(kind, where).get_lock(cid) is None


# ---- SQLite specifics ----------------------------------------------------------------------------

def test_sqlite_lock_file_lives_beside_a_sqlite_tracker_database(monkeypatch, tmp_path):
    monkeypatch.delenv("LOCK_DB_PATH", raising=False)
    monkeypatch.setenv("TRACKER_DB_URL", f"sqlite:///{tmp_path}/tracker.db")
    assert default_sqlite_path() == tmp_path / "tracker.locks.db"
    monkeypatch.setenv("LOCK_DB_PATH", str(tmp_path / "x.db"))
    assert default_sqlite_path() == tmp_path / "x.db"


def test_a_stopped_servers_locks_are_removed_before_start(tmp_path):
    path = tmp_path / "locks.db"
    store = SQLiteLockStore(path=path)
    store.issue_ticket("left-behind", 600)
    SQLiteLockStore.remove_stale(path)
    assert SQLiteLockStore(path=path).get_lock("left-behind") is None
