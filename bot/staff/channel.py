"""The staff console at ``/staff/``, served by the Rasa server itself as an input channel's
blueprint (registered in bot/credentials.yml as ``bot.staff.channel.StaffInput``).

It is there only when staff accounts exist (or ``STAFF_ADMIN_USER`` and ``STAFF_ADMIN_PASSWORD``
are set at start, which create or reset that admin); otherwise every path under ``/staff/``
answers 404. Pages are static HTML and plain JavaScript (``static/``) that read the JSON API:

======================================  ===============================================
``POST /staff/api/login``               ``{"username", "password"}`` -> session cookie + CSRF token
``POST /staff/api/logout``              ends the session
``GET  /staff/api/me``                  the signed-in account and its CSRF token
``GET  /staff/api/conversations``       filtered, newest first, paged (``format=csv``)
``GET  /staff/api/conversations/<id>``  each turn: NLU reading, answer, citations, verdict, rating
``GET  /staff/api/turns``               single turns, same filters (ratings: ``rating=any``)
``GET  /staff/api/unanswered``          grouped by similar text; ``POST .../review``, ``.../export``
``GET  /staff/api/dashboard``           per day, per channel, answered share, clauses, verdicts, 👎, latency
``GET  /staff/api/tickets``             hand-offs; ``GET .../<id>``, ``POST .../<id>/reply``, ``.../close``
``GET|POST /staff/api/users``           accounts (管理 only); ``POST .../<name>/disable``
``GET  /staff/api/audit``               the audit log (管理 only)
======================================  ===============================================

Every API call needs a session (401 without one); every write needs the session's CSRF token
in ``X-CSRF-Token`` (403 without it). Reads run in a thread pool on the console's own tables, so
the conversations never wait for the console.

The console hands no message to the assistant (`on_new_message` is not used): a staff reply is
added to the conversation by `bot.staff.handoff.send_reply`. Bodies, errors and JSON answers are
the channels' shared HTTP helpers (bot/channels/http.py).
"""
from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Text
from urllib.parse import unquote

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa.core.channels.channel import InputChannel, UserMessage

from bot.channels.http import BadRequest, dumps, read_json_object
from bot.shared_state import limiter
from bot.settings import current_value
from bot.staff import auth, db, handoff, hooks, queries

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
COOKIE = "staff_session"
MAX_BODY_BYTES = 64 * 1024
ENABLED_CACHE_S = 10.0
LOGIN_PER_MINUTE = 30

_STATIC = {
    "staff.js": "application/javascript; charset=utf-8",
    "staff.css": "text/css; charset=utf-8",
    "login.js": "application/javascript; charset=utf-8",
}
_SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def trusted_proxies():
    raw = current_value("staff_trusted_proxies")
    nets = []
    for item in raw.replace(",", " ").split():
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            logger.warning("staff console: ignoring trusted proxy %r (not an address)", item)
    return nets


def served_over_https(request: Request) -> bool:
    """HTTPS to this server, or to a trusted proxy in front of it (``X-Forwarded-Proto``)."""
    if request.scheme == "https":
        return True
    proto = (request.headers.get("x-forwarded-proto") or "").split(",")[0].strip().lower()
    if proto != "https":
        return False
    try:
        peer = ipaddress.ip_address((request.conn_info.client_ip if request.conn_info else "") or "")
    except ValueError:
        return False
    return any(peer.version == n.version and peer in n for n in trusted_proxies())


def client_ip(request: Request) -> str:
    return (request.conn_info.client_ip if request.conn_info else None) or request.ip or "unknown"


# The console's wording of a body it cannot read (`BadRequest.kind`).
_BODY_ERRORS = {"too_large": "请求内容过大", "not_json": "请求内容必须是 JSON",
                "too_deep": "请求内容的 JSON 嵌套过深", "not_object": "请求内容必须是 JSON 对象"}


