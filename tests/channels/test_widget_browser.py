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
    summary = card.locator("summary").inner_text()
    assert "正文末段（“山区县”的含义）" in summary and "“山区县”的范围" in summary
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
    badge = pg.locator(".sq-badge", has_text=re.compile("^可能适用$"))
    assert badge.count() == 1 and badge.get_attribute("title") == "是否给予由省财政厅决定"
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


def console_watch(pg):
    """Everything a visitor's console would show as failed: errors logged, uncaught exceptions,
    responses of 400 and above, requests that failed."""
    problems = []
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"exception: {e}"))
    pg.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    pg.on("requestfailed", lambda r: problems.append(f"failed {r.url}: {r.failure}"))
    return problems


def test_first_visit_and_return_without_a_failed_request(page, fake_server):
    pg = page
    problems = console_watch(pg)
    seen = []
    pg.on("request", lambda r: seen.append(r.url))
    open_widget(pg, fake_server)
    ask(pg, "开化县是山区县吗")
    wait_bot_count(pg, 1)
    pg.reload()  # coming back: the history of the session just issued
    pg.get_by_role("dialog").wait_for()
    wait_bot_count(pg, 1)
    assert any("/webhooks/widget/history" in u for u in seen)
    # A session the server issued whose first question never arrived has an empty history.
    pg.evaluate("""async () => {
        const r = await fetch('/webhooks/widget/session', {method: 'POST',
            headers: {'Content-Type': 'application/json'}, body: '{}'});
        const id = (await r.json()).session;
        for (let i = 0; i < localStorage.length; i++) {
            const k = localStorage.key(i);
            if (k.startsWith('shanqu26-widget:') && !k.endsWith(':open')) localStorage.setItem(k, id);
        }
    }""")
    pg.reload()
    pg.get_by_role("dialog").wait_for()
    pg.wait_for_function("() => !document.querySelector('.sq-typing') || document.querySelector('.sq-typing').hidden")
    assert bot_messages(pg).count() == 0 and pg.locator(".sq-greeting").count() == 1
    assert problems == []


def test_a_long_answer_is_shown_from_its_first_line_at_375(browser, fake_server, artifacts):
    ctx = browser.new_context(viewport={"width": 375, "height": 667}, device_scale_factor=2,
                              is_mobile=True, has_touch=True, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(15000)
    try:
        open_widget(pg, fake_server)
        ask(pg, "开化县是山区县吗")
        wait_bot_count(pg, 1)
        ask(pg, "全部措施有哪些")
        wait_bot_count(pg, 2)
        pg.wait_for_timeout(100)
        log = pg.locator(".sq-log").bounding_box()
        answer = bot_messages(pg).last
        first_line = answer.locator(".sq-text").bounding_box()
        whole = answer.bounding_box()
        assert whole["height"] > 2 * log["height"]  # several screens long
        # Its first line is on screen, at the top of the log; its end is not.
        assert log["y"] <= first_line["y"] and first_line["y"] + 24 <= log["y"] + log["height"]
        assert first_line["y"] - log["y"] < 40
        assert whole["y"] + whole["height"] > log["y"] + log["height"]
        pg.screenshot(path=str(artifacts / "long-answer-375.png"))
        # A short answer after it is shown whole.
        ask(pg, "你好")
        wait_bot_count(pg, 3)
        pg.wait_for_timeout(100)
        short = bot_messages(pg).last.bounding_box()
        log = pg.locator(".sq-log").bounding_box()
        assert short["y"] >= log["y"] and short["y"] + short["height"] <= log["y"] + log["height"] + 1
    finally:
        ctx.close()


def test_the_quotation_is_shown_once_in_a_card_that_shows_it_opens(page, fake_server, artifacts):
    from tests.channels.widget_fake_server import CLAUSE_M7, M7_SENTENCE

    pg = page
    open_widget(pg, fake_server)
    ask(pg, "创业担保贷款额度能提高吗")
    wait_bot_count(pg, 1)
    msg = bot_messages(pg).first
    text = msg.locator(".sq-text").inner_text()
    assert "【原文】" not in text and M7_SENTENCE not in text
    assert text.startswith("关于「加强创业扶持」的具体标准") and "责任单位：省人力社保厅、省财政厅。" in text
    card = msg.locator("details.sq-cite")
    assert card.count() == 1 and card.get_attribute("open") is None
    summary = card.locator("summary")
    assert "三、主要举措（七）" in summary.inner_text() and "加强创业扶持" in summary.inner_text()
    marker = summary.locator("svg.sq-cite-marker")
    assert marker.is_visible()
    closed = marker.evaluate("e => getComputedStyle(e).transform")
    summary.click()
    assert card.get_attribute("open") == ""
    assert marker.evaluate("e => getComputedStyle(e).transform") != closed  # the chevron turned
    quote = card.locator("blockquote")
    assert quote.inner_text() == CLAUSE_M7  # the whole passage, from the payload
    assert card.locator("mark").inner_text() == M7_SENTENCE  # what the answer rests on
    assert pg.evaluate("document.querySelector('.sq-log').innerText.split('适当提高创业担保贷款额度，').length - 1") == 1
    msg.screenshot(path=str(artifacts / "citation-card-open.png"))

    # "原文": the answer is the quotation itself, shown open.
    ask(pg, "原文")
    wait_bot_count(pg, 2)
    last = bot_messages(pg).last
    assert last.locator(".sq-text").count() == 0
    assert last.locator("details.sq-cite").get_attribute("open") == ""
    assert last.locator("blockquote").is_visible()


def test_each_verdict_label_has_its_own_colour(page, fake_server, artifacts):
    pg = page
    labels = ["符合条件", "可能适用", "不符合", "尚需信息"]
    reply = [{"recipient_id": "x", "text": f"判断{i}", "timestamp": 10.0 + i,
              "custom": {"eligibility": {"clause_id": "m1", "verdict": "eligible", "met": [],
                                         "unmet": [], "missing": [], "label": label}}}
             for i, label in enumerate(labels)]
    pg.route("**/webhooks/widget/webhook", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(reply)))
    open_widget(pg, fake_server)
    ask(pg, "测试")
    wait_bot_count(pg, 4)
    badges = pg.locator(".sq-badge")
    assert badges.all_inner_texts() == labels
    colours = badges.evaluate_all("bs => bs.map(b => getComputedStyle(b).backgroundColor + getComputedStyle(b).color)")
    assert len(set(colours)) == 4
    pg.locator(".sq-log").screenshot(path=str(artifacts / "verdict-badges.png"))


