"""The health check of the Rasa server: ``GET /webhooks/health/``.

Rasa's own ``/`` says only that the process answers HTTP. This says whether conversations can be
kept and questions answered:

* ``conversation_store``: the store can be read and written now (for SQLite a fresh connection
  reads the schema and takes the write lock; for other databases ``SELECT 1``), and this process
  has not failed to read or save a conversation since its last successful save;
* ``action_server``: its ``/health`` answers within 2 s.

200 with ``{"status": "ok", ...}`` when both hold, else 503 with ``"status": "failing"`` and what
failed. The answer comes from one Sanic worker; every worker probes the same store and action
server. For monitoring (a load balancer, a systemd timer, docs/operations.md); registered in
``bot/credentials.yml`` as ``bot.health.HealthInput``.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa.core.channels.channel import InputChannel, UserMessage

logger = logging.getLogger(__name__)

# A save failure this recent still counts, even when the store answers the probe again.
RECENT_FAILURE_S = 60.0


def store_status(store: Any) -> Dict[str, Any]:
    inner = getattr(store, "_tracker_store", store)  # Rasa's fail-safe wrapper, if any
    if not hasattr(inner, "probe"):
        return {"status": "unknown", "error": f"{type(inner).__name__} has no health probe"}
    problem = inner.probe()
    seen = inner.health.snapshot()
    recent = (seen["failing_since"] is not None and seen["last_failure"] is not None
              and time.time() - seen["last_failure"] < RECENT_FAILURE_S)
    status: Dict[str, Any] = {"status": "ok" if problem is None and not recent else "failing",
                              "failed_operations": seen["failures"]}
    if problem is not None:
        status["error"] = problem
    elif recent:
        status["error"] = seen["last_error"]
    if seen["failing_since"] is not None:
        status["failing_since"] = seen["failing_since"]
    return status


def action_server_status(endpoint: Any) -> Dict[str, Any]:
    import urllib.request

    url = getattr(endpoint, "url", None)
    if not url:
        return {"status": "unknown", "error": "no action endpoint configured"}
    health = url.rsplit("/webhook", 1)[0] + "/health"
    try:
        with urllib.request.urlopen(health, timeout=2) as r:
            ok = r.status == 200
    except Exception as e:
        return {"status": "failing", "error": f"{type(e).__name__}: {e}"[:200]}
    return {"status": "ok"} if ok else {"status": "failing", "error": f"HTTP {r.status}"}


class HealthInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "health"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "HealthInput":
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("custom_webhook_HealthInput", __name__)

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return response.json({"status": "starting"}, status=503)
            loop = asyncio.get_running_loop()
            store, actions = await asyncio.gather(
                loop.run_in_executor(None, store_status, agent.tracker_store),
                loop.run_in_executor(None, action_server_status, agent.action_endpoint),
            )
            ok = store["status"] == "ok" and actions["status"] == "ok"
            if not ok:
                logger.warning("health check failing: conversation store %s, action server %s",
                               store, actions)
            return response.json({"status": "ok" if ok else "failing",
                                  "conversation_store": store, "action_server": actions},
                                 status=200 if ok else 503)

        return bp