class StaffInput(InputChannel):
    """The staff console (see the module docstring and docs/staff.md)."""

    @classmethod
    def name(cls) -> Text:
        return "staff"

    def url_prefix(self) -> Text:
        # Rasa mounts a channel at urljoin("/webhooks/", url_prefix()): an absolute path wins.
        return "/staff"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "StaffInput":
        return cls()

    def __init__(self, database_url: Optional[str] = None, wechat_client: Any = None) -> None:
        self.database_url = database_url
        self.wechat_client = wechat_client
        self._enabled_at = 0.0
        self._enabled = False
        self.login_limiter = limiter(LOGIN_PER_MINUTE, namespace="staff-login")
        # The admin from the environment exists before the server answers its first request.
        try:
            auth.bootstrap_admin(self.engine)
        except Exception:
            logger.exception("staff console: could not create the admin from STAFF_ADMIN_USER")

    # ---- database -----------------------------------------------------------------------------

    @property
    def engine(self):
        engine = db.engine_for(self.database_url)
        db.ensure_schema(engine)
        return engine

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(fn, *args))

    def enabled(self) -> bool:
        now = time.monotonic()
        # Known accounts are re-checked every few seconds, their absence every second.
        if now - self._enabled_at > (ENABLED_CACHE_S if self._enabled else 1.0):
            try:
                self._enabled = auth.has_accounts(self.engine)
            except Exception:
                logger.exception("staff console: cannot read the staff accounts")
                self._enabled = False
            self._enabled_at = now
        return self._enabled

    def start(self, app: Any) -> None:
        """At server start: tables, the admin from the environment, the hand-off hooks."""
        engine = self.engine
        self._enabled_at = 0.0
        hooks.bind(app, engine, self.enabled)
        if self.enabled():
            logger.info("staff console served at /staff/")

    # ---- responses ----------------------------------------------------------------------------

    @staticmethod
    def _secure(resp: HTTPResponse) -> HTTPResponse:
        for k, v in _SECURITY_HEADERS.items():
            resp.headers.setdefault(k, v)
        return resp

    def json(self, body: Any, status: int = 200) -> HTTPResponse:
        return self._secure(response.json(body, status=status, dumps=dumps))

    def error(self, status: int, message: str, **extra: Any) -> HTTPResponse:
        return self.json({"error": message, **extra}, status=status)

    def page(self, name: str, status: int = 200) -> HTTPResponse:
        return self._secure(response.html((STATIC_DIR / name).read_text("utf-8"), status=status))

    def csv(self, kind: str, items: Any) -> HTTPResponse:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return self._secure(response.text(
            queries.to_csv(kind, items), content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{kind}-{stamp}.csv"'}))

    @staticmethod
    def body(request: Request) -> Dict[str, Any]:
        """The JSON object of a request (an empty body is ``{}``)."""
        try:
            return read_json_object(request, MAX_BODY_BYTES, empty={})
        except BadRequest as e:
            raise BadRequest(e.status, _BODY_ERRORS.get(e.kind, e.message), e.kind) from None

    async def session(self, request: Request) -> Optional[auth.Session]:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        return await self.run(auth.session_for, self.engine, token)

    def _same_origin(self, request: Request) -> bool:
        origin = (request.headers.get("origin") or "").rstrip("/").lower()
        if not origin:
            return True
        host = (request.headers.get("host") or "").lower()
        return origin.split("://", 1)[-1] == host

    def guarded(self, write: bool = False, manage: bool = False):
        """A route that needs a session (401), for writes its CSRF token and the same origin
        (403), for account and reply routes the 管理 role (403)."""
        def decorate(handler):
            @functools.wraps(handler)
            async def route(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
                if not self.enabled():
                    return self.error(404, "not found")
                session = await self.session(request)
                if session is None:
                    return self.error(401, "请先登录")
                if write:
                    if not auth.csrf_ok(session, request.headers.get("x-csrf-token")):
                        return self.error(403, "缺少或错误的 CSRF 令牌，请刷新页面后重试")
                    if not self._same_origin(request):
                        return self.error(403, "请求来源与控制台不一致")
                if manage and not session.user.can_manage:
                    return self.error(403, "需要“管理”权限")
                request.ctx.staff = session
                try:
                    return await handler(request, *args, **kwargs)
                except BadRequest as e:
                    return self.error(e.status, e.message)
                except queries.BadFilter as e:
                    return self.error(400, str(e))
                except auth.AuthError as e:
                    return self.error(e.status, e.message)
                except handoff.ReplyRefused as e:
                    return self.error(e.status, e.message, errcode=e.errcode)
            return route
        return decorate

    async def audit(self, request: Request, action: str, target: Any = None,
                    detail: Optional[str] = None) -> None:
        user = getattr(request.ctx, "staff", None)
        await self.run(auth.audit, self.engine, user.user.username if user else None, action,
                       None if target is None else str(target), detail, client_ip(request))

    # ---- routes -------------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("staff_console", __name__)

        @bp.listener("after_server_start")
        async def started(app, _loop) -> None:
            try:
                await self.run(self.start, app)
            except Exception:
                logger.exception("staff console could not start; /staff/ answers 404")

        @bp.route("/", methods=["GET"])
        async def index(request: Request) -> HTTPResponse:
            if not self.enabled():
                return response.text("not found", status=404)
            if await self.session(request) is None:
                return self.page("login.html", status=401)
            return self.page("index.html")

        @bp.route("/login", methods=["GET"])
        async def login_page(request: Request) -> HTTPResponse:
            if not self.enabled():
                return response.text("not found", status=404)
            return self.page("login.html")

        @bp.route("/static/<name>", methods=["GET"])
        async def static(request: Request, name: str) -> HTTPResponse:
            if not self.enabled() or name not in _STATIC:
                return response.text("not found", status=404)
            resp = response.raw((STATIC_DIR / name).read_bytes(), content_type=_STATIC[name])
            resp.headers["Cache-Control"] = "no-cache"
            resp.headers["X-Content-Type-Options"] = "nosniff"
            return resp

        # -- sign-in

        @bp.route("/api/login", methods=["POST"])
        async def login(request: Request) -> HTTPResponse:
            if not self.enabled():
                return self.error(404, "not found")
            if not self._same_origin(request):
                return self.error(403, "请求来源与控制台不一致")
            ip = client_ip(request)
            if not self.login_limiter.allow("ip:" + ip):
                return self.error(429, "登录尝试过于频繁，请稍后再试")
            try:
                body = self.body(request)
                token, session = await self.run(auth.login, self.engine, body.get("username"),
                                                body.get("password"), ip)
            except BadRequest as e:
                return self.error(e.status, e.message)
            except auth.AuthError as e:
                return self.error(e.status, e.message)
            resp = self.json({"csrf_token": session.csrf, "user": session.user.to_json(),
                              "expires_at": session.expires_at})
            resp.cookies[COOKIE] = token
            cookie = resp.cookies[COOKIE]
            cookie["httponly"] = True
            cookie["samesite"] = "Strict"
            cookie["path"] = "/staff"
            cookie["max-age"] = int(auth.settings()["absolute"])
            if served_over_https(request):
                cookie["secure"] = True
            return resp

        @bp.route("/api/logout", methods=["POST"])
        @self.guarded(write=True)
        async def logout(request: Request) -> HTTPResponse:
            await self.run(auth.logout, self.engine, request.cookies.get(COOKIE))
            await self.audit(request, "logout")
            resp = self.json({"status": "ok"})
            resp.cookies[COOKIE] = ""
            resp.cookies[COOKIE]["path"] = "/staff"
            resp.cookies[COOKIE]["max-age"] = 0
            return resp

        @bp.route("/api/me", methods=["GET"])
        @self.guarded()
        async def me(request: Request) -> HTTPResponse:
            s = request.ctx.staff
            return self.json({"user": s.user.to_json(), "csrf_token": s.csrf,
                              "expires_at": s.expires_at})

        # -- conversations

        def export_limit(request: Request) -> Optional[int]:
            if request.args.get("format") != "csv":
                return None
            try:
                return min(queries.EXPORT_LIMIT, max(1, int(request.args.get("limit") or queries.EXPORT_LIMIT)))
            except ValueError:
                raise BadRequest(400, "limit must be a whole number")

        @bp.route("/api/conversations", methods=["GET"])
        @self.guarded()
        async def conversations(request: Request) -> HTTPResponse:
            f = queries.parse_filters(request.args)
            limit = export_limit(request)
            data = await self.run(queries.list_conversations, self.engine, f, limit)
            if limit:
                await self.audit(request, "export_csv", "conversations", request.query_string)
                return self.csv("conversations", data["items"])
            return self.json(data)

        @bp.route("/api/conversations/<cid:path>", methods=["GET"])
        @self.guarded()
        async def conversation(request: Request, cid: str) -> HTTPResponse:
            data = await self.run(queries.conversation, self.engine, unquote(cid))
            if data is None:
                return self.error(404, "没有这个对话")
            return self.json(data)

        @bp.route("/api/turns", methods=["GET"])
        @self.guarded()
        async def turns(request: Request) -> HTTPResponse:
            f = queries.parse_filters(request.args)
            limit = export_limit(request)
            data = await self.run(queries.list_turns, self.engine, f, limit)
            if limit:
                await self.audit(request, "export_csv", "turns", request.query_string)
                return self.csv("turns", data["items"])
            return self.json(data)

        # -- unanswered

        @bp.route("/api/unanswered", methods=["GET"])
        @self.guarded()
        async def unanswered(request: Request) -> HTTPResponse:
            f = queries.parse_filters(request.args)
            csv_out = request.args.get("format") == "csv"
            if csv_out:
                f.page, f.per_page = 1, queries.UNANSWERED_SCAN
            data = await self.run(queries.unanswered, self.engine, f,
                                  request.args.get("reviewed") in ("1", "true"))
            if csv_out:
                await self.audit(request, "export_csv", "unanswered", request.query_string)
                return self.csv("unanswered", data["items"])
            return self.json(data)

        @bp.route("/api/unanswered/review", methods=["POST"])
        @self.guarded(write=True)
        async def review(request: Request) -> HTTPResponse:
            keys = self.body(request).get("keys")
            if not isinstance(keys, list) or not keys or len(keys) > 1000:
                raise BadRequest(400, "keys 须为1-1000个分组标识的列表")
            n = await self.run(queries.mark_reviewed, self.engine, keys,
                               request.ctx.staff.user.username)
            await self.audit(request, "review_unanswered", f"{len(keys)} keys")
            return self.json({"reviewed": n})

        @bp.route("/api/unanswered/export", methods=["POST"])
        @self.guarded(write=True)
        async def export_nlu(request: Request) -> HTTPResponse:
            body = self.body(request)
            items = body.get("items")
            if not isinstance(items, list) or not items or len(items) > 5000:
                raise BadRequest(400, 'items 须为1-5000条 {"text", "intent"} 的列表')
            pairs = []
            for item in items:
                if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                    raise BadRequest(400, 'items 的每一项须为 {"text", "intent"}')
                pairs.append((str(item.get("intent") or body.get("intent") or "out_of_scope"),
                              item["text"]))
            text = queries.nlu_yaml(pairs)
            await self.audit(request, "export_nlu", f"{len(pairs)} examples")
            return self._secure(response.text(
                text, content_type="text/yaml; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="nlu-review.yml"'}))

        # -- dashboard

        @bp.route("/api/dashboard", methods=["GET"])
        @self.guarded()
        async def dashboard(request: Request) -> HTTPResponse:
            f = queries.parse_filters(request.args)
            return self.json(await self.run(queries.dashboard, self.engine, f))

        # -- tickets

        @bp.route("/api/tickets", methods=["GET"])
        @self.guarded()
        async def tickets(request: Request) -> HTTPResponse:
            f = queries.parse_filters(request.args)
            status = request.args.get("status") or None
            if status and status not in ("open", "answered", "closed"):
                raise BadRequest(400, "status must be open, answered or closed")
            limit = export_limit(request)
            data = await self.run(queries.list_tickets, self.engine, status, f, limit)
            if limit:
                await self.audit(request, "export_csv", "tickets", request.query_string)
                return self.csv("tickets", data["items"])
            return self.json(data)

        @bp.route("/api/tickets/<ticket_id:int>", methods=["GET"])
        @self.guarded()
        async def ticket(request: Request, ticket_id: int) -> HTTPResponse:
            data = await self.run(queries.ticket, self.engine, ticket_id)
            if data is None:
                return self.error(404, "没有这个工单")
            return self.json(data)

        @bp.route("/api/tickets/<ticket_id:int>/reply", methods=["POST"])
        @self.guarded(write=True, manage=True)
        async def reply(request: Request, ticket_id: int) -> HTTPResponse:
            text = self.body(request).get("text")
            if not isinstance(text, str):
                raise BadRequest(400, "text 须为字符串")
            agent = getattr(request.app.ctx, "agent", None)
            try:
                result = await handoff.send_reply(self.engine, agent, ticket_id, text,
                                                  request.ctx.staff.user.username, self.wechat_client)
            except handoff.ReplyRefused as e:
                await self.audit(request, "ticket_reply_failed", ticket_id, e.message)
                raise
            await self.audit(request, "ticket_reply", ticket_id)
            return self.json(result)

        @bp.route("/api/tickets/<ticket_id:int>/close", methods=["POST"])
        @self.guarded(write=True, manage=True)
        async def close(request: Request, ticket_id: int) -> HTTPResponse:
            if not await self.run(handoff.close_ticket, self.engine, ticket_id):
                return self.error(404, "没有这个工单")
            await self.audit(request, "ticket_close", ticket_id)
            return self.json({"status": "closed"})

        # -- accounts and audit

        @bp.route("/api/users", methods=["GET"])
        @self.guarded(manage=True)
        async def users(request: Request) -> HTTPResponse:
            return self.json({"items": await self.run(auth.list_users, self.engine)})

        @bp.route("/api/users", methods=["POST"])
        @self.guarded(write=True, manage=True)
        async def add_user(request: Request) -> HTTPResponse:
            body = self.body(request)
            done = await self.run(functools.partial(
                auth.create_or_reset, self.engine, str(body.get("username") or ""),
                body.get("password") or "", str(body.get("role") or "view"),
                body.get("display_name") or None, reset=bool(body.get("reset"))))
            await self.audit(request, f"user_{done}", body.get("username"), str(body.get("role")))
            return self.json({"status": done}, status=201 if done == "created" else 200)

        @bp.route("/api/users/<username>/disable", methods=["POST"])
        @self.guarded(write=True, manage=True)
        async def disable_user(request: Request, username: str) -> HTTPResponse:
            if username == request.ctx.staff.user.username:
                raise BadRequest(400, "不能停用自己的账号")
            await self.run(auth.set_disabled, self.engine, username, True)
            await self.audit(request, "user_disabled", username)
            return self.json({"status": "disabled"})

        @bp.route("/api/audit", methods=["GET"])
        @self.guarded(manage=True)
        async def audit_log(request: Request) -> HTTPResponse:
            f = queries.parse_filters(request.args)
            return self.json(await self.run(auth_log, self.engine, f))

        @bp.route("/api/<rest:path>", methods=["GET", "POST"])
        async def unknown(request: Request, rest: str) -> HTTPResponse:
            if not self.enabled():
                return self.error(404, "not found")
            if await self.session(request) is None:
                return self.error(401, "请先登录")
            return self.error(404, "没有这个接口")

        return bp


def auth_log(engine, f: queries.Filters) -> Dict[str, Any]:
    import sqlalchemy as sa

    a = db.audit.c
    offset = (f.page - 1) * f.per_page
    with engine.connect() as conn:
        rows = conn.execute(sa.select(db.audit).order_by(a.at.desc(), a.id.desc())
                            .limit(f.per_page + 1).offset(offset)).mappings().all()
    return {"items": [dict(r) for r in rows[:f.per_page]], "page": f.page,
            "per_page": f.per_page, "has_more": len(rows) > f.per_page}
