"""The web widget in headless Chromium (the Debian package, driven by Playwright).

Most tests run against the scripted server (tests/channels/widget_fake_server.py); rendering of
hostile text and the offline case intercept the chat request in the browser. The last test talks
to the real assistant and is skipped while no model is trained."""
from __future__ import annotations

import json
import re

import pytest
import requests

from tests.channels.widget_fixtures import (  # noqa: F401  (fixtures)
    artifacts, browser, fake_server, page, real_assistant,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

LAUNCHER = "打开山区26县人社政策问答"


def demo(base: str) -> str:
    return f"{base}/webhooks/widget/demo"


def open_widget(pg, base: str) -> None:
    pg.goto(demo(base))
    pg.get_by_role("button", name=LAUNCHER).click()
    pg.get_by_role("dialog").wait_for()


def ask(pg, text: str) -> None:
    box = pg.get_by_role("textbox", name="输入您的问题")
    box.fill(text)
    box.press("Enter")


def bot_messages(pg):
    return pg.locator(".sq-bot:not(.sq-greeting)")


def wait_bot_count(pg, n: int) -> None:
    pg.wait_for_function(
        "n => document.querySelectorAll('.sq-bot:not(.sq-greeting)').length >= n", arg=n)


def sender_of(pg) -> str:
    return pg.evaluate("""() => {
        for (let i = 0; i < localStorage.length; i++) {
            const k = localStorage.key(i);
            if (k.startsWith('shanqu26-widget:') && !k.endsWith(':open')) return localStorage.getItem(k);
        }
    }""")


# ------------------------------------------------------------------ scripted server

def test_conversation_quick_replies_rating_and_reload(page, fake_server, artifacts):
    pg = page
    open_widget(pg, fake_server)
    log = pg.get_by_role("log")
    assert log.get_attribute("aria-live") == "polite"
    assert pg.evaluate("document.activeElement.getAttribute('aria-label')") == "输入您的问题"
    assert pg.get_by_role("button", name=LAUNCHER).count() == 0 or \
        pg.locator(".sq-launcher").get_attribute("aria-expanded") == "true"

    ask(pg, "开化县是山区县吗")
    card = pg.locator("details.sq-cite").first
    card.wait_for()
    assert "山区县的范围" in card.locator("summary").inner_text()
    assert not card.locator("blockquote").is_visible()
    card.locator("summary").click()
    assert "衢州、丽水两市" in card.locator("blockquote").inner_text()
    assert "属于山区26县" in bot_messages(pg).first.inner_text()

    ask(pg, "博士后出站补助我能拿吗")
    quick = pg.get_by_role("group", name="快捷回复")
    quick.wait_for()
    assert pg.locator(".sq-badge", has_text="尚需信息").count() == 1
    quick.get_by_role("button", name="民营企业").click()
    wait_bot_count(pg, 3)
    assert pg.locator(".sq-user .sq-bubble").last.inner_text() == "民营企业"
    assert pg.locator(".sq-badge", has_text=re.compile("^符合$")).count() == 1
    assert quick.get_by_role("button", name="国有企业").is_disabled()

    last = bot_messages(pg).last
    last.get_by_role("button", name="有帮助", exact=True).click()
    pg.get_by_text("感谢您的评价！").wait_for()
    assert last.get_by_role("button", name="有帮助", exact=True).get_attribute("aria-pressed") == "true"
    last.get_by_label("补充意见（选填）").fill("回答清楚")
    last.get_by_role("button", name="提交意见").click()
    pg.get_by_text("已收到您的意见，谢谢！").wait_for()

    sender = sender_of(pg)
    events = requests.get(f"{fake_server}/test/tracker/{sender}", timeout=10).json()["events"]
    feedback = [e["value"] for e in events if e["event"] == "slot" and e["name"] == "feedback"]
    assert [f["helpful"] for f in feedback] == [True, True]
    assert feedback[-1]["comment"] == "回答清楚" and feedback[-1]["message_index"] == 2
    assert pg.js_errors == []

    pg.reload()
    pg.get_by_role("dialog").wait_for()  # stays open across the reload
    wait_bot_count(pg, 3)
    users = pg.locator(".sq-user .sq-bubble").all_inner_texts()
    assert users == ["开化县是山区县吗", "博士后出站补助我能拿吗", "民营企业"]
    assert pg.locator("details.sq-cite").count() == 3
    assert bot_messages(pg).last.get_by_role("button", name="有帮助", exact=True).get_attribute("aria-pressed") == "true"
    assert pg.get_by_role("button", name="国有企业").is_disabled()  # answered already
    assert pg.js_errors == []
    pg.screenshot(path=str(artifacts / "widget-desktop.png"))


def test_keyboard_open_close_and_new_conversation(page, fake_server):
    pg = page
    pg.goto(demo(fake_server))
    launcher = pg.get_by_role("button", name=LAUNCHER)
    launcher.focus()
    pg.keyboard.press("Enter")
    pg.get_by_role("dialog").wait_for()
    assert pg.evaluate("document.activeElement.tagName") == "TEXTAREA"
    ask(pg, "你好")
    wait_bot_count(pg, 1)
    first = sender_of(pg)
    pg.keyboard.press("Escape")
    assert pg.get_by_role("dialog").count() == 0
    assert pg.evaluate("document.activeElement.className") == "sq-launcher"
    pg.keyboard.press("Enter")
    pg.get_by_role("button", name="开始新对话").click()
    assert bot_messages(pg).count() == 0
    ask(pg, "你好")  # the new conversation gets a new session from the server
    wait_bot_count(pg, 1)
    assert sender_of(pg) not in (None, first)


def test_phone_width_375(browser, fake_server, artifacts):
    ctx = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2,
                              is_mobile=True, has_touch=True, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(15000)
    try:
        pg.goto(demo(fake_server))
        pg.screenshot(path=str(artifacts / "demo-375-closed.png"))
        pg.get_by_role("button", name=LAUNCHER).click()
        ask(pg, "博士后出站补助我能拿吗")
        pg.get_by_role("group", name="快捷回复").wait_for()
        pg.locator("details.sq-cite summary").first.click()
        box = pg.get_by_role("dialog").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375.5
        assert pg.evaluate("document.querySelector('.sq-log').scrollWidth <= document.querySelector('.sq-log').clientWidth")
        send = pg.get_by_role("button", name="发送").bounding_box()
        assert send["x"] + send["width"] <= 375.5 and send["height"] >= 40
        pg.screenshot(path=str(artifacts / "widget-375.png"))
    finally:
        ctx.close()


# ------------------------------------------------------------------ intercepted chat requests

HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>粗体</b>'


def test_server_text_is_shown_as_text_never_as_markup(page, fake_server):
    pg = page
    reply = [
        {"recipient_id": "x", "text": "回答 " + HOSTILE, "timestamp": 1.5,
         "buttons": [{"title": '<img src=x onerror="window.__pwned=3">按钮', "payload": "/x"}]},
        {"recipient_id": "x", "timestamp": 1.5, "custom": {
            "citations": [{"clause_id": "m7", "title": "<i>标题</i>", "text": HOSTILE,
                           "location": "<u>位置</u>"}],
            "responsible_units": [{"name": "<img src=x onerror=alert(1)>", "full_name": "x"}],
            "eligibility": {"clause_id": "m7", "verdict": "not_eligible", "unmet": [HOSTILE]},
            "county": {"name": HOSTILE, "city": "x", "is_mountain_county": False}}},
    ]
    pg.route("**/webhooks/widget/webhook", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(reply)))
    open_widget(pg, fake_server)
    ask(pg, "测试")
    wait_bot_count(pg, 1)
    msg = bot_messages(pg).first
    pg.locator("details.sq-cite summary").click()
    text = msg.inner_text()
    assert '<img src=x onerror="window.__pwned=1">' in text
    assert "<script>" in text and "<i>标题</i>" in text and "<u>位置</u>" in text
    assert "不符合" in text and "不属于山区26县" in text
    assert pg.locator(".sq-widget img, .sq-widget script, .sq-widget b, .sq-widget i, .sq-widget u").count() == 0
    assert pg.get_by_role("button", name='<img src=x onerror="window.__pwned=3">按钮').count() == 1
    pg.wait_for_timeout(300)
    assert pg.evaluate("window.__pwned") is None


