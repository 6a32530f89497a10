"""Every setting of the assistant's servers, typed, with its default written once.

    from bot.settings import Settings
    settings = Settings.from_env()          # os.environ, or any mapping: Settings.from_env(env)
    settings.rasa_port, settings.rasa_enable_api, settings.child_env()
    current().staff_timezone                 # per request: os.environ as it is now
    current_value("staff_timezone")          # the same, reading only that variable (per row)

Each field names the environment variable it is read from (``metadata["env"]``). An unset or
empty variable takes the field's default; a value that is not of the field's kind (a port that is
not a whole number, ``RASA_ENABLE_API=maybe``) is an error that names the variable, raised when the
settings are read (at start, by the entry point and by ``scripts/preflight.py``), not later.
Yes/no settings take ``1/true/yes/on`` and ``0/false/no/off``, the same under ``make run``, the
launcher of the tests, evaluation and benchmark, and systemd.

Readers: the entry point of the Rasa server (``bot/entry.py``) and the patches it applies, the
supervisor, the launcher, the stores, the staff console and shell, the channels and the scripts
(preflight, purge, train). Code called per request reads ``current()`` or ``current_value()``,
the settings of the environment as it is now. ``scripts/env.sh`` sets only what the shell scripts themselves use;
no other file writes a default for one of these variables, and docs/zh/deploy.md §6 and the
README's table give these defaults (all checked by ``tests/test_settings.py``).

    python -m bot.settings            # every setting with its value (secrets masked)
"""
from __future__ import annotations

import dataclasses
import logging
import os
import sys
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

logger = logging.getLogger(__name__)

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")
# STAFF_TRUSTED_PROXIES when it and TRUSTED_PROXIES are empty.
LOOPBACK = "127.0.0.1, ::1"
# Masked by `python -m bot.settings`.
SECRET = ("password", "secret", "token", "aes_key")


class SettingError(ValueError):
    """A setting's value cannot be read; the message names the variable."""


def _setting(env: str, default: Any, doc: str, positive: bool = False,
             valid: Optional[Callable[[str], Any]] = None) -> Any:
    """``positive``: a number above 0; ``valid``: raises ValueError for a value it refuses."""
    return field(default=default, metadata={"env": env, "doc": doc, "positive": positive,
                                            "valid": valid})


def _date(text: str) -> None:
    date.fromisoformat(text)


def _timezone(name: str) -> None:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
    except Exception:
        raise ValueError(f"no time zone named {name!r}") from None


def default_workers() -> int:
    """One Rasa worker per core, at most 2 (each holds its own model)."""
    return max(1, min(2, os.cpu_count() or 1))


