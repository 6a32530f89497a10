"""Staff replies to a WeChat hand-off go through the customer-service message API (the fake
WeChat server on loopback): within 48 hours of the person's last message and at most 5 of them;
outside that, or when WeChat answers 45015 / 45047, the ticket stays open and staff are told why."""
from __future__ import annotations

import asyncio
import time

import pytest
import sqlalchemy as sa
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered
from types import SimpleNamespace

from bot.channels.wechat_api import CustomerServiceClient
from bot.launcher import ROOT
from bot.staff import db, handoff
from bot.staff.turns import TurnIndex
from tests.channels.fake_wechat import APPID, SECRET, FakeWeChatAPI

OPENID = "oAbCdEfGh123456"
SENDER = "wechat:" + OPENID


@pytest.fixture
def api():
    fake = FakeWeChatAPI(APPID, SECRET).start()
    yield fake
    fake.stop()


@pytest.fixture
def setup(tmp_path, api):
    engine = db.engine_for(f"sqlite:///{tmp_path}/tracker.db")
    index = TurnIndex(engine)
    agent = SimpleNamespace(tracker_store=InMemoryTrackerStore(Domain.load(str(ROOT / "bot" / "domain"))),
                            lock_store=InMemoryLockStore())
    client = CustomerServiceClient(APPID, SECRET, api_base=api.base)

    def person_wrote(ago_s: float) -> None:
        ts = time.time() - ago_s
        index.record(SENDER, [{"event": "user", "text": "我要找人工", "timestamp": ts, "input_channel": "wechat",
                               "parse_data": {"intent": {"name": "request_human", "confidence": 0.99}}}])

    ticket = lambda: handoff.create_ticket(engine, SENDER, "wechat", OPENID, "想问补贴发放时间", "asked")
    return SimpleNamespace(engine=engine, agent=agent, client=client, person_wrote=person_wrote, ticket=ticket)


def reply(s, ticket_id, text="您好，补贴一般在审核通过后发放。"):
    return asyncio.run(handoff.send_reply(s.engine, s.agent, ticket_id, text, "admin", client=s.client))


def status(s, ticket_id):
    with s.engine.connect() as conn:
        return conn.execute(sa.select(db.tickets.c.status, db.tickets.c.last_error)
                            .where(db.tickets.c.id == ticket_id)).first()


def test_reply_within_48_hours_reaches_the_person_and_the_conversation(setup, api):
    setup.person_wrote(ago_s=3600)
    tid = setup.ticket()
    assert reply(setup, tid)["delivered"] is True
    assert api.wait_for(1, OPENID) == [handoff.STAFF_PREFIX + "您好，补贴一般在审核通过后发放。"]
    assert status(setup, tid).status == "answered"
    tracker = asyncio.run(setup.agent.tracker_store.retrieve(SENDER))
    bots = [e for e in tracker.events if isinstance(e, BotUttered)]
    assert bots[-1].data["custom"]["staff_reply"]["ticket"] == tid


def test_after_48_hours_nothing_is_sent_and_the_ticket_stays_open(setup, api):
    setup.person_wrote(ago_s=49 * 3600)
    tid = setup.ticket()
    with pytest.raises(handoff.ReplyRefused) as e:
        reply(setup, tid)
    assert e.value.errcode == 45015 and "48小时" in e.value.message
    assert api.sent == []
    row = status(setup, tid)
    assert row.status == "open" and "48小时" in row.last_error


def test_at_most_five_replies_after_the_last_message(setup, api):
    setup.person_wrote(ago_s=60)
    tid = setup.ticket()
    for i in range(5):
        reply(setup, tid, f"第{i + 1}条")
    with pytest.raises(handoff.ReplyRefused) as e:
        reply(setup, tid, "第6条")
    assert e.value.errcode == 45047
    assert len(api.texts(OPENID)) == 5 and status(setup, tid).status == "open"
    # The person writes again: a new window of five.
    time.sleep(0.01)
    setup.person_wrote(ago_s=0)
    reply(setup, tid, "第6条")
    assert len(api.wait_for(6, OPENID)) == 6


@pytest.mark.parametrize("errcode", [45015, 45047])
def test_wechat_refusals_leave_the_ticket_open_and_say_why(setup, api, errcode):
    setup.person_wrote(ago_s=60)
    tid = setup.ticket()
    api.fail_with = errcode
    with pytest.raises(handoff.ReplyRefused) as e:
        reply(setup, tid)
    assert e.value.errcode == errcode and e.value.message == handoff.ERRORS[errcode]
    row = status(setup, tid)
    assert row.status == "open" and row.last_error == handoff.ERRORS[errcode]
    tracker = asyncio.run(setup.agent.tracker_store.retrieve(SENDER))
    assert tracker is None or not any(isinstance(e, BotUttered) for e in tracker.events)
