"""Fixtures for the widget tests: a scripted Rasa-shaped server (no model needed), the real
assistant when a trained model exists, and headless Chromium from the system."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bot.launcher import base_env, free_port, wait_http, _terminate

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ALLOWED_ORIGIN = "https://www.zjhrss.example"
ARTIFACTS = ROOT / "results" / "widget"


def new_sender() -> str:
    return "t" + uuid.uuid4().hex


@pytest.fixture(scope="session")
def fake_server():
    """Base URL of the scripted server (tests/channels/widget_fake_server.py)."""
    port = free_port()
    log = ROOT / "results" / "test-logs" / "widget-fake-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.channels.widget_fake_server", "--port", str(port),
             "--origins", ALLOWED_ORIGIN],
            # One process: its rate limits stay in memory (bot/shared_state.py).
            cwd=ROOT, env=base_env(SANIC_WORKERS="1"), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/webhooks/widget/", [proc], timeout=180)
        yield base
    finally:
        _terminate(proc)


@pytest.fixture(scope="session")
def real_assistant(request):
    """The real assistant (trained model, action server); skipped while no model is trained."""
    from bot.launcher import current_model

    try:
        current_model()
    except (FileNotFoundError, subprocess.CalledProcessError) as e:
        pytest.skip(f"no trained model: {e}")
    return request.getfixturevalue("assistant")


# Module scope: Playwright's synchronous API keeps an event loop running in this thread while it
# is open, and later tests that call asyncio.run() must not find it there.
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: run scripts/install_system_deps.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15000)
    errors = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