@dataclass(frozen=True)
class Settings:
    # -- where the servers listen -----------------------------------------------------------
    rasa_host: str = _setting("RASA_HOST", "127.0.0.1", "address the Rasa server binds")
    rasa_port: int = _setting("RASA_PORT", 5005, "port of the Rasa server")
    actions_host: str = _setting("ACTIONS_HOST", "127.0.0.1", "address the action server binds")
    actions_port: int = _setting("ACTIONS_PORT", 5055, "port of the action server")
    # Empty: http://ACTIONS_HOST:ACTIONS_PORT/webhook.
    action_endpoint_url: str = _setting("ACTION_ENDPOINT_URL", "",
                                        "where Rasa calls the action server")
    sanic_workers: int = _setting("SANIC_WORKERS", 0,
                                  "Rasa server processes; 0: one per core, at most 2")
    rasa_extra_args: str = _setting("RASA_EXTRA_ARGS", "", "more arguments for `rasa run`")
    # Empty: the model trained from this checkout (scripts/train.py --print-path).
    rasa_model: str = _setting("RASA_MODEL", "", "the model archive the Rasa server loads")
    # -- stores ------------------------------------------------------------------------------
    var_dir: str = _setting("VAR_DIR", "var", "data directory (stores, keys, logs)")
    # Empty: sqlite:///VAR_DIR/tracker.db.
    tracker_db_url: str = _setting("TRACKER_DB_URL", "", "conversation store")
    lock_store_type: str = _setting("LOCK_STORE_TYPE", "bot.locks.SQLiteLockStore",
                                    "conversation locks")
    redis_host: str = _setting("REDIS_HOST", "127.0.0.1", "Redis lock store: host")
    redis_port: int = _setting("REDIS_PORT", 6379, "Redis lock store: port")
    redis_password: str = _setting("REDIS_PASSWORD", "", "Redis lock store: password")
    redis_db: int = _setting("REDIS_DB", 1, "Redis lock store: database number")
    redis_key_prefix: str = _setting("REDIS_KEY_PREFIX", "shanqu26", "Redis key prefix")
    # Empty: beside a SQLite tracker store (tracker.locks.db, tracker.state.db), else VAR_DIR.
    lock_db_path: str = _setting("LOCK_DB_PATH", "", "SQLite lock store's file")
    state_db_path: str = _setting("STATE_DB_PATH", "",
                                  "the channels' state shared by the workers (limits, retries)")
    # Read by Rasa's SQL tracker store itself (the same defaults as Rasa's, tests/test_settings.py).
    sql_pool_size: int = _setting("SQL_POOL_SIZE", 50, "SQL connections kept per Rasa server",
                                  positive=True)
    sql_max_overflow: int = _setting("SQL_MAX_OVERFLOW", 100,
                                     "SQL connections a Rasa server may open beyond the pool")
    sqlite_busy_timeout_s: float = _setting("SQLITE_BUSY_TIMEOUT_S", 0.5,
                                            "seconds a busy SQLite store is waited for")
    store_retry_s: float = _setting("STORE_RETRY_S", 3.0,
                                    "seconds a failing store write is retried")
    # -- channels ----------------------------------------------------------------------------
    wechat_token: str = _setting("WECHAT_TOKEN", "", "WeChat Official Account: token")
    wechat_appid: str = _setting("WECHAT_APPID", "", "WeChat Official Account: AppID")
    wechat_secret: str = _setting("WECHAT_SECRET", "", "WeChat Official Account: AppSecret")
    wechat_aes_key: str = _setting("WECHAT_AES_KEY", "", "WeChat Official Account: EncodingAESKey")
    wechat_api_base: str = _setting("WECHAT_API_BASE", "https://api.weixin.qq.com",
                                    "WeChat's API (a stand-in in tests)")
    wechat_quotation: str = _setting("WECHAT_QUOTATION", "follow",
                                     "the quoted clause: `follow` the answer, or `on_request`")
    wechat_passive_timeout: float = _setting("WECHAT_PASSIVE_TIMEOUT", 4.0,
                                             "seconds WeChat's passive reply waits")
    widget_allowed_origins: str = _setting("WIDGET_ALLOWED_ORIGINS", "",
                                           "web pages that may use the widget and REST")
    widget_session_secret: str = _setting("WIDGET_SESSION_SECRET", "",
                                          "signs widget sessions; empty: var/widget-session.key")
    # -- limits (docs/operations.md) -----------------------------------------------------------
    guard_max_message_chars: int = _setting("GUARD_MAX_MESSAGE_CHARS", 1000,
                                            "characters of a message that are read")
    guard_sender_per_minute: int = _setting("GUARD_SENDER_PER_MINUTE", 20,
                                            "messages a conversation may send a minute")
    guard_client_per_minute: int = _setting("GUARD_CLIENT_PER_MINUTE", 60,
                                            "messages a client address may send a minute")
    guard_client_exempt: str = _setting("GUARD_CLIENT_EXEMPT", "127.0.0.1, ::1",
                                        "addresses without a per-address limit")
    trusted_proxies: str = _setting("TRUSTED_PROXIES", "",
                                    "proxies whose X-Forwarded-For names the client")
    http_request_timeout: float = _setting("HTTP_REQUEST_TIMEOUT", 15.0,
                                           "seconds a whole request may take to arrive")
    action_reply_timeout: float = _setting("ACTION_REPLY_TIMEOUT", 8.0,
                                           "seconds a channel waits for an answer")
    action_call_timeout: float = _setting("ACTION_CALL_TIMEOUT", 20.0,
                                          "seconds one action call may take")
    # -- Rasa's HTTP API -----------------------------------------------------------------------
    rasa_enable_api: bool = _setting("RASA_ENABLE_API", False, "serve Rasa's HTTP API")
    rasa_api_token: str = _setting("RASA_API_TOKEN", "", "token the HTTP API requires")
    conversation_retention_days: float = _setting("CONVERSATION_RETENTION_DAYS", 180.0,
                                                  "days an idle conversation is kept (make purge)",
                                                  positive=True)
    # -- staff console (docs/staff.md) ----------------------------------------------------------
    staff_admin_user: str = _setting("STAFF_ADMIN_USER", "",
                                     "with STAFF_ADMIN_PASSWORD: the admin created (or reset) at start")
    staff_admin_password: str = _setting("STAFF_ADMIN_PASSWORD", "", "that admin's password")
    staff_session_idle_minutes: float = _setting("STAFF_SESSION_IDLE_MINUTES", 30.0,
                                                 "minutes without a request that end a session",
                                                 positive=True)
    staff_session_hours: float = _setting("STAFF_SESSION_HOURS", 8.0,
                                          "hours after sign-in that end a session", positive=True)
    staff_max_failures: int = _setting("STAFF_MAX_FAILURES", 5,
                                       "wrong passwords in a row that lock an account",
                                       positive=True)
    staff_lock_minutes: float = _setting("STAFF_LOCK_MINUTES", 15.0,
                                         "minutes an account stays locked", positive=True)
    staff_low_confidence: float = _setting("STAFF_LOW_CONFIDENCE", 0.6,
                                           "questions understood less surely are unanswered")
    staff_handoff_after_failures: int = _setting("STAFF_HANDOFF_AFTER_FAILURES", 3,
                                                 "unanswered turns in a row before 留言 is offered",
                                                 positive=True)
    staff_reply_within: str = _setting("STAFF_REPLY_WITHIN", "1个工作日",
                                       "when a person who left a message is told to expect a reply")
    staff_timezone: str = _setting("STAFF_TIMEZONE", "Asia/Shanghai",
                                   "time zone of the console's times and days", valid=_timezone)
    staff_shell_poll_s: float = _setting("STAFF_SHELL_POLL_S", 5.0,
                                         "seconds between the staff shell's looks for a reply",
                                         positive=True)
    # Empty: TRUSTED_PROXIES, and when that is empty too, this machine (127.0.0.1, ::1).
    staff_trusted_proxies: str = _setting("STAFF_TRUSTED_PROXIES", "",
                                          "proxies whose X-Forwarded-For/-Proto the console trusts")
    # -- the action server and its answers --------------------------------------------------------
    hotline: str = _setting("HOTLINE", "12333", "the hotline the replies send people to")
    oos_trust_confidence: float = _setting("OOS_TRUST_CONFIDENCE", 0.80,
                                           "an out-of-scope reading less sure than this is "
                                           "checked against the knowledge base first")
    # Empty: today.
    policy_today: str = _setting("POLICY_TODAY", "",
                                 "the day years are counted to (YYYY-MM-DD; for tests)",
                                 valid=_date)
    # -- supervision (make run) ---------------------------------------------------------------
    supervise_backoff_s: float = _setting("SUPERVISE_BACKOFF_S", 1.0, "first restart delay")
    supervise_backoff_max_s: float = _setting("SUPERVISE_BACKOFF_MAX_S", 30.0,
                                              "longest restart delay")
    supervise_stable_s: float = _setting("SUPERVISE_STABLE_S", 60.0,
                                         "up this long: the delay starts again")
    supervise_hang_s: float = _setting("SUPERVISE_HANG_S", 60.0,
                                       "health check unanswered this long: restart (0: never)")
    supervise_probe_s: float = _setting("SUPERVISE_PROBE_S", 5.0, "seconds between health checks")
    supervise_start_timeout_s: float = _setting("SUPERVISE_START_TIMEOUT_S", 300.0,
                                                "seconds a server may take to start")
    # -- changes to Rasa and Sanic (bot/patches/) -----------------------------------------------
    patches_off: Tuple[str, ...] = _setting("PATCHES_OFF", (),
                                            "patches of bot/patches/ left out, by name")

    # ------------------------------------------------------------------------------------------

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None, check: bool = True,
                 lenient: bool = False) -> "Settings":
        """The settings of ``env`` (default os.environ); ``check``: also that they fit together.

        ``lenient`` (for the channels, inside a server whose entry point has already read the
        same settings strictly): a value that cannot be read is logged and its default used."""
        env = os.environ if env is None else env
        values: Dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = (env.get(f.metadata["env"]) or "").strip()
            if raw:
                try:
                    values[f.name] = _parse(f, raw)
                except SettingError as e:
                    if not lenient:
                        raise
                    logger.warning("ignoring %s (the default is used)", e)
        settings = cls(**values)
        derived: Dict[str, Any] = {}
        if not settings.action_endpoint_url:
            derived["action_endpoint_url"] = \
                f"http://{settings.actions_host}:{settings.actions_port}/webhook"
        if not settings.tracker_db_url:
            derived["tracker_db_url"] = f"sqlite:///{settings.var_dir}/tracker.db"
        if settings.sanic_workers <= 0:
            derived["sanic_workers"] = default_workers()
        if not settings.staff_trusted_proxies:
            derived["staff_trusted_proxies"] = settings.trusted_proxies or LOOPBACK
        settings = dataclasses.replace(settings, **derived)
        if check:
            settings.check()
        return settings

    def check(self) -> None:
        from bot import patches

        unknown = sorted(set(self.patches_off) - set(patches.NAMES))
        if unknown:
            raise SettingError(f"PATCHES_OFF: no patch named {', '.join(unknown)} "
                               f"(the patches: {', '.join(patches.NAMES)})")
        if self.rasa_enable_api and not self.rasa_api_token:
            raise SettingError("RASA_ENABLE_API is on but RASA_API_TOKEN is empty: "
                               "the API is never served without a token")

    def env(self) -> Dict[str, str]:
        """Every setting as the environment variable it is read from (for child processes)."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool):
                text = "1" if value else "0"
            elif isinstance(value, tuple):
                text = ",".join(value)
            elif isinstance(value, float) and value.is_integer():
                text = str(int(value))
            else:
                text = str(value)
            out[f.metadata["env"]] = text
        return out

    def child_env(self, base: Optional[Mapping[str, str]] = None, **overrides: str) -> Dict[str, str]:
        """``base`` (default os.environ) with every setting filled in and the process settings
        both servers need (no telemetry, reproducible hashing, quiet TensorFlow)."""
        env = dict(os.environ if base is None else base)
        env.update(self.env())
        env.update(PROCESS_ENV)
        env.update(overrides)
        return env

    def api_args(self) -> list:
        """`rasa run` arguments for Rasa's HTTP API: none unless RASA_ENABLE_API, then the token."""
        if not self.rasa_enable_api:
            return []
        return ["--enable-api", "--auth-token", self.rasa_api_token]


