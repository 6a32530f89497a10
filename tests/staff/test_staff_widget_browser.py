"""The widget and the staff console together on the real assistant (both servers on loopback, as
`make run` starts them with STAFF_ADMIN_USER / STAFF_ADMIN_PASSWORD), in headless Chromium: a 👎
given in the widget with its reason is seen in the console, and a staff reply to a message left
in the widget (留言) arrives in the widget while its page is open."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.channels.widget_fixtures import browser  # noqa: F401  (fixture)
from tests.staff.console import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
ADMIN, PASSWORD = "admin", "correct-horse-battery"
LAUNCHER = "打开山区26县人社政策问答"
ARTIFACTS = ROOT / "results" / "staff"


@pytest.fixture(scope="module")
def server():
    from bot.launcher import Assistant, current_model

    try:
        current_model()
    except (FileNotFoundError, subprocess.CalledProcessError) as e:
        pytest.skip(f"no trained model: {e}")
    env = {"STAFF_ADMIN_USER": ADMIN, "STAFF_ADMIN_PASSWORD": PASSWORD, "SANIC_WORKERS": "1"}
    with Assistant(env=env, log_dir=ROOT / "results" / "test-logs" / "staff-widget") as a:
        yield a


@pytest.fixture
def pages(browser, server):
    """A visitor's phone with the widget open, and a signed-in staff member's console."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    visitor = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True,
                                  has_touch=True, locale="zh-CN")
    staff = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    widget, console = visitor.new_page(), staff.new_page()
    for pg in (widget, console):
        pg.set_default_timeout(60000)
    widget.goto(f"{server.base}/webhooks/widget/demo")
    widget.get_by_role("button", name=LAUNCHER).click()
    console.goto(f"{server.base}/staff/")
    console.fill("#username", ADMIN)
    console.fill("#password", PASSWORD)
    console.click("#login-button")
    console.wait_for_selector("text=每日提问")
    try:
        yield widget, console
    finally:
        visitor.close()
        staff.close()


def ask(pg, text: str) -> None:
    box = pg.get_by_role("textbox", name="输入您的问题")
    box.fill(text)
    box.press("Enter")


def wait_answers(pg, n: int) -> None:
    pg.wait_for_function(
        "n => document.querySelectorAll('.sq-bot:not(.sq-greeting)').length >= n "
        "&& document.querySelector('.sq-typing').hidden", arg=n)


def conversation_id(pg) -> str:
    """The widget's conversation as the tracker store and the console name it: widget:<id>."""
    token = pg.evaluate("""() => {
        for (let i = 0; i < localStorage.length; i++) {
            const k = localStorage.key(i);
            if (k.startsWith('shanqu26-widget:') && !k.endsWith(':open')) return localStorage.getItem(k);
        }
    }""")
    return "widget:" + token.split(".")[0]


def staff_api(server):
    return signed_in(server, ADMIN, PASSWORD)


def test_a_thumbs_down_with_its_reason_is_seen_in_the_console(pages, server):
    widget, console = pages
    ask(widget, "开化县是山区县吗")
    wait_answers(widget, 1)
    answer = widget.locator(".sq-bot:not(.sq-greeting)").last
    answer.get_by_role("button", name="没有帮助", exact=True).click()
    form = answer.locator("form.sq-comment")
    form.get_by_text("回答错误").click()
    form.get_by_label("补充意见（选填）").fill("想知道开化县属于哪个市")
    form.get_by_role("button", name="提交意见").click()
    widget.get_by_text("已收到您的意见，谢谢！").wait_for()
    conversation = conversation_id(widget)

    detail = staff_api(server).get(f"{server.base}/staff/api/conversations/{conversation}", timeout=30).json()
    rated = [t for t in detail["turns_detail"] if t["rating"]]
    assert [(t["text"], t["rating"]["helpful"], t["rating"]["reason"], t["rating"]["comment"]) for t in rated] == \
        [("开化县是山区县吗", False, "回答错误", "想知道开化县属于哪个市")]

    console.goto(f"{server.base}/staff/#/ratings?rating=down")
    row = console.locator("tr", has_text="想知道开化县属于哪个市")
    row.wait_for()
    assert "回答错误" in row.inner_text() and "开化县是山区县吗" in row.inner_text()
    row.get_by_role("link", name="查看").click()
    console.locator(".turn", has_text="回答错误").wait_for()
    console.screenshot(path=str(ARTIFACTS / "console-rating-from-widget.png"))


def test_a_staff_reply_to_a_message_left_in_the_widget_arrives_there(pages, server):
    widget, console = pages
    ask(widget, "转人工")
    widget.get_by_role("button", name="留言", exact=True).wait_for()
    n = widget.locator(".sq-bot:not(.sq-greeting)").count()
    widget.get_by_role("button", name="留言", exact=True).click()
    wait_answers(widget, n + 1)
    ask(widget, "补贴什么时候发放？")
    widget.get_by_text("已收到您的留言").wait_for()
    conversation = conversation_id(widget)

    tickets = staff_api(server).get(f"{server.base}/staff/api/tickets", params={"status": "open"},
                                    timeout=30).json()["items"]
    ticket = next(t for t in tickets if t["conversation"] == conversation)
    console.goto(f"{server.base}/staff/#/ticket?id={ticket['id']}")
    console.fill("#reply-text", "您好，补贴在审核通过后一个月内发放。")
    console.get_by_role("button", name="发送回复").click()
    console.get_by_text("已送达").wait_for()

    reply = widget.locator(".sq-staff")
    reply.wait_for(timeout=20000)  # the widget polls every few seconds while the ticket is open
    assert reply.locator(".sq-text").inner_text() == "您好，补贴在审核通过后一个月内发放。"
    widget.screenshot(path=str(ARTIFACTS / "widget-staff-reply-375.png"))
