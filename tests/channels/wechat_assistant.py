"""The real assistant behind the WeChat channel, for the end-to-end WeChat tests: the fake
customer-service API (`wechat_api`, one per test module) and the assistant started with the
WeChat settings pointing at it (`wechat_assistant`).

Test modules import the fixture they use from here (kept out of a shared conftest.py so the
channel test suites stay independent of each other)."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.channels.fake_wechat import APPID, SECRET, TOKEN, FakeWeChatAPI


@pytest.fixture(scope="module")
def wechat_api() -> Iterator[FakeWeChatAPI]:
    server = FakeWeChatAPI(APPID, SECRET).start()
    yield server
    server.stop()


@contextmanager
def wechat_assistant(wechat_api: FakeWeChatAPI, log_dir: Path, **env: str) -> Iterator[Any]:
    """Rasa with the newest model and the action server, as `make run` starts them, with the
    WeChat account's token, AppID and secret and ``env`` added; skipped without a trained model."""
    from tests.robustness.conftest import need_model

    need_model()
    from bot.launcher import Assistant

    settings = {"WECHAT_TOKEN": TOKEN, "WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET,
                "WECHAT_API_BASE": wechat_api.base, **env}
    with Assistant(env=settings, log_dir=log_dir) as assistant:
        yield assistant
