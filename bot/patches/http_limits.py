"""Limits on HTTP requests themselves, below the channels, for Sanic 21.12 (the version Rasa 3.6
runs on).

* **Request framing.** Sanic reads ``Content-Length`` with ``int()``: a negative length made it
  wait for a body that never comes (until its 60 s response timeout), a non-numeric one raised
  inside the server (500). Such a request, a ``Content-Length`` given twice with different
  values, and a ``Transfer-Encoding`` other than ``chunked`` (or beside a ``Content-Length``)
  now get 400 at once, and the connection is closed.
* **Whole request time.** Sanic's request timeout restarts with every byte received, so a
  client sending one byte every few seconds kept a connection, and a request, open for ever.
  The whole request, from its first byte until its body has been read (by Sanic, or by a
  streaming handler such as WeChat's), must now arrive within ``HTTP_REQUEST_TIMEOUT`` seconds
  (default 15); a slower client gets 408 and the connection is closed. Time spent answering is
  not counted (the channels bound that themselves).

Changes ``HttpProtocol.__init__``, ``HttpProtocol.data_received``,
``HttpProtocol.check_timeouts`` and ``Http.init_for_request`` (Sanic 21.12), none of which
Sanic's TouchUp rewrites at start-up. ``apply(settings)`` runs in the entry point before the
server starts (bot/entry.py); tests/robustness/test_privacy_e2e.py checks against a running
server that the changes hold.
"""
from __future__ import annotations

import logging
from time import monotonic
from typing import Any, Dict, Type

from bot import patches

logger = logging.getLogger(__name__)

WRITTEN_FOR = {"sanic": "21.12"}
DEFAULT_REQUEST_TIMEOUT = 15.0
# Where a connection keeps the start of the request it is receiving (Sanic's per-connection ctx).
_STARTED = "_request_started"

_request_classes: Dict[type, type] = {}


def request_timeout(settings: Any) -> float:
    """``HTTP_REQUEST_TIMEOUT`` seconds (default 15; 0 also means the default)."""
    return getattr(settings, "http_request_timeout", 0) or DEFAULT_REQUEST_TIMEOUT


def check_framing(headers: Any) -> None:
    """Raises Sanic's ``InvalidUsage`` (400) for a body length Sanic would misread."""
    from sanic.exceptions import InvalidUsage

    lengths = [str(v).strip() for v in headers.getall("content-length", [])]
    encodings = [str(v).strip() for v in headers.getall("transfer-encoding", [])]
    if encodings:
        if encodings != ["chunked"]:
            raise InvalidUsage("Transfer-Encoding must be chunked")
        if lengths:
            raise InvalidUsage("Content-Length and Transfer-Encoding must not both be given")
        return
    if not lengths:
        return
    if len(set(lengths)) > 1:
        raise InvalidUsage("Content-Length given twice with different values")
    if not (lengths[0].isascii() and lengths[0].isdigit()):
        raise InvalidUsage("Content-Length must be a non-negative whole number")


def _checked(base: Type[Any]) -> Type[Any]:
    """``base`` (Sanic's Request class) that checks the framing headers when it is built."""
    cls = _request_classes.get(base)
    if cls is None:
        class CheckedRequest(base):  # type: ignore[misc, valid-type]
            __slots__ = ()

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                check_framing(self.headers)

        cls = _request_classes[base] = CheckedRequest
    return cls


def apply(settings: Any) -> None:
    """Installs both limits in this process (before the server starts)."""
    patches.require(__name__, WRITTEN_FOR)
    from sanic.exceptions import RequestTimeout
    from sanic.http import Http, Stage
    from sanic.server.protocols.http_protocol import HttpProtocol

    limit = request_timeout(settings)
    stock_init = HttpProtocol.__init__
    stock_data_received = HttpProtocol.data_received
    stock_check_timeouts = HttpProtocol.check_timeouts
    stock_init_for_request = Http.init_for_request

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        stock_init(self, *args, **kwargs)
        self.request_class = _checked(self.request_class)
        # Sanic checks its timeouts every half of the shortest one: often enough for ours.
        self.request_timeout = min(self.request_timeout, limit)

    def init_for_request(self) -> None:
        stock_init_for_request(self)
        conn = self.protocol.conn_info
        if conn is not None:
            setattr(conn.ctx, _STARTED, None)  # the next request starts with its first byte

    def data_received(self, data: bytes) -> None:
        conn = self.conn_info
        if conn is not None and getattr(conn.ctx, _STARTED, None) is None:
            setattr(conn.ctx, _STARTED, monotonic())
        return stock_data_received(self, data)

    def check_timeouts(self) -> None:
        try:
            http, task, conn = self._http, self._task, self.conn_info
            if task and http is not None and conn is not None:
                receiving = http.stage is Stage.REQUEST or (
                    http.stage is Stage.HANDLER and bool(http.request_body)
                    and not http.upgrade_websocket)
                if receiving:
                    now = monotonic()
                    started = getattr(conn.ctx, _STARTED, None)
                    if started is None:  # bytes already buffered: count from now
                        setattr(conn.ctx, _STARTED, now)
                    elif now - started > limit:
                        logger.info("a request from %s took longer than %g s to arrive; "
                                    "closing the connection", conn.client_ip, limit)
                        http.exception = RequestTimeout(
                            f"the request did not arrive within {limit:g} s")
                        task.cancel()
                        return
        except Exception:
            logger.exception("checking the request time failed")
        stock_check_timeouts(self)

    HttpProtocol.__init__ = __init__
    HttpProtocol.data_received = data_received
    HttpProtocol.check_timeouts = check_timeouts
    Http.init_for_request = init_for_request
