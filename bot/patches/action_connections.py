"""Kept-alive connections to the action server.

Rasa opens a new HTTP connection to the action server for every action call (a new aiohttp
session each time) and closes it after. Each endpoint keeps one session per event loop instead,
so calls reuse kept-alive connections; an idle connection is dropped after 2 s, well before the
action server's own 5 s keep-alive ends, so a call never lands on a connection the server is
closing.

Changes ``rasa.utils.endpoints.EndpointConfig.session`` (Rasa 3.6).
"""
from __future__ import annotations

from typing import Any, Dict

from bot import patches

WRITTEN_FOR = {"rasa": "3.6"}
KEEPALIVE_S = 2.0
STOCK: Dict[str, Any] = {}


class _KeptSession:
    """``async with`` yields the endpoint's long-lived session and leaves it open."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *exc: Any) -> None:
        return None


def apply(settings: Any = None) -> None:
    patches.require(__name__, WRITTEN_FOR)
    import asyncio
    import weakref

    import aiohttp
    from rasa.utils import endpoints

    stock_session = STOCK["session"] = endpoints.EndpointConfig.session
    sessions: "weakref.WeakKeyDictionary[Any, Dict[Any, Any]]" = weakref.WeakKeyDictionary()

    def session(self):
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return stock_session(self)
        per_loop = sessions.setdefault(loop, {})
        key = (self.url, repr(sorted((self.headers or {}).items())), repr(self.basic_auth))
        kept = per_loop.get(key)
        if kept is None or kept.closed:
            auth = (aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
                    if self.basic_auth else None)
            kept = per_loop[key] = aiohttp.ClientSession(
                headers=self.headers, auth=auth,
                timeout=aiohttp.ClientTimeout(total=endpoints.DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_S),
            )
        return _KeptSession(kept)

    endpoints.EndpointConfig.session = session
