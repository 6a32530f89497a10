"""What the console reads: filtered lists of conversations and turns, one conversation, the
unanswered questions grouped by similar text, the dashboard, tickets, and the exports (CSV of
any list, NLU training examples in ``nlu_data``'s YAML format).

Every filter value reaches the database as a bound parameter; free text is matched with LIKE
with its wildcards escaped. Only the console's own tables are read (`bot.staff.db`).
"""
from __future__ import annotations

import csv
import io
import json
import re
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import sqlalchemy as sa

from bot.settings import current_value
from bot.staff import db
from bot.staff.turns import timezone

MAX_PER_PAGE = 200
# A filtered list looks for its page first among the newest conversations, this many times the
# conversations up to the page's end (at most LIST_WINDOW_MAX), then among all of them.
LIST_WINDOW_FACTOR = 20
LIST_WINDOW_MAX = 20_000
DEFAULT_PER_PAGE = 50
EXPORT_LIMIT = 50_000
UNANSWERED_SCAN = 3000
SMALL_TALK = {"greet", "goodbye", "thank", "bot_challenge", "affirm", "deny", "request_human"}


def low_confidence() -> float:
    return current_value("staff_low_confidence")


class BadFilter(ValueError):
    """A filter value that cannot be used; the message names it."""


@dataclass
class Filters:
    since: Optional[float] = None
    until: Optional[float] = None
    channel: Optional[str] = None
    rating: Optional[str] = None  # up | down | any
    verdict: Optional[str] = None
    flags: List[str] = field(default_factory=list)  # oos | fallback | rephrase | low | unanswered | handoff
    clause: Optional[str] = None
    q: Optional[str] = None
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def turn_level(self) -> bool:
        return any([self.since, self.until, self.channel, self.rating, self.verdict, self.flags,
                    self.clause, self.q])


def _day_start(value: str, name: str) -> float:
    try:
        d = date.fromisoformat(value.strip())
    except ValueError:
        raise BadFilter(f"{name} must be a date YYYY-MM-DD, got {value!r}")
    return datetime(d.year, d.month, d.day, tzinfo=timezone()).timestamp()


def _flag(args: Mapping[str, Any], name: str) -> bool:
    return str(args.get(name, "")).strip().lower() in ("1", "true", "yes", "on")


def parse_filters(args: Mapping[str, Any]) -> Filters:
    """Filters from query parameters: ``from``, ``to`` (dates), ``channel``, ``rating``
    (up/down/any), ``verdict``, ``oos``, ``fallback``, ``rephrase``, ``low``, ``unanswered``,
    ``handoff`` (1 to require), ``flag`` (one of those names), ``clause``, ``q``, ``page``,
    ``per_page``."""
    def get(name: str) -> Optional[str]:
        v = args.get(name)
        if isinstance(v, list):
            v = v[0] if v else None
        v = (v or "").strip() if isinstance(v, str) else v
        return v or None

    f = Filters()
    if get("from"):
        f.since = _day_start(get("from"), "from")
    if get("to"):
        f.until = _day_start(get("to"), "to") + 86400
    f.channel = get("channel")
    rating = get("rating")
    if rating:
        rating = {"👍": "up", "👎": "down", "1": "up", "-1": "down"}.get(rating, rating).lower()
        if rating not in ("up", "down", "any"):
            raise BadFilter("rating must be up, down or any")
        f.rating = rating
    f.verdict = get("verdict")
    for name in ("oos", "fallback", "rephrase", "low", "unanswered", "handoff"):
        if _flag(args, name):
            f.flags.append(name)
    flag = get("flag")
    if flag:
        if flag not in ("oos", "fallback", "rephrase", "low", "unanswered", "handoff"):
            raise BadFilter("flag must be oos, fallback, rephrase, low, unanswered or handoff")
        if flag not in f.flags:
            f.flags.append(flag)
    f.clause = get("clause")
    f.q = get("q")
    if f.q and len(f.q) > 200:
        raise BadFilter("q is longer than 200 characters")
    try:
        f.page = max(1, int(get("page") or 1))
        f.per_page = min(MAX_PER_PAGE, max(1, int(get("per_page") or DEFAULT_PER_PAGE)))
    except ValueError:
        raise BadFilter("page and per_page must be whole numbers")
    return f


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _unanswered_condition(t) -> Any:
    return sa.or_(t.out_of_scope == sa.true(), t.fallback == sa.true(), t.rephrase == sa.true(),
                  sa.and_(t.confidence < low_confidence(), t.intent.notin_(SMALL_TALK)))