def test_a_question_typed_while_the_history_loads_is_sent_after_it(page, fake_server):
    """Opening the widget loads the conversation so far; a question typed and sent meanwhile
    (a fast typist, a slow network) is kept and sent once the history is shown, not dropped."""
    pg = page
    # A returning visitor: the browser keeps the session the server issued on an earlier visit.
    token = requests.post(f"{fake_server}/webhooks/widget/session", json={}, timeout=10).json()["session"]
    pg.add_init_script(f"localStorage.setItem('shanqu26-widget:{fake_server}/webhooks/widget/', '{token}')")
    held = []
    pg.route("**/webhooks/widget/history*", lambda route: held.append(route))
    pg.goto(demo(fake_server))
    pg.get_by_role("button", name=LAUNCHER).click()
    pg.get_by_role("dialog").wait_for()
    pg.wait_for_function("() => true")  # let the held history request reach the route
    assert len(held) == 1
    ask(pg, "开化县是山区县吗")
    ask(pg, "创业担保贷款有什么优惠")
    assert pg.get_by_role("textbox", name="输入您的问题").input_value() == ""
    assert bot_messages(pg).count() == 0
    held[0].continue_()
    wait_bot_count(pg, 2)
    users = pg.locator(".sq-user .sq-bubble").all_inner_texts()
    assert users == ["开化县是山区县吗", "创业担保贷款有什么优惠"]  # both sent, in order
    assert "开化" in bot_messages(pg).first.inner_text()


