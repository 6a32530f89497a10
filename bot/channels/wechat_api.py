"""The customer-service message API, for answers that do not fit the passive reply.

wechatpy's ``WeChatClient`` with its base URL taken from configuration (the real API by default,
a fake on loopback in tests) and a timeout on every request, the token request included.
"""
from __future__ import annotations

from typing import Optional

import requests
from wechatpy.client import WeChatClient

from bot.settings import Settings

DEFAULT_API_BASE = Settings().wechat_api_base  # bot/settings.py (WECHAT_API_BASE)
DEFAULT_TIMEOUT = 10.0


class _TimeoutSession(requests.Session):
    """A session that never waits forever: wechatpy sends the token request without a timeout."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def request(self, *args, **kwargs):  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().request(*args, **kwargs)


class CustomerServiceClient(WeChatClient):
    """``WeChatClient`` against a configurable API base URL."""

    def __init__(self, appid: str, secret: str, api_base: Optional[str] = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(appid, secret, timeout=timeout)
        self.api_base = (api_base or DEFAULT_API_BASE).rstrip("/")
        self.API_BASE_URL = f"{self.api_base}/cgi-bin/"
        self._http = _TimeoutSession(timeout)

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=f"{self.api_base}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )

    def send_text(self, openid: str, content: str) -> None:
        self.message.send_text(openid, content)