def turn_conditions(f: Filters, senders: Optional[List[str]] = None) -> List[Any]:
    """The filters as conditions on ``staff_turns``; ``senders``, when given, also bounds the
    free-text search to those conversations' search rows."""
    t = db.turns.c
    conds: List[Any] = []
    if f.since is not None:
        conds.append(t.ts >= f.since)
    if f.until is not None:
        conds.append(t.ts < f.until)
    if f.channel:
        conds.append(t.channel == f.channel)
    if f.rating == "up":
        conds.append(t.rating == 1)
    elif f.rating == "down":
        conds.append(t.rating == -1)
    elif f.rating == "any":
        conds.append(t.rating.isnot(None))
    if f.verdict:
        conds.append(t.verdict == f.verdict)
    for flag in f.flags:
        conds.append({
            "oos": lambda: t.out_of_scope == sa.true(),
            "fallback": lambda: t.fallback == sa.true(),
            "rephrase": lambda: t.rephrase == sa.true(),
            "low": lambda: sa.and_(t.confidence < low_confidence(), t.intent.notin_(SMALL_TALK)),
            "unanswered": lambda: _unanswered_condition(t),
            "handoff": lambda: t.handoff == sa.true(),
        }[flag]())
    if f.clause:
        tc = db.turn_clauses.c
        conds.append(t.id.in_(sa.select(tc.turn_id).where(tc.clause_id == f.clause)))
    if f.q:
        # In the narrow search rows and the distinct answers (bot/staff/summary.py), not in
        # every turn's long answer.
        pattern = _like(f.q)
        s, a = db.turn_text.c, db.answers.c
        answers = sa.select(a.id).where(a.text.like(pattern, escape="\\"))
        within = [s.sender_id.in_(senders)] if senders is not None else []
        conds.append(t.id.in_(sa.select(s.turn_id).where(
            *within, sa.or_(s.user_text.like(pattern, escape="\\"), s.answer_id.in_(answers)))))
    return conds


# ------------------------------------------------------------------------------------- lists


def _conversation_json(r: Mapping[str, Any]) -> Dict[str, Any]:
    return {"id": r["sender_id"], "channel": r["channel"], "first_ts": r["first_ts"],
            "last_ts": r["last_ts"], "turns": r["turns"], "last_text": r["last_text"],
            "up": r["up"], "down": r["down"]}


def list_conversations(engine: sa.engine.Engine, f: Filters, limit: Optional[int] = None
                       ) -> Dict[str, Any]:
    c = db.conversations.c
    size = limit or f.per_page
    offset = 0 if limit else (f.page - 1) * f.per_page
    order = (c.last_ts.desc(), c.sender_id)
    conds = turn_conditions(f)
    if not conds:
        query = sa.select(db.conversations).order_by(*order).limit(size + 1).offset(offset)
        with engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return _conversation_page(rows, f.page, size)
    t = db.turns.c
    # What the conversation's own row tells: no need to look at the turns of the others.
    own = ([c.last_ts >= f.since] if f.since is not None else []) + \
        ([c.first_ts < f.until] if f.until is not None else [])
    with engine.connect() as conn:
        # 1. When many turns match, the page is among the newest conversations: their turns
        # are looked up by conversation (a few thousand index look-ups at most). The ids are
        # given as a list, not a correlated subquery, which a planner may run once per
        # conversation over another index.
        window = [r[0] for r in conn.execute(
            sa.select(c.sender_id).where(*own).order_by(*order)
            .limit(min(LIST_WINDOW_MAX, (offset + size + 1) * LIST_WINDOW_FACTOR)))]
        matched = {r[0] for r in conn.execute(
            sa.select(sa.distinct(t.sender_id)).where(t.sender_id.in_(window), *turn_conditions(f, window))
        )} if window else set()
        page = [s for s in window if s in matched][offset:offset + size + 1]
        rows = []
        if len(page) > size:
            found = {r["sender_id"]: r for r in conn.execute(
                sa.select(db.conversations).where(c.sender_id.in_(page))).mappings()}
            rows = [found[s] for s in page if s in found]
        if len(rows) <= size:
            # 2. Few match: the conversations of the matching turns, found through an index
            # or the search rows (walking every conversation and looking for a matching turn
            # in each would read all of them when few or none match).
            rows = conn.execute(
                sa.select(db.conversations)
                .where(c.sender_id.in_(sa.select(t.sender_id).where(*conds)), *own)
                .order_by(*order).limit(size + 1).offset(offset)).mappings().all()
    return _conversation_page(rows, f.page, size)