def dark_pixels(png: bytes) -> int:
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("L")
    return sum(1 for v in img.getdata() if v < 160)


def test_icons_are_inline_svg_and_drawn(page, fake_server, artifacts):
    pg = page
    pg.goto(demo(fake_server))
    launcher = pg.get_by_role("button", name=LAUNCHER)
    assert launcher.locator("svg").count() == 1
    launcher.click()
    ask(pg, "开化县是山区县吗")
    wait_bot_count(pg, 1)
    for name in ("有帮助", "没有帮助"):
        button = bot_messages(pg).first.get_by_role("button", name=name, exact=True)
        svg = button.locator("svg")
        assert svg.count() == 1
        assert dark_pixels(svg.screenshot()) > 10  # strokes on screen, not an empty box
    assert pg.get_by_role("button", name="关闭对话窗口").locator("svg").count() == 1
    # No emoji anywhere in what the widget draws itself.
    text = pg.locator(".sq-widget").evaluate("e => e.textContent")
    assert not re.search("[\U0001F300-\U0001FAFF\u2600-\u27BF]", text), text
    bot_messages(pg).first.locator(".sq-rating").screenshot(path=str(artifacts / "rating-icons.png"))
    pg.get_by_role("dialog").screenshot(path=str(artifacts / "widget-panel.png"))


def test_thumbs_down_asks_why_and_stores_the_reason(browser, fake_server, artifacts):
    ctx = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True,
                              locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(15000)
    try:
        open_widget(pg, fake_server)
        ask(pg, "全部措施有哪些")  # a long answer: its rating bar is far below its start
        wait_bot_count(pg, 1)
        msg = bot_messages(pg).first
        msg.get_by_role("button", name="没有帮助", exact=True).click()
        pg.get_by_text("感谢您的评价！").wait_for()
        form = msg.locator("form.sq-comment")
        reasons = form.get_by_role("radio")
        assert reasons.count() == 4
        assert [form.locator("label.sq-reason").nth(i).inner_text() for i in range(4)] == \
            ["回答错误", "没回答我的问题", "太长看不懂", "其他"]
        box = form.get_by_label("补充意见（选填）")
        pg.wait_for_timeout(100)
        log = pg.locator(".sq-log").bounding_box()
        area = box.bounding_box()
        assert log["y"] <= area["y"] and area["y"] + area["height"] <= log["y"] + log["height"] + 1
        form.get_by_text("太长看不懂").click()
        box.fill("想要简短一点")
        pg.screenshot(path=str(artifacts / "thumbs-down-reasons-375.png"))
        form.get_by_role("button", name="提交意见").click()
        pg.get_by_text("已收到您的意见，谢谢！").wait_for()

        sender = sender_of(pg)
        events = requests.get(f"{fake_server}/test/tracker/{sender}", timeout=10).json()["events"]
        feedback = [e["value"] for e in events if e["event"] == "slot" and e["name"] == "feedback"]
        assert [(f["helpful"], f.get("reason"), f["comment"]) for f in feedback] == \
            [(False, None, None), (False, "太长看不懂", "想要简短一点")]
        hist = requests.get(f"{fake_server}/webhooks/widget/history", params={"sender": sender}, timeout=10).json()
        rating = [m for m in hist["messages"] if m["role"] == "bot"][0]["rating"]
        assert rating == {"helpful": False, "reason": "太长看不懂", "comment": "想要简短一点"}
    finally:
        ctx.close()