@pytest.mark.parametrize("stored", ["w0123456789abcdef0123456789abcdef",  # made by the browser
                                    "AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA"])  # not signed here
def test_an_id_the_server_did_not_issue_is_replaced_by_a_new_session(page, fake_server, stored):
    pg = page
    pg.add_init_script(f"if (!sessionStorage.getItem('seeded')) {{ sessionStorage.setItem('seeded', '1');"
                       f" localStorage.setItem('shanqu26-widget:{fake_server}/webhooks/widget/', '{stored}'); }}")
    open_widget(pg, fake_server)
    ask(pg, "开化县是山区县吗")
    wait_bot_count(pg, 1)
    assert "开化" in bot_messages(pg).first.inner_text()
    token = sender_of(pg)
    assert token != stored and re.fullmatch(r"[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}", token)
    hist = requests.get(f"{fake_server}/webhooks/widget/history", params={"sender": token}, timeout=10)
    assert [m["text"] for m in hist.json()["messages"] if m["role"] == "user"] == ["开化县是山区县吗"]
    assert pg.locator(".sq-status").inner_text() == ""  # no error shown
    assert pg.js_errors == []


def test_unreachable_server_shows_message_and_retry(page, fake_server):
    pg = page
    state = {"down": True, "calls": 0}

    def handle(route):
        state["calls"] += 1
        if state["down"]:
            route.abort("connectionrefused")
        else:
            route.continue_()

    pg.route("**/webhooks/widget/webhook", handle)
    open_widget(pg, fake_server)
    ask(pg, "第七条讲什么")
    alert = pg.get_by_role("alert")
    alert.get_by_text("无法连接到服务器").wait_for()
    retry = alert.get_by_role("button", name="重试")
    assert pg.evaluate("document.activeElement.textContent") == "重试"
    assert not pg.get_by_role("button", name="发送").is_disabled()

    state["down"] = False
    retry.click()
    pg.locator("details.sq-cite").first.wait_for()
    assert state["calls"] == 2
    assert pg.locator(".sq-user .sq-bubble").all_inner_texts() == ["第七条讲什么"]  # not repeated
    assert not alert.is_visible()
    assert "省人力社保厅" in bot_messages(pg).first.locator(".sq-units").inner_text()


def test_rate_limited_and_failing_answers_offer_retry(page, fake_server):
    pg = page
    statuses = iter([429, 500])
    pg.route("**/webhooks/widget/webhook", lambda route: route.fulfill(
        status=next(statuses), content_type="application/json", body='{"error": "x"}'))
    open_widget(pg, fake_server)
    ask(pg, "你好")
    pg.get_by_role("alert").get_by_text("提问过于频繁").wait_for()
    pg.get_by_role("button", name="重试").click()
    pg.get_by_role("alert").get_by_text("服务暂时无法回答").wait_for()


# ------------------------------------------------------------------ the real assistant

def test_real_assistant_in_browser(browser, real_assistant, artifacts):
    base = real_assistant.base
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(60000)
    errors = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        open_widget(pg, base)
        ask(pg, "开化县是山区县吗")
        wait_bot_count(pg, 1)
        first = bot_messages(pg).first
        assert "开化" in first.inner_text()
        first.locator("details.sq-cite").first.wait_for()

        # The graduation-year question comes with quick replies (5年以内 / 6至10年 / 10年以上).
        ask(pg, "我是高校毕业生，在缙云县创业，能享受扶持吗")
        quick = pg.get_by_role("group", name="快捷回复").last
        quick.wait_for()
        n = bot_messages(pg).count()
        choice = quick.get_by_role("button").first
        title = choice.inner_text()
        choice.click()
        wait_bot_count(pg, n + 1)
        assert pg.locator(".sq-user .sq-bubble").last.inner_text() == title
        pg.locator(".sq-badge", has_text=re.compile("^(符合|不符合|尚需信息)$")).last.wait_for()

        rated = bot_messages(pg).last
        rated.get_by_role("button", name="没有帮助", exact=True).click()
        pg.get_by_text("感谢您的评价！").wait_for()

        sender = sender_of(pg)
        hist = requests.get(f"{base}/webhooks/widget/history", params={"sender": sender}, timeout=30).json()
        bots = [m for m in hist["messages"] if m["role"] == "bot"]
        assert bots[-1].get("rating") == {"helpful": False}
        assert any(c.get("clause_id") == "m7" for c in (bots[-1].get("custom") or {}).get("citations", []))

        pg.reload()
        pg.get_by_role("dialog").wait_for()
        wait_bot_count(pg, n + 1)
        assert pg.locator(".sq-user .sq-bubble").first.inner_text() == "开化县是山区县吗"
        pg.set_viewport_size({"width": 375, "height": 740})
        pg.screenshot(path=str(artifacts / "real-assistant-375.png"))
        assert errors == []
    finally:
        ctx.close()
