"""Every change the assistant makes inside Rasa, Sanic and SQLAlchemy, one module per change.

| patch | what it changes | written for |
| --- | --- | --- |
| `action_validation` | `RemoteAction._validate_action_result`: the reply schema checked once, each reply still validated | Rasa 3.6 |
| `diet_loading` | `RasaModel.load`: trained weights restored without a one-step training run | Rasa 3.6, TensorFlow 2.12 |
| `action_connections` | `EndpointConfig.session`: kept-alive connections to the action server | Rasa 3.6 |
| `action_timeout` | `rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT`: `ACTION_CALL_TIMEOUT`, below the lock's lifetime | Rasa 3.6 |
| `tracker_store` | `Agent._create_tracker_store`, `MessageProcessor.handle_message`: no silent fail-safe store; a lost turn is told | Rasa 3.6 |
| `sqlite_wal` | a `connect` listener on every SQLAlchemy engine: SQLite in write-ahead-log mode | SQLAlchemy 1.4 |
| `sqlite_writes` | `SQLiteDialect.do_commit`/`do_rollback` and listeners: writers to one SQLite file queue for their turn instead of SQLite's sleeping retries | SQLAlchemy 1.4 |
| `http_limits` | `HttpProtocol`, `Http.init_for_request`: request framing and whole-request time | Sanic 21.12 |
| `jieba_dictionary` | `jieba.Tokenizer.initialize`: the default dictionary read once per process, each tokenizer a copy of its table | jieba 0.42 |
| `prefork` | knowledge data built before Sanic forks its workers; the workers' stop signals while they load | Sanic 21.12 |

Nothing is changed when a module is imported. The Rasa server's entry point (bot/entry.py) calls
``apply_all(settings)`` before it starts the server; ``PATCHES_OFF`` (names, comma-separated)
leaves patches out. Each module states the versions it was written for (``WRITTEN_FOR``,
package -> "major.minor") and its ``apply(settings)`` first checks them: on any other installed
version it raises `VersionMismatch` naming the module, the package and both versions, and
changes nothing. After an upgrade, read the patched code of the new version, adapt the module,
then its ``WRITTEN_FOR``; tests/test_patches.py runs each check.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import logging
import threading
from typing import Any, List, Mapping

logger = logging.getLogger(__name__)

NAMES = ("action_validation", "diet_loading", "action_connections", "action_timeout",
         "tracker_store", "sqlite_wal", "sqlite_writes", "http_limits", "jieba_dictionary", "prefork")

_lock = threading.RLock()
_applied: List[str] = []


class VersionMismatch(RuntimeError):
    """A patch meets a version of the package it changes that it was not written for."""


def installed_version(package: str) -> str:
    return importlib.metadata.version(package)


def require(module: str, written_for: Mapping[str, str]) -> None:
    """Raises `VersionMismatch` unless every package is of the series the patch was written for."""
    for package, series in written_for.items():
        version = installed_version(package)
        if version != series and not version.startswith(series + "."):
            raise VersionMismatch(
                f"{module} was written for {package} {series}.x, but {package} {version} is "
                f"installed: check the code it changes in {package} {version}, adapt the patch and "
                f"its WRITTEN_FOR, or leave it out with PATCHES_OFF={module.rsplit('.', 1)[-1]}")


def module(name: str) -> Any:
    if name not in NAMES:
        raise KeyError(f"no patch named {name!r} (the patches: {', '.join(NAMES)})")
    return importlib.import_module(f"{__name__}.{name}")


def apply(name: str, settings: Any) -> bool:
    """Applies one patch in this process, once; False when it was already applied."""
    with _lock:
        if name in _applied:
            return False
        module(name).apply(settings)
        _applied.append(name)
        return True


def apply_all(settings: Any) -> List[str]:
    """Every patch not named in ``settings.patches_off``, in the order of `NAMES`."""
    done = []
    for name in NAMES:
        if name in settings.patches_off:
            logger.info("patch %s left out (PATCHES_OFF)", name)
            continue
        apply(name, settings)
        done.append(name)
    return done


def applied() -> List[str]:
    with _lock:
        return list(_applied)
