"""SQLite in write-ahead-log mode.

Each turn commits to the SQLite tracker store and, in SQLite's default rollback-journal mode,
waits for the disk while the event loop is blocked. Write-ahead logging with
``synchronous=NORMAL`` keeps every committed turn across a crash of the process (only an
operating-system crash or power loss may lose the last turns) and commits far faster.
PostgreSQL, the production store, is not affected.

Adds a ``connect`` listener to ``sqlalchemy.engine.Engine`` (every engine; SQLAlchemy 1.4).
"""
from __future__ import annotations

from typing import Any

from bot import patches

WRITTEN_FOR = {"sqlalchemy": "1.4"}


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def apply(settings: Any = None) -> None:
    patches.require(__name__, WRITTEN_FOR)
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "connect", _pragmas)


def applied() -> bool:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    return event.contains(Engine, "connect", _pragmas)
