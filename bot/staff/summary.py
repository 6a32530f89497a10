"""What the index keeps beside each turn so that the console answers quickly on a large database:

- **search rows** (``staff_turn_text``, ``staff_answers``): the person's text and a reference to
  the answer, each distinct answer text stored once. A free-text filter scans these narrow rows
  and the distinct answers instead of every turn's long answer.
- **daily counts** (``staff_daily*``): per day and channel the questions, answered ones, 👍 and
  👎, the conversations, verdicts, cited clauses (with their 👎) and latencies (a count per
  millisecond value, so percentiles are exact). The dashboard adds up these rows when it is
  filtered by dates and channel only.

The index (`bot.staff.turns`) changes them in the same transaction as the turn itself: a turn's
contribution before the change is taken away and its contribution after added, as increments
(``INSERT … ON CONFLICT DO UPDATE SET n = n + …``), in a fixed order of keys, so several
servers writing at once never overwrite each other's counts or wait on each other in a cycle.
`rebuild` recomputes them from the turns (a database indexed before these tables existed, the
bench, and the purge for the days it deleted from).

    python -m bot.staff.summary        # recompute everything from the index (TRACKER_DB_URL)
"""
from __future__ import annotations

import hashlib
import json
import logging
import sys
from collections import defaultdict
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import sqlalchemy as sa

from bot.staff import db

logger = logging.getLogger(__name__)

Key = Tuple[str, Tuple[Any, ...]]  # (table name, primary key values)
Deltas = Dict[Key, Dict[str, int]]
BATCH = 5000


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _channel(row: Mapping[str, Any]) -> str:
    return (row.get("channel") or "")[:32]


def contribution(row: Mapping[str, Any], clauses: Iterable[str], sign: int, into: Deltas) -> None:
    """Adds ``sign`` × what one turn counts for to ``into``."""
    day, channel = row["day"], _channel(row)
    rating = row.get("rating")
    answered = not (row.get("out_of_scope") or row.get("fallback") or row.get("rephrase"))

    def add(table: sa.Table, key: Tuple[Any, ...], **values: int) -> None:
        slot = into.setdefault((table.name, key), {})
        for col, v in values.items():
            slot[col] = slot.get(col, 0) + sign * v

    add(db.daily, (day, channel), questions=1, answered=int(answered), up=int(rating == 1),
        down=int(rating == -1))
    add(db.daily_conversations, (day, channel, row["sender_id"]), n=1)
    if row.get("verdict"):
        add(db.daily_verdicts, (day, channel, row["verdict"]), n=1)
    for cid in dict.fromkeys(str(c)[:64] for c in clauses):
        add(db.daily_clauses, (day, channel, cid), n=1, down=int(rating == -1))
    if row.get("latency_ms") is not None:
        add(db.daily_latency, (day, channel, int(row["latency_ms"])), n=1)


_TABLES = {t.name: t for t in db.SUMMARY_TABLES}


_STATEMENTS: Dict[Tuple[str, str, Tuple[str, ...], Tuple[str, ...]], Any] = {}


def _insert_on_conflict(conn, table: sa.Table, cols: Sequence[str], target: Sequence[str],
                        add: Sequence[str]):
    """``INSERT INTO table (cols) VALUES (:col, …) ON CONFLICT (target) DO UPDATE SET c = table.c +
    excluded.c`` for each column of ``add`` (``DO NOTHING`` when ``add`` is empty), or None for a
    database other than PostgreSQL and SQLite, whose syntax for this is the same.

    The statement is text with bound parameters, made once per database kind, table and columns:
    SQLAlchemy 1.4 has no cache key for its dialects' ``insert().on_conflict_do_update()`` and
    compiles it anew at every execution, and these run for every stored turn, whereas a text
    statement is compiled once and then found in the engine's statement cache."""
    dialect = conn.dialect
    if dialect.name not in ("postgresql", "sqlite"):
        return None
    key = (dialect.name, table.name, tuple(cols), tuple(add))
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        q = dialect.identifier_preparer
        name = q.format_table(table)
        sql = (f"INSERT INTO {name} ({', '.join(q.quote(c) for c in cols)}) "
               f"VALUES ({', '.join(':' + c for c in cols)}) "
               f"ON CONFLICT ({', '.join(q.quote(c) for c in target)}) ")
        if add:
            sql += "DO UPDATE SET " + ", ".join(
                f"{q.quote(c)} = ({name}.{q.quote(c)} + excluded.{q.quote(c)})" for c in add)
        else:
            sql += "DO NOTHING"
        stmt = _STATEMENTS[key] = sa.text(sql).bindparams(
            *(sa.bindparam(c, type_=table.c[c].type) for c in cols))
    return stmt


def apply(conn, deltas: Deltas) -> None:
    """Adds the deltas to the daily tables (keys in sorted order: no lock cycles between writers)."""
    batches: Dict[Any, List[Dict[str, Any]]] = {}  # one upsert, many rows: (statement) -> parameters
    emptied = []
    for (name, key), values in sorted(deltas.items(), key=lambda kv: (kv[0][0], tuple(map(str, kv[0][1])))):
        if not any(values.values()):
            continue
        table = _TABLES[name]
        pk = [c.name for c in table.primary_key.columns]
        upsert = _insert_on_conflict(conn, table, [*pk, *values], pk, list(values))
        if upsert is not None:
            batches.setdefault(upsert, []).append({**dict(zip(pk, key)), **values})
        elif not conn.execute(table.update().where(*[table.c[c] == v for c, v in zip(pk, key)]).values(
                **{c: table.c[c] + v for c, v in values.items()})).rowcount:
            conn.execute(table.insert().values(**dict(zip(pk, key)), **values))
        count = "questions" if table is db.daily else "n"
        if values.get(count, 0) < 0:  # a turn moved away from this key: drop it when empty
            emptied.append((table, [table.c[c] == v for c, v in zip(pk, key)], count))
    for upsert, rows in batches.items():  # (in key order within each table: no lock cycles)
        conn.execute(upsert, rows)
    for table, where, count in emptied:
        conn.execute(table.delete().where(*where, table.c[count] <= 0))