# Set for both servers wherever they are started (scripts/env.sh sets the same).
PROCESS_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "RASA_TELEMETRY_ENABLED": "false",
    "PYTHONHASHSEED": "0",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
}


def _parse(f: "dataclasses.Field[Any]", raw: str) -> Any:
    name, kind = f.metadata["env"], f.type
    if kind in ("bool", bool):
        if raw.lower() in TRUE:
            return True
        if raw.lower() in FALSE:
            return False
        raise SettingError(f"{name}={raw!r}: use one of {'/'.join(TRUE)} or {'/'.join(FALSE)}")
    if kind in ("int", int):
        try:
            value = int(raw)
        except ValueError:
            raise SettingError(f"{name}={raw!r} is not a whole number") from None
    elif kind in ("float", float):
        try:
            value = float(raw)
        except ValueError:
            raise SettingError(f"{name}={raw!r} is not a number") from None
        if value < 0 and not f.metadata.get("positive"):
            raise SettingError(f"{name}={raw!r} must not be negative")
    elif kind.startswith("Tuple"):
        return tuple(p.strip() for p in raw.replace(",", " ").split() if p.strip())
    else:
        if f.metadata.get("valid"):
            try:
                f.metadata["valid"](raw)
            except ValueError as e:
                raise SettingError(f"{name}={raw!r}: {e}") from None
        return raw
    if f.metadata.get("positive") and value <= 0:
        raise SettingError(f"{name}={raw!r} must be a positive number")
    return value


