"""The console in headless Chromium (Debian package, driven by Playwright): sign in, filter, open
a conversation; hostile text in a conversation is shown as text, never run."""
from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from bot.staff import auth, db, hooks
from bot.staff.channel import StaffInput
from bot.staff.turns import TurnIndex
from tests.channels.wechat_fixtures import ChannelServer, FakeBot
from tests.channels.widget_fixtures import browser, page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

HOSTILE = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">补贴怎么领"


@pytest.fixture
def console(tmp_path, monkeypatch):
    monkeypatch.setenv("SANIC_WORKERS", "1")
    url = f"sqlite:///{tmp_path}/tracker.db"
    engine = db.engine_for(url)
    index = TurnIndex(engine)
    auth.create_or_reset(engine, "wang", "a-long-password", "查看")
    now = time.time()
    for sender, text, answer, custom, ts in [
        ("widget:aaaa", "开化县是山区县吗", "是的，开化县属于山区县。", {"citations": [{"clause_id": "scope"}]}, now - 60),
        ("widget:bbbb", HOSTILE, "回答 <img src=y onerror=\"window.__pwned=3\">", {"out_of_scope": True}, now - 30),
    ]:
        index.record(sender, [
            {"event": "user", "text": text, "timestamp": ts, "input_channel": "widget",
             "parse_data": {"intent": {"name": "ask_clause", "confidence": 0.9}, "entities": []}},
            {"event": "bot", "text": answer, "timestamp": ts + 0.2, "data": {"custom": custom}},
        ])
    server = ChannelServer(StaffInput(database_url=url), FakeBot()).start()
    yield f"http://127.0.0.1:{server.port}/staff/"
    server.stop()
    hooks.unbind()


def test_sign_in_filter_and_open_a_conversation_with_hostile_text(console, page):
    page.goto(console)
    page.fill("#username", "wang")
    page.fill("#password", "a-long-password")
    page.click("#login-button")
    page.wait_for_selector("text=每日提问")
    page.click("text=对话")
    rows = page.locator("#conversation-list tr")
    rows.nth(2).wait_for()
    assert rows.count() == 3  # heading and two conversations
    page.select_option("select[name=flag]", "oos")
    page.click("text=筛选")
    expect(page.locator("#conversation-list tr")).to_have_count(2)
    row_text = page.locator("#conversation-list tr").nth(1).inner_text()
    assert "<script>" in row_text and "onerror" in row_text
    page.locator("#conversation-list tr").nth(1).locator("a").click()
    page.wait_for_selector(".turn")
    turn = page.locator(".turn").first
    assert HOSTILE in turn.locator(".user").inner_text()
    assert "onerror=\"window.__pwned=3\"" in turn.locator(".answer").inner_text()
    assert "超出范围" in turn.inner_text()
    assert page.locator("#view img").count() == 0 and page.locator("#view script").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.js_errors == []
    # A 查看 account has no account management.
    assert page.locator("a[href='#/users']").is_hidden()


def test_without_a_session_the_console_shows_the_sign_in_page(console, page):
    response = page.goto(console + "#/conversations")
    assert response.status == 401
    assert page.locator("#login-form").is_visible()
