"""What the channels' HTTP endpoints share, in one place: the health route, JSON request bodies
read with a bound on their size and nesting, the error a malformed request gets (`BadRequest`),
JSON answers, the sender of a request, the client address behind trusted proxies
(`ClientAddresses`) and the Origin policy of REST and the widget (`OriginPolicy`).

The channel modules (rest.py, widget.py, wechat.py, bot/staff/channel.py) keep only their own
protocol; what a message goes through on its way to the assistant is bot/channels/guard.py.
"""
from __future__ import annotations

import ipaddress
import json
import re
from typing import Any, Callable, Dict, Iterable, List, Optional, Union

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import Settings

# Deeper JSON than any client of these channels sends; json.loads fails far deeper (~1000).
MAX_JSON_DEPTH = 20
MAX_SENDER_CHARS = 128


def _settings() -> Settings:
    return Settings.from_env(check=False, lenient=True)


# ------------------------------------------------------------------------------------------
# Errors and answers


class BadRequest(Exception):
    """A request a channel refuses: ``status`` and a message saying what is wrong. ``kind``
    names the fault of a body (``too_large``, ``not_json``, ``too_deep``, ``not_object``) for a
    channel that words it in its own language."""

    def __init__(self, status: int, message: str, kind: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


def dumps(obj: Any, **kwargs: Any) -> str:
    """JSON with Chinese text as it is (not ``\\uXXXX``)."""
    return json.dumps(obj, ensure_ascii=False, **kwargs)


def html_safe_dumps(obj: Any, **kwargs: Any) -> str:
    """`dumps`, with ``<``, ``>`` and ``&`` written as escapes: the same text for a JSON reader,
    and nothing a page that puts it into HTML could take for markup."""
    return (dumps(obj, **kwargs)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def add_health(bp: Blueprint, extra: Optional[Callable[[], Dict[str, Any]]] = None) -> None:
    """``GET /`` of a channel: ``{"status": "ok"}`` and whatever ``extra()`` adds."""

    @bp.route("/", methods=["GET"])
    async def health(request: Request) -> HTTPResponse:
        return response.json({"status": "ok", **(extra() if extra else {})})


def require_sender(value: Any, max_chars: int = MAX_SENDER_CHARS) -> str:
    """The ``sender`` of a request: a non-blank string (a number is taken as its digits) of at
    most ``max_chars`` printable characters; raises `BadRequest` (400) for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(400, "sender is required (a string naming the conversation)")
    if len(value) > max_chars or any(not c.isprintable() for c in value):
        raise BadRequest(400, f"sender must be at most {max_chars} printable characters")
    return value


# ------------------------------------------------------------------------------------------
# Client addresses (per-address rate limits)

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]


def parse_networks(value: Any, setting: str) -> List[Network]:
    """``"10.0.0.5, 192.168.0.0/16 ::1"`` -> networks; a wrong entry is an error naming the setting."""
    items = value if isinstance(value, (list, tuple)) else re.split(r"[,\s]+", str(value or ""))
    networks = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{setting}: {item!r} is not an IP address or network "
                             "(e.g. 10.0.0.5 or 10.0.0.0/24)") from None
    return networks


def _address(text: str) -> Optional[Address]:
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    return getattr(ip, "ipv4_mapped", None) or ip


def _within(ip: Address, networks: Iterable[Network]) -> bool:
    return any(ip.version == n.version and ip in n for n in networks)


class ClientAddresses:
    """The address a request comes from: the connection's peer, or, when the peer is one of the
    ``TRUSTED_PROXIES`` (nginx), the last address in ``X-Forwarded-For`` that is not itself a
    trusted proxy. ``X-Forwarded-For`` from anyone else is ignored: a client cannot choose the
    address it is counted under."""

    def __init__(self, trusted: Any = None, exempt: Any = None) -> None:
        settings = _settings()
        self.trusted = parse_networks(settings.trusted_proxies if trusted is None else trusted,
                                      "TRUSTED_PROXIES")
        self.exempt = parse_networks(settings.guard_client_exempt if exempt is None else exempt,
                                     "GUARD_CLIENT_EXEMPT")

    def of(self, request: Any) -> str:
        peer_text = getattr(request, "ip", "") or ""
        peer = _address(peer_text)
        if peer is None:
            return peer_text or "unknown"
        if not _within(peer, self.trusted):
            return str(peer)
        hops = [hop for value in request.headers.getall("x-forwarded-for", [])
                for hop in value.split(",")]
        client = peer
        for hop in reversed(hops):
            ip = _address(hop)
            if ip is None:  # garbage: the last proxy that can be trusted is what we know
                break
            client = ip
            if not _within(ip, self.trusted):
                break
        return str(client)

    def is_exempt(self, address: str) -> bool:
        """The address is one of ``GUARD_CLIENT_EXEMPT`` (REST does not limit it per address)."""
        ip = _address(address)
        return ip is not None and _within(ip, self.exempt)


def client_per_minute() -> int:
    return _settings().guard_client_per_minute


# ------------------------------------------------------------------------------------------
# Origins


def parse_origins(value: Any) -> List[str]:
    """``"https://a.gov.cn, https://b.gov.cn"`` (or a YAML list) -> normalised origins."""
    if value is None:
        return []
    items: Iterable[Any] = value if isinstance(value, (list, tuple)) else re.split(r"[,\s]+", str(value))
    origins = []
    for item in items:
        origin = str(item).strip().rstrip("/")
        if origin:
            origins.append(origin if origin == "*" else origin.lower())
    return origins


class OriginPolicy:
    """Which web pages may call a channel from a browser: the configured public origins
    (``WIDGET_ALLOWED_ORIGINS``; ``*`` for any) and the assistant's own loopback address (the
    demo page under ``make run``), whose port is the connection's own, never the ``Host`` header
    (which the page's own server, or DNS rebinding, can choose). A request without ``Origin`` (a
    server, curl, the answer checks) is not a browser's cross-site request and is allowed."""

    LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")

    def __init__(self, allowed: Any = None) -> None:
        self.allowed = parse_origins(allowed)

    def check(self, request: Any) -> Optional[bool]:
        """None: no Origin header; True: an allowed origin; False: any other."""
        origin = (request.headers.get("origin") or "").strip().rstrip("/").lower()
        if not origin:
            return None
        if "*" in self.allowed or origin in self.allowed:
            return True
        conn = getattr(request, "conn_info", None)
        port = getattr(conn, "server_port", 0)
        own = {f"http://{host}:{port}" for host in self.LOOPBACK_HOSTS}
        if port == 80:
            own |= {f"http://{host}" for host in self.LOOPBACK_HOSTS}
        return origin in own


# ------------------------------------------------------------------------------------------
# JSON bodies


class BadJSON(ValueError):
    """A body that is not the JSON object a channel expects; the message says what is wrong,
    ``kind`` names it (``not_json``, ``too_deep``, ``not_object``)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """How deeply arrays and objects nest in ``value`` (counted without recursion, and only up
    to just past ``limit``)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def load_json_object(raw: Optional[bytes], max_depth: int = MAX_JSON_DEPTH) -> Dict[str, Any]:
    """The JSON object in a request body; raises `BadJSON` for anything else, nesting deeper than
    ``max_depth`` included (the whole body, a message or metadata)."""
    try:
        value = json.loads(raw or b"")
    except RecursionError:
        raise BadJSON(f"JSON nested deeper than {max_depth} levels", "too_deep") from None
    except (ValueError, UnicodeDecodeError):
        raise BadJSON("body must be JSON", "not_json") from None
    if json_depth(value, max_depth) > max_depth:
        raise BadJSON(f"JSON nested deeper than {max_depth} levels", "too_deep")
    if not isinstance(value, dict):
        raise BadJSON("body must be a JSON object", "not_object")
    return value


def is_json_request(request: Any) -> bool:
    """The request says its body is JSON (``Content-Type: application/json``, any parameters)."""
    ctype = str(request.headers.get("content-type") or "")
    return ctype.split(";", 1)[0].strip().lower() == "application/json"


def read_json_object(request: Request, max_bytes: int, empty: Optional[Dict[str, Any]] = None
                     ) -> Dict[str, Any]:
    """The JSON object in a request's body, at most ``max_bytes`` long (413) and nested at most
    `MAX_JSON_DEPTH` deep (400); any other body is a 400. An empty body is ``empty`` when given."""
    raw = request.body or b""
    if len(raw) > max_bytes:
        raise BadRequest(413, "request body too large", "too_large")
    if not raw and empty is not None:
        return dict(empty)
    try:
        return load_json_object(raw)
    except BadJSON as e:
        raise BadRequest(400, str(e), e.kind) from None