def fields() -> Tuple["dataclasses.Field[Any]", ...]:
    return dataclasses.fields(Settings)


# The variables a derived setting is computed from (Settings.from_env), besides its own.
DERIVED_FROM = {
    "action_endpoint_url": ("ACTIONS_HOST", "ACTIONS_PORT"),
    "tracker_db_url": ("VAR_DIR",),
    "staff_trusted_proxies": ("TRUSTED_PROXIES",),
}
_current: Tuple[Tuple[Optional[str], ...], Optional[Settings]] = ((), None)
_values: Dict[str, Tuple[Tuple[Optional[str], ...], Any]] = {}


def current() -> Settings:
    """The settings of os.environ as it is now, read leniently (inside a server whose entry
    point has read them strictly): read again only when one of their variables has changed."""
    global _current
    key = tuple(os.environ.get(f.metadata["env"]) for f in fields())
    seen, settings = _current
    if settings is None or seen != key:
        settings = Settings.from_env(check=False, lenient=True)
        _current = (key, settings)
    return settings


def current_value(name: str) -> Any:
    """One setting (by field name) of os.environ as it is now, like ``current()`` but reading
    only its own variables: for code called per row or per turn."""
    f = Settings.__dataclass_fields__[name]
    names = (f.metadata["env"], *DERIVED_FROM.get(name, ()))
    key = tuple(os.environ.get(n) for n in names)
    cached = _values.get(name)
    if cached is None or cached[0] != key:
        env = {n: v for n, v in zip(names, key) if v is not None}
        cached = _values[name] = (key, getattr(Settings.from_env(env, check=False, lenient=True), name))
    return cached[1]


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingError as e:
        print(f"settings: {e}", file=sys.stderr)
        return 1
    for f in fields():
        value = getattr(settings, f.name)
        if any(s in f.name for s in SECRET) and value:
            value = "****"
        print(f"{f.metadata['env']}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