def answer_id(conn, text: Optional[str]) -> Optional[int]:
    """The id of this answer text in ``staff_answers`` (added when new)."""
    if not text:
        return None
    d = digest(text)
    a = db.answers.c
    found = conn.execute(sa.select(a.id).where(a.digest == d)).scalar()
    if found is not None:
        return found
    insert = _insert_on_conflict(conn, db.answers, ["digest", "text"], ["digest"], [])
    if insert is not None:
        conn.execute(insert, {"digest": d, "text": text})
    else:
        conn.execute(db.answers.insert().values(digest=d, text=text))
    return conn.execute(sa.select(a.id).where(a.digest == d)).scalar()


def search_row(conn, turn_id: int, sender: str, user_text: Optional[str], answer: Optional[str],
               new: bool) -> None:
    values = {"sender_id": sender, "user_text": user_text, "answer_id": answer_id(conn, answer)}
    if new or not conn.execute(_UPDATE_TEXT, dict(values, of_turn=turn_id)).rowcount:
        conn.execute(_INSERT_TEXT, dict(values, turn_id=turn_id))


# (built once, given their values as parameters)
_INSERT_TEXT = db.turn_text.insert()
_UPDATE_TEXT = db.turn_text.update().where(db.turn_text.c.turn_id == sa.bindparam("of_turn")).values(
    sender_id=sa.bindparam("sender_id"), user_text=sa.bindparam("user_text"), answer_id=sa.bindparam("answer_id"))


# ------------------------------------------------------------------------------------- rebuild


def rebuild_search(engine: sa.engine.Engine) -> int:
    """Search rows for every turn that has none (all of them in a new table)."""
    t, s = db.turns.c, db.turn_text.c
    done = 0
    last = 0
    known: Dict[str, int] = {}
    while True:
        with engine.begin() as conn:
            rows = conn.execute(
                sa.select(t.id, t.sender_id, t.user_text, t.answer)
                .where(t.id > last, ~sa.exists().where(s.turn_id == t.id))
                .order_by(t.id).limit(BATCH)).all()
            if not rows:
                return done
            out = []
            for r in rows:
                aid = None
                if r.answer:
                    d = digest(r.answer)
                    aid = known.get(d)
                    if aid is None:
                        aid = known[d] = answer_id(conn, r.answer)
                out.append({"turn_id": r.id, "sender_id": r.sender_id, "user_text": r.user_text,
                            "answer_id": aid})
            conn.execute(db.turn_text.insert(), out)
            done += len(out)
            last = rows[-1].id


def rebuild_daily(engine: sa.engine.Engine, days: Optional[Sequence[str]] = None) -> None:
    """Recomputes the daily tables from the turns, for the given days (all when None), in one
    transaction."""
    t, tc = db.turns.c, db.turn_clauses.c
    ch = sa.func.coalesce(sa.func.substr(t.channel, 1, 32), "")
    down = sa.func.sum(sa.case((t.rating == -1, 1), else_=0))

    def in_days(col):
        return [] if days is None else [col.in_(list(days))]

    answered = sa.case((sa.or_(t.out_of_scope == sa.true(), t.fallback == sa.true(),
                               t.rephrase == sa.true()), 0), else_=1)
    selects = [
        (db.daily, ["day", "channel", "questions", "answered", "up", "down"],
         sa.select(t.day, ch, sa.func.count(), sa.func.sum(answered),
                   sa.func.sum(sa.case((t.rating == 1, 1), else_=0)), down)
         .where(*in_days(t.day)).group_by(t.day, ch)),
        (db.daily_conversations, ["day", "channel", "sender_id", "n"],
         sa.select(t.day, ch, t.sender_id, sa.func.count()).where(*in_days(t.day))
         .group_by(t.day, ch, t.sender_id)),
        (db.daily_verdicts, ["day", "channel", "verdict", "n"],
         sa.select(t.day, ch, t.verdict, sa.func.count()).where(t.verdict.isnot(None), *in_days(t.day))
         .group_by(t.day, ch, t.verdict)),
        (db.daily_clauses, ["day", "channel", "clause_id", "n", "down"],
         sa.select(t.day, ch, tc.clause_id, sa.func.count(sa.distinct(t.id)), down)
         .select_from(db.turn_clauses.join(db.turns, t.id == tc.turn_id))
         .where(*in_days(t.day)).group_by(t.day, ch, tc.clause_id)),
        (db.daily_latency, ["day", "channel", "latency_ms", "n"],
         sa.select(t.day, ch, t.latency_ms, sa.func.count()).where(t.latency_ms.isnot(None), *in_days(t.day))
         .group_by(t.day, ch, t.latency_ms)),
    ]
    with engine.begin() as conn:
        for table, cols, select in selects:
            conn.execute(table.delete().where(*in_days(table.c.day)))
            conn.execute(table.insert().from_select(cols, select))


def rebuild(engine: sa.engine.Engine, days: Optional[Sequence[str]] = None) -> None:
    rebuild_search(engine)
    rebuild_daily(engine, days)


def main(argv: Optional[List[str]] = None) -> int:
    engine = db.engine_for(argv[0] if argv else None)
    db.ensure_schema(engine)
    rebuild(engine)
    with engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(db.daily)).scalar()
    print(f"staff console: search rows and {n} day-and-channel rows recomputed from the index")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