def _conversation_page(rows, page: int, size: int) -> Dict[str, Any]:
    return {"items": [_conversation_json(r) for r in rows[:size]], "page": page,
            "per_page": size, "has_more": len(rows) > size}


def _turn_json(r: Mapping[str, Any]) -> Dict[str, Any]:
    return {
        "id": r["id"], "conversation": r["sender_id"], "channel": r["channel"], "ts": r["ts"],
        "text": r["user_text"], "intent": r["intent"], "confidence": r["confidence"],
        "entities": json.loads(r["entities"] or "[]"), "answer": r["answer"],
        "clauses": json.loads(r["clauses"] or "[]"), "verdict": r["verdict"],
        "out_of_scope": bool(r["out_of_scope"]), "fallback": bool(r["fallback"]),
        "rephrase": bool(r["rephrase"]), "handoff": bool(r["handoff"]),
        "low_confidence": r["confidence"] is not None and r["confidence"] < low_confidence()
        and r["intent"] not in SMALL_TALK,
        "latency_ms": r["latency_ms"],
        "rating": None if r["rating"] is None else {
            "helpful": r["rating"] == 1, "reason": r["rating_reason"],
            "comment": r["rating_comment"], "rated_at": r["rated_at"]},
    }


def list_turns(engine: sa.engine.Engine, f: Filters, limit: Optional[int] = None) -> Dict[str, Any]:
    t = db.turns.c
    size = limit or f.per_page
    offset = 0 if limit else (f.page - 1) * f.per_page
    query = (sa.select(db.turns).where(*turn_conditions(f))
             .order_by(t.ts.desc(), t.id.desc()).limit(size + 1).offset(offset))
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return {"items": [_turn_json(r) for r in rows[:size]], "page": f.page, "per_page": size,
            "has_more": len(rows) > size}


def conversation(engine: sa.engine.Engine, sender_id: str) -> Optional[Dict[str, Any]]:
    t = db.turns.c
    with engine.connect() as conn:
        head = conn.execute(sa.select(db.conversations).where(
            db.conversations.c.sender_id == sender_id)).mappings().first()
        if head is None:
            return None
        rows = conn.execute(sa.select(db.turns).where(t.sender_id == sender_id)
                            .order_by(t.ts, t.id)).mappings().all()
        tickets = conn.execute(sa.select(db.tickets.c.id, db.tickets.c.status, db.tickets.c.created_at)
                               .where(db.tickets.c.sender_id == sender_id)
                               .order_by(db.tickets.c.created_at)).mappings().all()
    out = _conversation_json(head)
    out["turns_detail"] = [_turn_json(r) for r in rows]
    out["tickets"] = [dict(r) for r in tickets]
    return out