def test_a_staff_reply_arrives_in_the_open_widget(page, fake_server, artifacts):
    pg = page
    problems = console_watch(pg)
    polls = []
    pg.on("request", lambda r: polls.append(r.url) if "/webhooks/widget/history" in r.url else None)
    open_widget(pg, fake_server)
    ask(pg, "转人工")
    pg.get_by_role("group", name="快捷回复").get_by_role("button", name="留言").click()
    wait_bot_count(pg, 2)
    ask(pg, "补贴什么时候发？")
    wait_bot_count(pg, 3)
    assert "已收到您的留言" in bot_messages(pg).last.inner_text()
    pg.wait_for_timeout(6000)
    assert len(polls) >= 1  # looking for the reply while the page is open
    pg.get_by_role("button", name="关闭对话窗口").click()  # the person reads the page meanwhile
    r = requests.post(f"{fake_server}/test/staff_reply/{sender_of(pg)}", json={"text": "审核通过后一个月内发放。"},
                      timeout=10)
    assert r.status_code == 200
    launcher = pg.get_by_role("button", name=LAUNCHER)
    launcher.get_by_text("有新回复").wait_for(timeout=15000)
    launcher.click()
    staff = pg.locator(".sq-staff")
    assert staff.count() == 1
    assert staff.locator(".sq-section-label").inner_text() == "工作人员回复"
    assert staff.locator(".sq-text").inner_text() == "审核通过后一个月内发放。"
    assert staff.locator(".sq-rating").count() == 0
    assert bot_messages(pg).nth(2).locator(".sq-rating").count() == 0  # the receipt is no answer
    pg.screenshot(path=str(artifacts / "staff-reply.png"))
    # Answered: no more polling.
    n = len(polls)
    pg.wait_for_timeout(6500)
    assert len(polls) == n
    # Coming back later shows it once, and does not look again.
    pg.reload()
    pg.get_by_role("dialog").wait_for()
    wait_bot_count(pg, 4)
    assert pg.locator(".sq-staff").count() == 1
    n = len(polls)
    pg.wait_for_timeout(6000)
    assert len(polls) == n
    assert problems == []


def test_looking_for_a_staff_reply_stops_after_ten_minutes(page, fake_server):
    import time

    pg = page
    pg.clock.install()  # the page's timers and Date, moved on by the test
    polls = []
    pg.on("request", lambda r: polls.append(r.url) if "/webhooks/widget/history" in r.url else None)

    def polls_after(n: int) -> int:
        # Playwright's events arrive while it waits (not while Python sleeps).
        deadline = time.monotonic() + 10
        while len(polls) <= n and time.monotonic() < deadline:
            pg.wait_for_timeout(50)
        pg.wait_for_timeout(500)  # the response handled, the next look scheduled
        return len(polls)

    open_widget(pg, fake_server)
    ask(pg, "转人工")
    pg.get_by_role("button", name="留言", exact=True).click()
    wait_bot_count(pg, 2)
    ask(pg, "补贴什么时候发？")
    wait_bot_count(pg, 3)
    assert polls == []
    pg.clock.run_for(5000)
    assert polls_after(0) == 1
    pg.clock.run_for(5000)
    assert polls_after(1) == 2  # every five seconds while no reply has come
    pg.clock.fast_forward("10:00")
    pg.wait_for_timeout(500)
    pg.clock.run_for(60000)
    pg.wait_for_timeout(500)
    assert len(polls) == 2  # ten minutes on: no more


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
        pg.locator(".sq-badge", has_text=re.compile("^(符合条件|可能适用|不符合|尚需信息)$")).last.wait_for()
        # The clause is quoted once: in its card, not again in the text.
        last = bot_messages(pg).last
        assert "【原文】" not in last.locator(".sq-text").inner_text()
        assert last.locator("details.sq-cite-quoted").count() >= 1

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
