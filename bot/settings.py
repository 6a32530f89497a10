"""Every setting of the assistant's servers, typed, with its default written once.

    from bot.settings import Settings
    settings = Settings.from_env()          # os.environ, or any mapping: Settings.from_env(env)
    settings.rasa_port, settings.rasa_enable_api, settings.child_env()

Each field names the environment variable it is read from (``metadata["env"]``). An unset or
empty variable takes the field's default; a value that is not of the field's kind (a port that is
not a whole number, ``RASA_ENABLE_API=maybe``) is an error that names the variable, raised when the
settings are read (at start, by the entry point and by ``scripts/preflight.py``), not later.
Yes/no settings take ``1/true/yes/on`` and ``0/false/no/off``, the same under ``make run``, the
launcher of the tests, evaluation and benchmark, and systemd.

Readers: the entry point of the Rasa server (``bot/entry.py``) and the patches it applies, the
supervisor, the launcher, the staff shell and the channels. ``scripts/env.sh`` sets only what
the shell scripts themselves use (``tests/test_settings.py`` checks its defaults against these);
docs/zh/deploy.md §6 and the README's table are checked against them too.

    python -m bot.settings            # every setting with its value (secrets masked)
"""
from __future__ import annotations

import dataclasses
import logging
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

logger = logging.getLogger(__name__)

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")
# Masked by `python -m bot.settings`.
SECRET = ("password", "secret", "token", "aes_key")


class SettingError(ValueError):
    """A setting's value cannot be read; the message names the variable."""


def _setting(env: str, default: Any, doc: str) -> Any:
    return field(default=default, metadata={"env": env, "doc": doc})


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
    conversation_retention_days: int = _setting("CONVERSATION_RETENTION_DAYS", 180,
                                                "days an idle conversation is kept")
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
            return int(raw)
        except ValueError:
            raise SettingError(f"{name}={raw!r} is not a whole number") from None
    if kind in ("float", float):
        try:
            value = float(raw)
        except ValueError:
            raise SettingError(f"{name}={raw!r} is not a number") from None
        if value < 0:
            raise SettingError(f"{name}={raw!r} must not be negative")
        return value
    if kind.startswith("Tuple"):
        return tuple(p.strip() for p in raw.replace(",", " ").split() if p.strip())
    return raw


def fields() -> Tuple["dataclasses.Field[Any]", ...]:
    return dataclasses.fields(Settings)


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