# ------------------------------------------------------------------------------------- unanswered

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def text_key(text: str) -> str:
    """The text as grouped: width-folded, lower case, without spaces and punctuation."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    return _NOT_WORD.sub("", folded)[:255]


def unanswered(engine: sa.engine.Engine, f: Filters, include_reviewed: bool = False,
               similarity: float = 80.0) -> Dict[str, Any]:
    """Out-of-scope, fallback, rephrase and low-confidence turns, grouped by similar text
    (rapidfuzz ratio of the folded texts), biggest groups first."""
    from rapidfuzz import fuzz, process

    t = db.turns.c
    conds = turn_conditions(f) + [_unanswered_condition(t), t.handoff == sa.false()]
    query = (sa.select(t.id, t.sender_id, t.ts, t.user_text, t.intent, t.confidence,
                       t.out_of_scope, t.fallback, t.rephrase)
             .where(*conds).order_by(t.ts.desc()).limit(UNANSWERED_SCAN))
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
        reviewed = {r.text_key for r in conn.execute(sa.select(db.reviewed.c.text_key))}
    groups: List[Dict[str, Any]] = []
    # Group keys by length: a ratio of at least `similarity` (80) is only possible between
    # texts whose lengths differ by less than a third, so only those groups are compared.
    by_length: Dict[int, Tuple[List[str], List[int]]] = {}
    known: Dict[str, int] = {}
    span = 100.0 / max(similarity, 1.0) * 2 - 1  # 80 -> lengths within 1.5x
    for r in rows:
        key = text_key(r["user_text"] or "")
        if not key:
            continue
        index = known.get(key)
        if index is None:
            best = None
            n = len(key)
            for length in range(max(1, int(n / span)), int(n * span) + 2):
                bucket = by_length.get(length)
                if not bucket:
                    continue
                match = process.extractOne(key, bucket[0], scorer=fuzz.ratio, score_cutoff=similarity)
                if match is not None and (best is None or match[1] > best[1]):
                    best = (bucket[1][match[2]], match[1])
            if best is not None:
                index = best[0]
                known[key] = index
        if index is None:
            index = known[key] = len(groups)
            bucket = by_length.setdefault(len(key), ([], []))
            bucket[0].append(key)
            bucket[1].append(index)
            groups.append({"key": key, "text": r["user_text"], "count": 0, "keys": [],
                           "conversations": [], "last_ts": r["ts"], "kinds": {},
                           "intents": {}, "examples": []})
        g = groups[index]
        g["count"] += 1
        if key not in g["keys"]:
            g["keys"].append(key)
        if r["sender_id"] not in g["conversations"] and len(g["conversations"]) < 20:
            g["conversations"].append(r["sender_id"])
        if r["user_text"] not in g["examples"] and len(g["examples"]) < 10:
            g["examples"].append(r["user_text"])
        kind = ("oos" if r["out_of_scope"] else "fallback" if r["fallback"]
                else "rephrase" if r["rephrase"] else "low")
        g["kinds"][kind] = g["kinds"].get(kind, 0) + 1
        if r["intent"]:
            g["intents"][r["intent"]] = g["intents"].get(r["intent"], 0) + 1
    out = []
    for g in groups:
        g["reviewed"] = all(k in reviewed for k in g["keys"])
        if g["reviewed"] and not include_reviewed:
            continue
        out.append(g)
    out.sort(key=lambda g: (-g["count"], -g["last_ts"]))
    start = (f.page - 1) * f.per_page
    return {"items": out[start:start + f.per_page], "page": f.page, "per_page": f.per_page,
            "has_more": len(out) > start + f.per_page, "groups": len(out), "scanned": len(rows)}


def mark_reviewed(engine: sa.engine.Engine, keys: Sequence[str], username: str) -> int:
    keys = [k for k in {text_key(k) for k in keys if isinstance(k, str)} if k]
    if not keys:
        return 0
    with engine.begin() as conn:
        known = {r.text_key for r in conn.execute(
            sa.select(db.reviewed.c.text_key).where(db.reviewed.c.text_key.in_(keys)))}
        new = [{"text_key": k, "username": username, "at": time.time()} for k in keys if k not in known]
        if new:
            conn.execute(db.reviewed.insert(), new)
    return len(new)


def nlu_yaml(examples: Iterable[Tuple[str, str]]) -> str:
    """Training examples in nlu_data's format::

        version: "3.1"

        nlu:
        - intent: out_of_scope
          examples: |
            - 社保卡丢了怎么补办
    """
    by_intent: Dict[str, List[str]] = {}
    for intent, text in examples:
        intent = (intent or "").strip()
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", intent):
            raise BadFilter(f"intent must be a snake_case name, got {intent!r}")
        line = " ".join(str(text or "").split())
        if line and line not in by_intent.setdefault(intent, []):
            by_intent[intent].append(line)
    lines = ['version: "3.1"', "", "nlu:"]
    for intent, texts in by_intent.items():
        if not texts:
            continue
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {t}" for t in texts)
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------- dashboard


def _percentile(conn, conds: List[Any], share: float) -> Optional[int]:
    t = db.turns.c
    base = [t.latency_ms.isnot(None), *conds]
    n = conn.execute(sa.select(sa.func.count()).select_from(db.turns).where(*base)).scalar() or 0
    if not n:
        return None
    offset = min(n - 1, int(n * share))
    return conn.execute(sa.select(t.latency_ms).where(*base).order_by(t.latency_ms)
                        .limit(1).offset(offset)).scalar()


def _day_bounds(f: Filters):
    """A function giving the date filters as conditions on a ``day`` column (dates are whole
    days in STAFF_TIMEZONE, as the index writes them)."""
    from bot.staff.turns import day_of

    def on(col) -> List[Any]:
        out = []
        if f.since is not None:
            out.append(col >= day_of(f.since))
        if f.until is not None:
            out.append(col <= day_of(f.until - 1))
        return out
    return on  # type: ignore[return-value]


def _from_daily(conn, f: Filters) -> Dict[str, Any]:
    """The dashboard from the daily counts (bot/staff/summary.py): a few rows per day."""
    on = _day_bounds(f)
    d, dc, dv, dk, dl = (db.daily.c, db.daily_conversations.c, db.daily_verdicts.c,
                         db.daily_clauses.c, db.daily_latency.c)

    def where(c) -> List[Any]:
        return on(c.day) + ([c.channel == f.channel] if f.channel else [])

    conversations = {r.day: r.n for r in conn.execute(
        sa.select(dc.day, sa.func.count(sa.distinct(dc.sender_id)).label("n"))
        .where(dc.n > 0, *where(dc)).group_by(dc.day))}
    per_day = [{"day": r.day, "questions": int(r.n), "conversations": conversations.get(r.day, 0),
                "answered": int(r.a or 0), "up": int(r.up or 0), "down": int(r.down or 0)}
               for r in conn.execute(
                   sa.select(d.day, sa.func.sum(d.questions).label("n"), sa.func.sum(d.answered).label("a"),
                             sa.func.sum(d.up).label("up"), sa.func.sum(d.down).label("down"))
                   .where(*where(d)).group_by(d.day).order_by(d.day)) if r.n]
    per_channel = [{"channel": r.channel or "?", "questions": int(r.n)} for r in conn.execute(
        sa.select(d.channel, sa.func.sum(d.questions).label("n")).where(*where(d))
        .group_by(d.channel).order_by(sa.desc("n"))) if r.n]
    verdicts = [{"verdict": r.verdict, "count": int(r.n)} for r in conn.execute(
        sa.select(dv.verdict, sa.func.sum(dv.n).label("n")).where(*where(dv))
        .group_by(dv.verdict).order_by(sa.desc("n"))) if r.n]
    top_clauses = [{"clause_id": r.clause_id, "count": int(r.n), "down": int(r.down or 0)}
                   for r in conn.execute(
                       sa.select(dk.clause_id, sa.func.sum(dk.n).label("n"), sa.func.sum(dk.down).label("down"))
                       .where(*where(dk)).group_by(dk.clause_id)
                       .having(sa.func.sum(dk.n) > 0).order_by(sa.desc("n"), dk.clause_id).limit(10))]
    latencies = [(r.latency_ms, int(r.n)) for r in conn.execute(
        sa.select(dl.latency_ms, sa.func.sum(dl.n).label("n")).where(*where(dl))
        .group_by(dl.latency_ms).order_by(dl.latency_ms)) if r.n]
    return {"per_day": per_day, "per_channel": per_channel, "verdicts": verdicts,
            "top_clauses": top_clauses, "p50": _histogram_percentile(latencies, 0.5),
            "p95": _histogram_percentile(latencies, 0.95)}


def _histogram_percentile(counts: List[Tuple[int, int]], share: float) -> Optional[int]:
    """The value `_percentile` finds (the one at offset int(n × share) in ascending order), from
    (value, count) pairs in ascending order."""
    n = sum(c for _, c in counts)
    if not n:
        return None
    offset = min(n - 1, int(n * share))
    seen = 0
    for value, c in counts:
        seen += c
        if seen > offset:
            return value
    return counts[-1][0]


def dashboard(engine: sa.engine.Engine, f: Filters) -> Dict[str, Any]:
    if f.since is None and f.until is None:
        today = datetime.now(timezone()).date()
        start = today - timedelta(days=29)
        f.since = datetime(start.year, start.month, start.day, tzinfo=timezone()).timestamp()
    if not any([f.rating, f.verdict, f.flags, f.clause, f.q]):
        with engine.connect() as conn:
            parts = _from_daily(conn, f)
            tickets_open = conn.execute(sa.select(sa.func.count()).select_from(db.tickets)
                                        .where(db.tickets.c.status == "open")).scalar()
        return _dashboard_json(f, parts["per_day"], parts["per_channel"], parts["verdicts"],
                               parts["top_clauses"], tickets_open, parts["p50"], parts["p95"])
    return dashboard_over_turns(engine, f)


def dashboard_over_turns(engine: sa.engine.Engine, f: Filters) -> Dict[str, Any]:
    """The dashboard counted from the turns that meet every filter."""
    t, tc = db.turns.c, db.turn_clauses.c
    conds = turn_conditions(f)
    answered = sa.case((sa.or_(t.out_of_scope == sa.true(), t.fallback == sa.true(),
                               t.rephrase == sa.true()), 0), else_=1)
    # Grouped by an expression, not the indexed column itself: otherwise SQLite walks the whole
    # `day` (or `verdict`) index in order instead of using the filter's index (rating, ts ...).
    day = sa.func.coalesce(t.day, "").label("day")
    verdict = sa.func.coalesce(t.verdict, "").label("verdict")
    with engine.connect() as conn:
        per_day = [{"day": r.day, "questions": r.n, "conversations": r.c, "answered": int(r.a or 0),
                    "up": int(r.up or 0), "down": int(r.down or 0)}
                   for r in conn.execute(
                       sa.select(day, sa.func.count().label("n"),
                                 sa.func.count(sa.distinct(t.sender_id)).label("c"),
                                 sa.func.sum(answered).label("a"),
                                 sa.func.sum(sa.case((t.rating == 1, 1), else_=0)).label("up"),
                                 sa.func.sum(sa.case((t.rating == -1, 1), else_=0)).label("down"))
                       .where(*conds).group_by(day).order_by(day))]
        per_channel = [{"channel": r.channel or "?", "questions": r.n} for r in conn.execute(
            sa.select(t.channel, sa.func.count().label("n")).where(*conds)
            .group_by(t.channel).order_by(sa.desc("n")))]
        verdicts = [{"verdict": r.verdict, "count": r.n} for r in conn.execute(
            sa.select(verdict, sa.func.count().label("n")).where(t.verdict.isnot(None), *conds)
            .group_by(verdict).order_by(sa.desc("n")))]
        clause_q = (sa.select(tc.clause_id, sa.func.count().label("n"),
                              sa.func.sum(sa.case((t.rating == -1, 1), else_=0)).label("down"))
                    .select_from(db.turn_clauses.join(db.turns, t.id == tc.turn_id))
                    .where(*conds).group_by(tc.clause_id).order_by(sa.desc("n")).limit(10))
        top_clauses = [{"clause_id": r.clause_id, "count": r.n, "down": int(r.down or 0)}
                       for r in conn.execute(clause_q)]
        tickets_open = conn.execute(sa.select(sa.func.count()).select_from(db.tickets)
                                    .where(db.tickets.c.status == "open")).scalar()
        p50 = _percentile(conn, conds, 0.5)
        p95 = _percentile(conn, conds, 0.95)
    return _dashboard_json(f, per_day, per_channel, verdicts, top_clauses, tickets_open, p50, p95)


def _dashboard_json(f: Filters, per_day, per_channel, verdicts, top_clauses, tickets_open,
                    p50, p95) -> Dict[str, Any]:
    total = sum(d["questions"] for d in per_day)
    up = sum(d["up"] for d in per_day)
    down = sum(d["down"] for d in per_day)
    return {
        "since": f.since, "until": f.until, "questions": total,
        "conversations": sum(d["conversations"] for d in per_day),
        "answered_share": round(sum(d["answered"] for d in per_day) / total, 4) if total else None,
        "ratings": {"up": up, "down": down,
                    "down_share": round(down / (up + down), 4) if up + down else None},
        "latency_ms": {"p50": p50, "p95": p95},
        "per_day": per_day, "per_channel": per_channel, "verdicts": verdicts,
        "top_clauses": top_clauses, "tickets_open": tickets_open,
    }


# ------------------------------------------------------------------------------------- tickets


def list_tickets(engine: sa.engine.Engine, status: Optional[str], f: Filters,
                 limit: Optional[int] = None) -> Dict[str, Any]:
    k = db.tickets.c
    query = sa.select(k.id, k.sender_id, k.channel, k.status, k.reason, k.message, k.contact,
                      k.created_at, k.updated_at, k.last_error)
    if status:
        query = query.where(k.status == status)
    if f.since is not None:
        query = query.where(k.created_at >= f.since)
    if f.until is not None:
        query = query.where(k.created_at < f.until)
    if f.channel:
        query = query.where(k.channel == f.channel)
    size = limit or f.per_page
    offset = 0 if limit else (f.page - 1) * f.per_page
    query = query.order_by(sa.case((k.status == "open", 0), else_=1), k.created_at.desc()) \
        .limit(size + 1).offset(offset)
    now = time.time()
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    items = [dict(r, conversation=r["sender_id"], age_s=int(now - r["created_at"])) for r in rows[:size]]
    return {"items": items, "page": f.page, "per_page": size, "has_more": len(rows) > size}


def ticket(engine: sa.engine.Engine, ticket_id: int) -> Optional[Dict[str, Any]]:
    k, m = db.tickets.c, db.ticket_messages.c
    with engine.connect() as conn:
        row = conn.execute(sa.select(db.tickets).where(k.id == ticket_id)).mappings().first()
        if row is None:
            return None
        messages = conn.execute(sa.select(db.ticket_messages).where(m.ticket_id == ticket_id)
                                .order_by(m.at, m.id)).mappings().all()
    out = dict(row)
    out["conversation"] = row["sender_id"]
    out["transcript"] = json.loads(row["transcript"] or "[]")
    out["messages"] = [dict(r) for r in messages]
    out["age_s"] = int(time.time() - row["created_at"])
    return out


# ------------------------------------------------------------------------------------- CSV

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else ""
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    # A spreadsheet must not run a cell as a formula.
    return "'" + text if text.startswith(_FORMULA_START) else text


def _time(ts: Optional[float]) -> str:
    if not ts:
        return ""
    return datetime.fromtimestamp(ts, timezone()).strftime("%Y-%m-%d %H:%M:%S")


CSV_COLUMNS = {
    "conversations": [("id", "对话"), ("channel", "渠道"), ("first_ts", "开始时间"),
                      ("last_ts", "最后时间"), ("turns", "提问数"), ("last_text", "最后一问"),
                      ("up", "👍"), ("down", "👎")],
    "turns": [("conversation", "对话"), ("channel", "渠道"), ("ts", "时间"), ("text", "提问"),
              ("intent", "意图"), ("confidence", "置信度"), ("answer", "回答"), ("clauses", "引用条款"),
              ("verdict", "资格判断"), ("out_of_scope", "超出范围"), ("fallback", "未理解"),
              ("rephrase", "请换说法"), ("latency_ms", "耗时(ms)"), ("rating", "评价"),
              ("rating_reason", "原因"), ("rating_comment", "评价内容")],
    "unanswered": [("text", "代表问题"), ("count", "次数"), ("kinds", "类型"), ("intents", "识别意图"),
                   ("examples", "例句"), ("last_ts", "最近时间"), ("reviewed", "已处理")],
    "tickets": [("id", "工单"), ("conversation", "对话"), ("channel", "渠道"), ("status", "状态"),
                ("reason", "原因"), ("message", "留言"), ("contact", "联系方式"),
                ("created_at", "创建时间"), ("updated_at", "更新时间"), ("last_error", "发送问题")],
}


def to_csv(kind: str, items: List[Dict[str, Any]]) -> str:
    columns = CSV_COLUMNS[kind]
    buf = io.StringIO()
    buf.write("\ufeff")  # Excel reads UTF-8 only with the byte-order mark
    w = csv.writer(buf)
    w.writerow([title for _, title in columns])
    for item in items:
        row = []
        for key, _ in columns:
            value = item.get(key)
            if key.endswith("_ts") or key in ("ts", "created_at", "updated_at"):
                value = _time(value)
            elif key == "rating" and isinstance(value, dict):
                item = dict(item, rating_reason=value.get("reason"), rating_comment=value.get("comment"))
                value = "👍" if value.get("helpful") else "👎"
            row.append(_cell(value))
        w.writerow(row)
    return buf.getvalue()
