"""The channels' short-lived state shared by the workers of one server (bot/shared_state.py)."""
from __future__ import annotations

from bot import shared_state
from bot.shared_state import (LocalTTL, SharedSlidingWindowLimiter, SharedState, SharedTTL,
                              SlidingWindowLimiter, expiring, limiter, remove_stale_server_files,
                              server_file)
from tests.scale.services import in_processes


def test_claims_are_first_come_and_expire(tmp_path):
    s = SharedState(tmp_path / "s.db")
    assert s.claim("k", ttl=10, now=100) is True
    assert s.claim("k", ttl=10, now=105) is False
    assert s.claim("k", ttl=10, now=111) is True


def test_values_expire_and_can_be_deleted(tmp_path):
    s = SharedState(tmp_path / "s.db")
    s.put("o", [{"title": "（一）", "payload": "/x"}], ttl=5, now=0)
    assert s.get("o", now=4) == [{"title": "（一）", "payload": "/x"}]
    assert s.get("o", now=6) is None
    s.put("o", 1, ttl=5, now=10)
    s.delete("o")
    assert s.get("o", now=10) is None
    t = SharedTTL("ns", 60, state=s)
    t.set("u", ["a"])
    assert t.pop("u") == ["a"] and t.get("u") is None


def test_the_shared_limiter_behaves_as_the_in_process_one(tmp_path):
    shared = SharedSlidingWindowLimiter(3, window=60, state=SharedState(tmp_path / "s.db"))
    local = SlidingWindowLimiter(3, window=60)
    times = [0, 1, 2, 3, 30, 59.9, 60.5, 61, 62, 121, 122]
    assert [shared.allow("a", now=t) for t in times] == [local.allow("a", now=t) for t in times]
    assert SharedSlidingWindowLimiter(0, state=SharedState(tmp_path / "s.db")).allow("a")


def _hits(path: str, n: int, out) -> None:
    lim = SharedSlidingWindowLimiter(50, window=3600, state=SharedState(path))
    out.put(sum(lim.allow("same-sender") for _ in range(n)))


def test_processes_share_one_count(tmp_path):
    allowed = in_processes(_hits, (str(tmp_path / "s.db"), 40), 3, timeout=60)
    assert sum(allowed) == 50  # 120 tries, 50 allowed in all, however they interleaved


def test_one_worker_keeps_state_in_memory_and_several_share_it(monkeypatch, tmp_path):
    monkeypatch.setenv("SANIC_WORKERS", "1")
    assert isinstance(limiter(5), SlidingWindowLimiter)
    monkeypatch.setenv("SANIC_WORKERS", "2")
    monkeypatch.setenv("STATE_DB_PATH", str(tmp_path / "s.db"))
    assert isinstance(limiter(5), SharedSlidingWindowLimiter)
    monkeypatch.setenv("SANIC_WORKERS", "many")  # refused at start by the entry point; read here as the default
    from bot.settings import default_workers

    assert shared_state.sanic_workers() == default_workers()


def test_server_files_sit_beside_a_sqlite_tracker_and_go_at_start(tmp_path):
    env = {"TRACKER_DB_URL": f"sqlite:///{tmp_path}/tracker.db"}
    assert server_file("locks", env) == tmp_path / "tracker.locks.db"
    assert server_file("state", env) == tmp_path / "tracker.state.db"
    # The data directory alone: the tracker is var/tracker.db there (its one default), the state beside it.
    assert server_file("state", {"VAR_DIR": str(tmp_path)}) == tmp_path / "tracker.state.db"
    assert server_file("state", {"TRACKER_DB_URL": "postgresql://db/x", "VAR_DIR": str(tmp_path)}) == tmp_path / "state.db"
    assert server_file("locks", {"LOCK_DB_PATH": "/x/l.db"}).as_posix() == "/x/l.db"
    SharedState(server_file("state", env)).claim("k", 60)
    assert server_file("state", env).exists()
    remove_stale_server_files(env)
    assert not server_file("state", env).exists()


def test_local_expiring_keys_expire_and_stay_bounded():
    now = [0.0]
    cache = LocalTTL(ttl=10, max_keys=3, clock=lambda: now[0])
    for k in "abcd":
        cache.set(k, k.upper())
    assert "a" not in cache and cache.get("d") == "D" and len(cache) == 3
    assert cache.claim("x") is True and cache.claim("x") is False
    assert cache.setdefault("d", "other") == "D" and cache.setdefault("y", "Y") is None
    now[0] = 11
    assert cache.get("d") is None and len(cache) == 0
    assert cache.claim("x") is True  # its claim expired


def test_expiring_keys_are_shared_only_with_several_workers(monkeypatch, tmp_path):
    monkeypatch.setenv("STATE_DB_PATH", str(tmp_path / "state.db"))
    monkeypatch.setenv("SANIC_WORKERS", "1")
    alone = expiring("k", ttl=60)
    assert isinstance(alone, LocalTTL) and alone.claim("m") is True
    assert not (tmp_path / "state.db").exists()
    monkeypatch.setenv("SANIC_WORKERS", "2")
    one, other = expiring("k", ttl=60), expiring("k", ttl=60)  # as two workers
    assert isinstance(one, SharedTTL)
    assert one.claim("m") is True and other.claim("m") is False
    one.set("answer", ["第一条", "第二条"])
    assert other.get("answer") == ["第一条", "第二条"]
