"""A message left for staff from the staff shell (`make shell`) opens a ticket in the console's
database, and the staff reply is printed in the shell when it arrives: while the shell waits for
input, and before the next prompt.

The last test runs the real shell (`python -m bot.shell`, model and action server) in a child
process and answers its ticket as the console does."""
from __future__ import annotations

import asyncio
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.shell import Shell, StaffHandoff
from bot.staff import auth, db, handoff, queries

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(ROOT / "bot" / "domain"))


class StoredOnly:
    """An agent with a conversation store and nothing else: the lines tested here never reach
    the assistant (a turn that did would fail on the missing model)."""

    def __init__(self) -> None:
        self.tracker_store = InMemoryTrackerStore(DOMAIN)
        self.lock_store = InMemoryLockStore()

    async def handle_message(self, message):
        raise AssertionError(f"{message.text!r} reached the assistant")


@pytest.fixture
def engine(tmp_path):
    e = db.engine_for(f"sqlite:///{tmp_path}/tracker.db")
    db.ensure_schema(e)
    return e


def shell_with_history(engine, sender="shell:t1"):
    agent = StoredOnly()
    tracker = DialogueStateTracker.from_events(sender, [
        ActionExecuted("action_listen"),
        UserUttered("博士后出站补助有多少", intent={"name": "ask_clause", "confidence": 0.9}),
        BotUttered("博士后出站补助……"), ActionExecuted("action_listen")])
    asyncio.run(agent.tracker_store.save(tracker))
    return Shell(agent, sender=sender, staff=StaffHandoff(engine, sender))


def test_a_message_left_in_the_shell_opens_a_ticket_and_the_reply_is_printed(engine, capsys):
    auth.create_or_reset(engine, "admin", "correct-horse-battery", "manage")
    shell = shell_with_history(engine)
    assert handoff.PROMPT in "\n".join(shell.turn("留言"))
    received = "\n".join(shell.turn("补贴什么时候发？我的电话13812345678"))
    assert "已收到您的留言" in received and "本终端" in received
    ticket = queries.list_tickets(engine, "open", queries.parse_filters({}))["items"][0]
    assert ticket["conversation"] == "shell:t1" and ticket["channel"] == "shell"
    detail = queries.ticket(engine, ticket["id"])
    assert detail["transcript"][0]["user_text"] == "博士后出站补助有多少"
    assert "138****5678" in detail["message"]
    assert shell.staff.replies() == []

    # Staff answer from the console while the shell waits for input: printed within seconds.
    stop = threading.Event()
    shell.staff.at_prompt.set()
    watcher = threading.Thread(target=shell.staff.watch, args=(stop, 0.2), daemon=True)
    watcher.start()
    try:
        result = asyncio.run(handoff.send_reply(engine, None, ticket["id"], "您好，审核后一个月内发放。", "admin"))
        assert result["delivered"] is True
        deadline = time.monotonic() + 10
        printed = ""
        while "一个月内发放" not in printed and time.monotonic() < deadline:
            time.sleep(0.1)
            printed += capsys.readouterr().out
    finally:
        stop.set()
        watcher.join(timeout=5)
    assert f"留言编号 {ticket['id']}" in printed and "【工作人员回复】您好，审核后一个月内发放。" in printed
    assert queries.ticket(engine, ticket["id"])["status"] == "answered"
    assert shell.staff.replies() == []  # printed once


def test_a_reply_arriving_during_a_turn_is_printed_before_the_next_prompt(engine, capsys, monkeypatch):
    auth.create_or_reset(engine, "admin", "correct-horse-battery", "manage")
    shell = shell_with_history(engine, "shell:t2")
    shell.turn("留言")
    shell.turn("请回电话")
    ticket_id = queries.list_tickets(engine, "open", queries.parse_filters({}))["items"][0]["id"]
    asyncio.run(handoff.send_reply(engine, None, ticket_id, "已为您登记。", "admin"))
    monkeypatch.setattr("builtins.input", lambda prompt: "/exit")
    capsys.readouterr()
    assert shell._prompt() == "/exit"
    assert "【工作人员回复】已为您登记。" in capsys.readouterr().out
    # A later session with the same --sender prints it again at start.
    again = StaffHandoff(engine, "shell:t2")
    assert any("已为您登记" in line for line in again.replies())


def test_without_accounts_leaving_a_message_is_not_offered(engine):
    shell = shell_with_history(engine, "shell:t3")
    assert shell.staff.before("留言", []) is None  # goes to the assistant as any other line
    events = [UserUttered("我要找人工", intent={"name": "request_human", "confidence": 0.99})]
    assert shell.staff.offer(events) is None
    auth.create_or_reset(engine, "admin", "correct-horse-battery", "manage")  # while running
    assert shell.staff.offer(events)["buttons"] == [handoff.OFFER_BUTTON]
    assert shell.staff.before("留言", []) is not None


def _reader(stream, out: "queue.Queue[str]") -> None:
    for line in iter(stream.readline, ""):
        out.put(line)


def _until(lines: "queue.Queue[str]", seen: list, text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            seen.append(lines.get(timeout=0.5))
        except queue.Empty:
            continue
        if text in seen[-1]:
            return seen[-1]
    raise AssertionError(f"{text!r} not printed within {timeout:.0f} s:\n{''.join(seen[-40:])}")


@pytest.mark.e2e
def test_the_real_shell_prints_a_staff_reply_without_being_asked(tmp_path):
    url = f"sqlite:///{tmp_path}/tracker.db"
    engine = db.engine_for(url)
    db.ensure_schema(engine)
    auth.create_or_reset(engine, "admin", "correct-horse-battery", "manage")
    env = dict(os.environ, TRACKER_DB_URL=url, STAFF_SHELL_POLL_S="1", PYTHONUNBUFFERED="1",
               VAR_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "bot.shell", "--sender", "shell:e2e"], cwd=ROOT, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    seen: list = []
    try:
        _until(lines, seen, "已就绪", 300)
        proc.stdin.write("我要找人工\n")
        proc.stdin.flush()
        _until(lines, seen, "1. 留言", 120)
        proc.stdin.write("1\n")  # the 留言 button
        proc.stdin.flush()
        _until(lines, seen, "下一条消息", 60)
        proc.stdin.write("补贴什么时候发？\n")
        proc.stdin.flush()
        _until(lines, seen, "已收到您的留言", 60)
        ticket = queries.list_tickets(engine, "open", queries.parse_filters({}))["items"][0]
        assert ticket["conversation"] == "shell:e2e"
        assert any("我要找人工" in (t["user_text"] or "") for t in queries.ticket(engine, ticket["id"])["transcript"])
        asyncio.run(handoff.send_reply(engine, None, ticket["id"], "您好，审核后一个月内发放。", "admin"))
        # Nothing more is typed: the shell prints the reply by itself.
        printed = _until(lines, seen, "一个月内发放", 30)
        assert "【工作人员回复】" in printed
        proc.stdin.write("/exit\n")
        proc.stdin.flush()
        _until(lines, seen, "再见", 60)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # the shell stops its action server on the way out
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
