"""Fixtures for the WeChat channel tests: the channel in a real Sanic server on loopback, a scripted
bot behind it, and the fake WeChat platform and API in front of and behind it.

Test modules import the fixtures they use from here (kept out of a shared conftest.py so the
channel test suites stay independent of each other).
"""
from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any, Callable, Dict, List, Optional, Union
from types import SimpleNamespace

import pytest
from sanic import Sanic

from rasa.core.channels.channel import UserMessage, register
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered

from bot.channels.wechat import WeChatInput
from tests.channels.fake_wechat import (
    AES_KEY, APPID, SECRET, TOKEN, FakeWeChatAPI, WeChatPlatform,
)

Script = Union[List[Dict[str, Any]], Callable[[str], List[Dict[str, Any]]]]


class FakeBot:
    """Stands in for Rasa's ``on_new_message``: answers from a script, records what it was sent,
    and stores each turn in its tracker store as Rasa does (the user's message, then each bot
    message with its buttons), where the channel reads what was last offered."""

    def __init__(self) -> None:
        self.tracker_store = InMemoryTrackerStore(Domain.empty())
        self.received: List[UserMessage] = []
        self.replies: Dict[str, Script] = {}
        self.delay = 0.0
        self.fail = False

    @property
    def texts(self) -> List[str]:
        return [m.text for m in self.received]

    async def on_new_message(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("bot failed")
        script = self.replies.get(message.text)
        if script is None:
            out = [{"text": f"你说的是：{message.text}"}]
        else:
            out = script(message.text) if callable(script) else script
        tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
        tracker.update(UserUttered(message.text, input_channel=message.input_channel))
        for m in out:
            tracker.update(BotUttered(m.get("text"), {k: v for k, v in m.items() if k != "text"}))
            await message.output_channel.send_response(message.sender_id, dict(m))
        await self.tracker_store.save(tracker)


class ChannelServer:
    """The channel mounted where Rasa mounts it, in a Sanic server on its own thread and loop."""

    def __init__(self, channel: WeChatInput, bot: FakeBot) -> None:
        self.channel, self.bot = channel, bot
        # Several apps start in one process: in test mode Sanic keeps its original request
        # handler between them (as sanic-testing does).
        Sanic.test_mode = True
        self.app = Sanic(f"wechat_test_{uuid.uuid4().hex[:8]}")
        self.app.config.ACCESS_LOG = False
        self.app.config.MOTD = False
        # Registered as `rasa run` registers input channels, with the fake bot as the agent.
        self.app.ctx.agent = SimpleNamespace(handle_message=bot.on_new_message,
                                             tracker_store=bot.tracker_store)
        register([channel], self.app, route="/webhooks/")
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._server: Any = None
        self._error: Optional[BaseException] = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self._serve()
        except BaseException as e:  # surfaced by start()
            self._error = e
            self._ready.set()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        from bot.launcher import free_port
        # A free port of its own (Sanic reads port 0 as "the default", 8000).
        server = self.loop.run_until_complete(self.app.create_server(
            host="127.0.0.1", port=free_port(), return_asyncio_server=True, access_log=False))
        self.loop.run_until_complete(server.startup())
        self.loop.run_until_complete(server.before_start())
        self.loop.run_until_complete(server.after_start())
        self.port = server.server.sockets[0].getsockname()[1]
        self._server = server
        self._ready.set()
        self.loop.run_forever()

    def start(self) -> "ChannelServer":
        self._thread.start()
        assert self._ready.wait(20), "Sanic did not start"
        if self._error is not None:
            raise RuntimeError("Sanic did not start") from self._error
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            await self._server.wait_closed()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/wechat/webhook"


@pytest.fixture
def api():
    server = FakeWeChatAPI(APPID, SECRET).start()
    yield server
    server.stop()


@pytest.fixture
def bot() -> FakeBot:
    return FakeBot()


@pytest.fixture
def make_server(api, bot, monkeypatch):
    """``make_server(**channel_kwargs)``: a started server; all are stopped after the test.
    Each stands for one Rasa worker alone (its state in memory) unless a test sets otherwise."""
    monkeypatch.setenv("SANIC_WORKERS", "1")
    servers: List[ChannelServer] = []

    def make(**kwargs: Any) -> ChannelServer:
        settings = dict(token=TOKEN, appid=APPID, secret=SECRET, aes_key=AES_KEY,
                        api_base=api.base, passive_timeout=2.0)
        settings.update(kwargs)
        server = ChannelServer(WeChatInput(**settings), bot).start()
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.stop()


@pytest.fixture
def server(make_server) -> ChannelServer:
    return make_server()


@pytest.fixture
def wechat(server) -> WeChatPlatform:
    return WeChatPlatform(server.url, TOKEN, APPID, AES_KEY)


@pytest.fixture
def user() -> str:
    return "o" + uuid.uuid4().hex[:27]
