"""`make bench`, staff console part: the console's reads on a database of 100,000 conversations.

Fills a tracker database in a temporary directory (SQLite, then a throw-away PostgreSQL started
from the Debian binaries as the scale tests start it, tests/scale/services.py, when they are
installed) with stored
conversations, written as the assistant writes them: Rasa's ``events`` rows (session start,
each turn's user message with its NLU reading, the action, the answer with its payload, the
listen; ratings as ``feedback`` slots) and the console's own index rows, built from those same
events by the code the tracker store runs (`bot.staff.turns`). Several turns per conversation,
the widget, WeChat and REST, questions from the evaluation set with the clauses, verdicts and
out-of-scope answers they get, low-confidence and not-understood turns, ratings with reasons,
hand-off tickets, over the last 180 days.

Then it times what the console's API answers (the query and the JSON it returns, as the server
builds it): the filtered conversation list (several filters, free text and ``rating=down``
among them), one conversation, the unanswered groups and the dashboard, each run several times,
while a writer saves a new turn through the real tracker store every 100 ms, whose save times
show whether the reads hold up the conversations.

    python -m bench.staff [--conversations N] [--runs R] [--no-postgres] [--keep DIR] [--no-save]

Results: bench/results/staff-latest.json and bench/results/staff-latest.md (replaced by each run).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import sqlalchemy as sa
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"
TARGET_MS = 300.0
DAYS = 180
CHANNELS = (("widget", 0.55), ("wechat", 0.35), ("rest", 0.10))
TURNS_PER_CONVERSATION = ((1, 0.28), (2, 0.24), (3, 0.18), (4, 0.12), (5, 0.08), (6, 0.05), (8, 0.03),
                          (12, 0.02))
RATED_SHARE, DOWN_SHARE = 0.14, 0.3
LOW_CONFIDENCE_SHARE, FALLBACK_SHARE = 0.07, 0.02
TICKET_SHARE = 0.004
REASONS = ("回答错误", "没回答我的问题", "太长看不懂", "其他")
INTENTS = {"content": "ask_clause", "county": "ask_county", "eligibility": "ask_eligibility",
           "applicable": "ask_applicable", "units": "ask_units", "meta": "ask_document",
           "term": "ask_term", "oos": "out_of_scope", "smalltalk": "greet", "robust": "ask_clause",
           "multiturn": "ask_clause"}
OOS_ANSWER = ("抱歉，这个问题不在《关于进一步加强山区26县人力社保支撑促进跨越式高质量发展的若干意见》"
              "的范围内。您可以拨打12333人力资源和社会保障服务热线，或咨询当地人力资源和社会保障局，"
              "也可以在“浙里办”App查询办理。")
REPHRASE_ANSWER = "抱歉，我没有完全理解您的问题。您可以换个说法，比如问“博士后出站补助有哪些条件”。"
VERDICTS = ("eligible", "not_eligible", "need_info")
# People put the same question in many ways; the answer names their place and facts.
PREFIXES = ("", "", "", "请问", "你好，", "您好，请问", "想问一下，", "咨询一下，", "我想了解", "麻烦问下")
SUFFIXES = ("", "", "", "？", "吗", "呢？", "，谢谢", "。", "啊", "?")
DEGREES = ("博士", "硕士", "本科", "大专", "高级技师", "技师")


def log(msg: str) -> None:
    print(msg, flush=True)


def pick(rng: random.Random, weighted) -> Any:
    r, acc = rng.random(), 0.0
    for value, w in weighted:
        acc += w
        if r < acc:
            return value
    return weighted[-1][0]


# ---------------------------------------------------------------------------------------------
# What people ask, and what the assistant answers


def question_pool() -> List[Dict[str, Any]]:
    """The evaluation set's questions with the intent, clauses and flags their answers carry; the
    answers quote the clause as the assistant does (its location and text from policy_kb)."""
    from policy_kb import get_kb

    kb = get_kb()
    places = [p.name for p in kb.all_places()]
    cases = yaml.safe_load((ROOT / "eval" / "questions.yml").read_text("utf-8"))
    pool = []
    for case in cases:
        expect = case.get("expect") or {}
        clauses = list(expect.get("clauses_all") or expect.get("clauses_any") or [])[:2]
        quoted = []
        for cid in clauses:
            try:
                c = kb.clause(cid)
            except Exception:
                continue
            quoted.append(f"【原文】{c.location}\n“{c.text}”")
        for text in case.get("turns") or []:
            pool.append({"text": text, "cat": case.get("cat"), "intent": INTENTS.get(case.get("cat"), "ask_clause"),
                         "clauses": clauses, "oos": bool(expect.get("oos")) or case.get("cat") == "oos",
                         "verdict": expect.get("verdict"), "county": expect.get("county"),
                         "answer": "\n".join(quoted)})
    return pool, places


def conversation_events(rng: random.Random, pool: List[Dict[str, Any]], sender: str, channel: str,
                        start: float) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """Rasa's event dicts of one conversation, as the tracker store saves them, and the ratings
    given (as the widget sends them: a ``feedback`` slot after the answer)."""
    n = pick(rng, TURNS_PER_CONVERSATION)
    ts = start
    events: List[Dict[str, Any]] = [
        {"event": "action", "name": "action_session_start", "timestamp": ts, "policy": None, "confidence": 1.0},
        {"event": "session_started", "timestamp": ts},
        {"event": "action", "name": "action_listen", "timestamp": ts, "policy": None, "confidence": None},
    ]
    for _ in range(n):
        ts += rng.uniform(5, 90)
        q = rng.choice(pool[0])
        text = rng.choice(PREFIXES) + q["text"] + rng.choice(SUFFIXES)
        place = rng.choice(pool[1])
        intent, confidence = q["intent"], rng.uniform(0.75, 0.999)
        fallback = rng.random() < FALLBACK_SHARE
        low = not fallback and rng.random() < LOW_CONFIDENCE_SHARE
        if fallback:
            intent, confidence = "nlu_fallback", rng.uniform(0.2, 0.45)
        elif low:
            confidence = rng.uniform(0.3, 0.59)
        entities = []
        if q.get("county"):
            entities.append({"entity": "place", "value": q["county"], "extractor": "KBEntityExtractor",
                             "start": 0, "end": len(q["county"])})
        events.append({"event": "user", "timestamp": ts, "text": text, "input_channel": channel,
                       "message_id": f"{rng.getrandbits(64):016x}", "metadata": {},
                       "parse_data": {"intent": {"name": intent, "confidence": round(confidence, 4)},
                                      "entities": entities, "text": text}})
        events.append({"event": "user_featurization", "timestamp": ts + 0.01, "use_text_for_featurization": False})
        latency = rng.lognormvariate(-3.5, 0.5)  # about 30 ms, a long tail
        events.append({"event": "action", "name": "action_default_fallback" if fallback else "action_answer",
                       "timestamp": ts + latency * 0.4, "policy": "RulePolicy", "confidence": 1.0})
        custom: Dict[str, Any] = {}
        if fallback:
            answer = REPHRASE_ANSWER
        elif q["oos"]:
            answer, custom = OOS_ANSWER, {"out_of_scope": True}
        else:
            answer = q["answer"] or "您好，请问有什么可以帮您？"
            custom["citations"] = [{"clause_id": c} for c in q["clauses"]]
            if q["cat"] == "county":
                answer = f"{place}{rng.choice(['属于', '不属于'])}山区26县。\n" + answer
            if q["cat"] in ("eligibility", "applicable"):
                answer = (f"根据您说的情况（{rng.randint(22, 45)}岁，{rng.choice(DEGREES)}，去{place}工作）：\n"
                          + answer)
            if q["cat"] == "eligibility" or q.get("verdict"):
                custom["eligibility"] = {"verdict": q.get("verdict") or rng.choice(VERDICTS),
                                         "clause_id": (q["clauses"] or [None])[0]}
            if q.get("county"):
                custom["county"] = {"name": q["county"]}
        bot_ts = ts + latency
        events.append({"event": "bot", "timestamp": bot_ts, "text": answer, "metadata": {},
                       "data": {"custom": custom, "buttons": None, "elements": None, "quick_replies": None,
                                "image": None, "attachment": None}})
        events.append({"event": "action", "name": "action_listen", "timestamp": bot_ts + 0.001,
                       "policy": "RulePolicy", "confidence": 1.0})
        if channel == "widget" and rng.random() < RATED_SHARE:
            down = rng.random() < DOWN_SHARE
            rating = {"helpful": not down, "bot_timestamp": bot_ts, "rated_at": bot_ts + 20,
                      "reason": rng.choice(REASONS) if down else None,
                      "comment": rng.choice([None, None, "没说清楚要什么材料", "和我的情况不一样"]) if down else None}
            events.append({"event": "slot", "timestamp": bot_ts + 20, "name": "feedback", "value": rating})
        ts = bot_ts
    return events, []


# ---------------------------------------------------------------------------------------------
# Filling the database


def index_rows(sender: str, events: List[Dict[str, Any]]):
    """The console's index rows for one whole conversation, by the tracker store's own code."""
    from bot.staff import turns as T

    done: List[Any] = []
    current = None
    ratings = []
    for e in events:
        kind = e.get("event")
        if kind == "user":
            if current is not None:
                done.append(current)
            current = T._Turn(T.user_row(sender, e))
        elif kind == "bot" and current is not None:
            current.add_bot(e)
        elif kind == "action" and e.get("name") in T.FALLBACK_ACTIONS and current is not None:
            current.row["fallback"] = True
        elif kind == "slot" and e.get("name") == T.FEEDBACK_SLOT:
            ratings.append(e["value"])
    if current is not None:
        done.append(current)
    rows = [t.finish() for t in done]
    for value in ratings:
        row = max((r for r in rows if r["ts"] <= value["bot_timestamp"] + 1e-6), key=lambda r: r["ts"])
        row.update(rating=1 if value["helpful"] else -1, rating_reason=value.get("reason"),
                   rating_comment=value.get("comment"), rated_at=value.get("rated_at"))
    return rows


class Filler:
    """Writes generated conversations in batches: events, then the index, as a store would."""

    def __init__(self, url: str, seed: int = 20211) -> None:
        from bot.staff import db

        self.url = url
        self.engine = sa.create_engine(url)
        self.events = self._events_table()
        db.ensure_schema(self.engine)
        self.rng = random.Random(seed)
        self.pool = question_pool()
        self.next_turn_id = 1
        self.counts = {"conversations": 0, "turns": 0, "events": 0, "ratings": 0, "down": 0, "tickets": 0}

    def _events_table(self) -> sa.Table:
        # The events table exactly as Rasa's SQL tracker store creates it.
        from rasa.core.tracker_store import SQLTrackerStore

        table = SQLTrackerStore.SQLEvent.__table__
        table.metadata.create_all(self.engine, tables=[table], checkfirst=True)
        return table

    def fill(self, n: int, now: float, batch: int = 2000) -> None:
        from bot.staff import db
        from bot.staff.handoff import TRANSCRIPT_TURNS

        for first in range(0, n, batch):
            ev_rows, turn_rows, clause_rows, conv_rows, tickets = [], [], [], [], []
            for i in range(first, min(n, first + batch)):
                channel = pick(self.rng, CHANNELS)
                sender = f"{channel}:{self.rng.getrandbits(64):016x}"
                # More recent days are busier (a service that grows), within office-ish hours.
                age_days = DAYS * (1 - self.rng.random() ** 0.8)
                start = now - age_days * 86400 - self.rng.uniform(0, 3600)
                events, _ = conversation_events(self.rng, self.pool, sender, channel, start)
                for e in events:
                    ev_rows.append({"sender_id": sender, "type_name": e["event"], "timestamp": e["timestamp"],
                                    "intent_name": (e.get("parse_data") or {}).get("intent", {}).get("name"),
                                    "action_name": e.get("name"), "data": json.dumps(e)})
                rows = index_rows(sender, events)
                for row in rows:
                    row["id"] = self.next_turn_id
                    self.next_turn_id += 1
                    for cid in json.loads(row["clauses"]):
                        clause_rows.append({"turn_id": row["id"], "clause_id": cid, "ts": row["ts"]})
                    if row.get("rating"):
                        self.counts["ratings"] += 1
                        self.counts["down"] += row["rating"] == -1
                turn_rows.extend(rows)
                conv_rows.append({"sender_id": sender, "channel": channel, "first_ts": rows[0]["ts"],
                                  "last_ts": max(r.get("bot_last_ts") or r["ts"] for r in rows),
                                  "turns": len(rows), "last_text": rows[-1]["user_text"],
                                  "up": sum(r.get("rating") == 1 for r in rows),
                                  "down": sum(r.get("rating") == -1 for r in rows)})
                if self.rng.random() < TICKET_SHARE:
                    t = rows[-1]["ts"] + 30
                    tickets.append({"sender_id": sender, "channel": channel, "reply_to": sender.split(":", 1)[1],
                                    "status": self.rng.choice(["open", "answered", "closed"]), "reason": "asked",
                                    "message": "请问补贴什么时候发放？", "contact": None,
                                    "transcript": json.dumps([{"ts": r["ts"], "user_text": r["user_text"]}
                                                              for r in rows[-TRANSCRIPT_TURNS:]], ensure_ascii=False),
                                    "created_at": t, "updated_at": t})
            # Rows without a value for a column get its default, as the index writes them.
            for row in turn_rows:
                for k in ("rating", "rating_reason", "rating_comment", "rated_at"):
                    row.setdefault(k, None)
            with self.engine.begin() as conn:
                conn.execute(self.events.insert(), ev_rows)
                conn.execute(db.turns.insert(), turn_rows)
                if clause_rows:
                    conn.execute(db.turn_clauses.insert(), clause_rows)
                conn.execute(db.conversations.insert(), conv_rows)
                if tickets:
                    conn.execute(db.tickets.insert(), tickets)
            self.counts["conversations"] += len(conv_rows)
            self.counts["turns"] += len(turn_rows)
            self.counts["events"] += len(ev_rows)
            self.counts["tickets"] += len(tickets)
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as conn:  # explicit ids above: move the sequence past them
                conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('staff_turns', 'id'), "
                                     "(SELECT max(id) FROM staff_turns))"))
        self.summarize()

    def summarize(self) -> None:
        """Fills the console's summary tables from the index, as the index does turn by turn."""
        try:
            from bot.staff import summary
        except ImportError:
            summary = None
        if summary is not None:
            summary.rebuild(self.engine)
        with self.engine.begin() as conn:  # statistics, as autovacuum (PostgreSQL) keeps them
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("ANALYZE"))


# ---------------------------------------------------------------------------------------------
# A writer beside the readers


class Writer(threading.Thread):
    """Saves a new turn of a conversation through the real tracker store every ``every`` seconds
    (the store's save writes the events, then the console's index) and keeps each save's time."""

    def __init__(self, url: str, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.url, self.every = url, every
        self.times: List[float] = []
        self.errors: List[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        from rasa.shared.core.domain import Domain
        from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker

        from bot.stores import SQLTrackerStore

        domain = Domain.load(str(ROOT / "bot" / "domain"))
        u = sa.engine.make_url(self.url)
        if u.get_backend_name() == "sqlite":
            store = SQLTrackerStore(domain=domain, dialect="sqlite", db=u.database)
        else:
            store = SQLTrackerStore(domain=domain, dialect="postgresql", host=u.host, port=u.port,
                                    db=u.database, username=u.username, password=u.password)
        loop = asyncio.new_event_loop()
        i = 0
        while not self.stop.is_set():
            i += 1
            sender = f"widget:bench-writer-{i % 50}"
            t0 = time.perf_counter()
            try:
                tracker = loop.run_until_complete(store.retrieve(sender)) or \
                    DialogueStateTracker.from_events(sender, [ActionExecuted("action_listen")])
                now = time.time()
                for e in (UserUttered("开化县是山区县吗", intent={"name": "ask_county", "confidence": 0.97},
                                      input_channel="widget", timestamp=now),
                          ActionExecuted("action_answer", timestamp=now + 0.01),
                          BotUttered("开化县属于山区26县。", {"custom": {"county": {"name": "开化县"}}},
                                     timestamp=now + 0.02),
                          ActionExecuted("action_listen", timestamp=now + 0.03)):
                    tracker.update(e)
                loop.run_until_complete(store.save(tracker))
                self.times.append((time.perf_counter() - t0) * 1000)
            except Exception as e:  # reported, and the bench goes on
                self.errors.append(f"{type(e).__name__}: {e}")
            self.stop.wait(self.every)
        loop.close()
        store.engine.dispose()


# ---------------------------------------------------------------------------------------------
# Measuring


def cases(engine: sa.engine.Engine, rng: random.Random) -> List[Tuple[str, str, Callable[[], Any]]]:
    """(group, name, call) for every read that is timed: what the console's API calls run."""
    from bot.staff import queries

    def listing(**args):
        return lambda: queries.list_conversations(engine, queries.parse_filters(args))

    week_ago = time.strftime("%Y-%m-%d", time.localtime(time.time() - 7 * 86400))
    with engine.connect() as conn:
        senders = [r[0] for r in conn.execute(sa.text(
            "SELECT sender_id FROM staff_conversations WHERE turns >= 3 ORDER BY sender_id LIMIT 2000"))]
    chosen = rng.sample(senders, min(10, len(senders)))
    out = [
        ("list", "newest first, no filter", listing()),
        ("list", "page 20, no filter", listing(page="20")),
        ("list", "channel=widget", listing(channel="widget")),
        ("list", "rating=down", listing(rating="down")),
        ("list", "rating=down&channel=widget", listing(rating="down", channel="widget")),
        ("list", "q=博士后 (free text, common)", listing(q="博士后")),
        ("list", "q=社保卡 (free text, rare)", listing(q="社保卡")),
        ("list", "q=不在任何对话里的词 (free text, no match)", listing(q="量子纠缠")),
        ("list", "q=遂昌&rating=down", listing(q="遂昌", rating="down")),
        ("list", "verdict=not_eligible", listing(verdict="not_eligible")),
        ("list", "oos=1", listing(oos="1")),
        ("list", "flag=unanswered", listing(flag="unanswered")),
        ("list", "clause=m7", listing(clause="m7")),
        ("list", "from=7 days ago&channel=wechat", listing(**{"from": week_ago, "channel": "wechat"})),
        ("list", "rating=down per_page=200 (CSV page)", listing(rating="down", per_page="200")),
    ]
    for i, sender in enumerate(chosen):
        out.append(("conversation", f"one conversation #{i + 1}", lambda s=sender: queries.conversation(engine, s)))
    out += [
        ("unanswered", "unanswered groups", lambda: queries.unanswered(engine, queries.parse_filters({}))),
        ("unanswered", "unanswered groups, channel=wechat",
         lambda: queries.unanswered(engine, queries.parse_filters({"channel": "wechat"}))),
        ("dashboard", "dashboard, last 30 days", lambda: queries.dashboard(engine, queries.parse_filters({}))),
        ("dashboard", "dashboard, last 30 days, channel=widget",
         lambda: queries.dashboard(engine, queries.parse_filters({"channel": "widget"}))),
        ("dashboard", "dashboard, 180 days",
         lambda: queries.dashboard(engine, queries.parse_filters(
             {"from": time.strftime("%Y-%m-%d", time.localtime(time.time() - 180 * 86400))}))),
        ("dashboard", "dashboard, 30 days, rating=down",
         lambda: queries.dashboard(engine, queries.parse_filters({"rating": "down"}))),
    ]
    return out


def timed(call: Callable[[], Any]) -> Tuple[float, Any]:
    t0 = time.perf_counter()
    data = call()
    json.dumps(data, ensure_ascii=False, default=str)  # the answer as the API sends it
    return (time.perf_counter() - t0) * 1000, data


def measure(url: str, runs: int, seed: int = 7) -> Dict[str, Any]:
    from bot.staff import db

    engine = db.engine_for(url)
    writer = Writer(url)
    writer.start()
    rng = random.Random(seed)
    results = []
    try:
        time.sleep(0.5)
        for group, name, call in cases(engine, rng):
            first, data = timed(call)
            times = [timed(call)[0] for _ in range(runs)]
            items = (data.get("items") or data.get("per_day")) if isinstance(data, dict) else None
            results.append({"group": group, "name": name, "first_ms": round(first, 1),
                            "p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times + [first]), 1),
                            "rows": len(items) if isinstance(items, list) else (
                                len(data.get("turns_detail") or []) if isinstance(data, dict) else None)})
            log(f"[staff bench]   {name}: first {first:.1f} ms, p50 {results[-1]['p50_ms']} ms, "
                f"max {results[-1]['max_ms']} ms")
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    saves = sorted(writer.times)
    return {
        "reads": results,
        "writer": {"saves": len(saves), "errors": writer.errors[:5], "error_count": len(writer.errors),
                   "p50_ms": round(statistics.median(saves), 1) if saves else None,
                   "p95_ms": round(saves[int(len(saves) * 0.95) - 1], 1) if len(saves) >= 20 else None,
                   "max_ms": round(saves[-1], 1) if saves else None},
    }


def run_on(url: str, n: int, runs: int, label: str, reuse: bool = False) -> Dict[str, Any]:
    filler = Filler(url)
    t0 = time.perf_counter()
    if reuse:
        with filler.engine.connect() as conn:
            for k, q in (("conversations", "SELECT count(*) FROM staff_conversations"),
                         ("turns", "SELECT count(*) FROM staff_turns"), ("events", "SELECT count(*) FROM events"),
                         ("ratings", "SELECT count(*) FROM staff_turns WHERE rating IS NOT NULL"),
                         ("down", "SELECT count(*) FROM staff_turns WHERE rating = -1"),
                         ("tickets", "SELECT count(*) FROM staff_tickets")):
                filler.counts[k] = conn.execute(sa.text(q)).scalar()
        filler.summarize()
        log(f"[staff bench] {label}: reusing the database, {filler.counts}")
    else:
        log(f"[staff bench] {label}: writing {n} conversations …")
        filler.fill(n, time.time())
    fill_s = time.perf_counter() - t0
    log(f"[staff bench] {label}: {filler.counts} in {fill_s:.0f} s; timing the console's reads")
    out = {"database": label, "data": dict(filler.counts), "fill_s": round(fill_s, 1)}
    out.update(measure(url, runs))
    if url.startswith("sqlite"):
        out["database_mb"] = round(os.path.getsize(sa.engine.make_url(url).database) / 1e6, 1)
    worst = {}
    for r in out["reads"]:
        worst[r["group"]] = max(worst.get(r["group"], 0.0), r["max_ms"])
    out["worst_ms"] = worst
    out["all_under_target"] = all(v < TARGET_MS for v in worst.values())
    filler.engine.dispose()
    return out


# ---------------------------------------------------------------------------------------------
# Report


GROUP_TITLES = {"list": "Conversation list", "conversation": "One conversation",
                "unanswered": "Unanswered groups", "dashboard": "Dashboard"}


def markdown(result: Dict[str, Any]) -> str:
    lines = [f"# Staff console benchmark {result['date']}", "",
             f"Machine: {result['machine']}; commit {result.get('git_commit') or '?'}.",
             f"Each read: the console's query and the JSON the API returns, timed once cold, then "
             f"{result['runs']} more times (p50 and the worst of all), while a writer saved a new turn "
             f"through the tracker store every 100 ms. Target: every read under {TARGET_MS:.0f} ms.", ""]
    for side in result["databases"]:
        d = side["data"]
        lines += [f"## {side['database']}", "",
                  f"{d['conversations']:,} conversations, {d['turns']:,} turns, {d['events']:,} Rasa events, "
                  f"{d['ratings']:,} ratings ({d['down']:,} 👎), {d['tickets']:,} tickets over {DAYS} days"
                  + (f"; database {side['database_mb']} MB" if side.get("database_mb") else "")
                  + f"; written in {side['fill_s']:.0f} s.", "",
                  "| read | rows | first | p50 | worst |", "| --- | --- | --- | --- | --- |"]
        for r in side["reads"]:
            lines.append(f"| {r['name']} | {r['rows'] if r['rows'] is not None else '–'} | {r['first_ms']} ms | "
                         f"{r['p50_ms']} ms | {r['max_ms']} ms |")
        w = side["writer"]
        lines += ["", "Worst per kind: " + ", ".join(
            f"{GROUP_TITLES[g]} {v} ms" for g, v in side["worst_ms"].items())
            + (" — all under the target." if side["all_under_target"] else " — **over the target**."),
            f"Turns saved meanwhile: {w['saves']} (errors {w['error_count']}), save time p50 {w['p50_ms']} ms, "
            f"p95 {w['p95_ms']} ms, worst {w['max_ms']} ms.", ""]
    for note in result.get("notes", []):
        lines.append(f"- {note}")
    return "\n".join(lines).rstrip() + "\n"


def machine() -> str:
    import platform

    try:
        import psutil

        mem = f", {psutil.virtual_memory().total / 1e9:.1f} GB RAM"
    except Exception:
        mem = ""
    load = ", load average " + str([round(x, 2) for x in os.getloadavg()])
    return f"{os.cpu_count()} cores{mem}, Python {platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}{load}"


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5, help="timed runs of each read after the first")
    ap.add_argument("--no-postgres", action="store_true",
                    help="skip the throw-away PostgreSQL (run when Debian's binaries are installed, "
                         "scripts/install_system_deps.sh)")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--keep", type=Path, metavar="DIR",
                    help="keep the SQLite database in DIR (reused by the next run with --keep DIR)")
    a = ap.parse_args(argv)
    import subprocess

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    result: Dict[str, Any] = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(),
                              "git_commit": commit, "runs": a.runs, "target_ms": TARGET_MS,
                              "databases": [], "notes": []}
    if a.keep:
        a.keep.mkdir(parents=True, exist_ok=True)
        path = a.keep.resolve() / "tracker.db"
        result["databases"].append(run_on(f"sqlite:///{path}", a.conversations, a.runs, "SQLite",
                                          reuse=path.exists()))
    else:
        with tempfile.TemporaryDirectory(prefix="bench-staff-") as tmp:
            url = f"sqlite:///{tmp}/tracker.db"
            result["databases"].append(run_on(url, a.conversations, a.runs, "SQLite"))
    if not a.no_postgres:
        from tests.scale.services import Postgres, postgres_bin_dir

        if postgres_bin_dir() is None:
            result["notes"].append("PostgreSQL not measured: its binaries are not installed "
                                   "(scripts/install_system_deps.sh).")
        else:
            pg = Postgres()
            try:
                pg.start()
                result["databases"].append(run_on(pg.url, a.conversations, a.runs,
                                                  "PostgreSQL " + pg.query("SHOW server_version")[0][0]))
            finally:
                pg.stop()
    text = markdown(result)
    print()
    print(text)
    if not a.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "staff-latest.json").write_text(
            json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (RESULTS / "staff-latest.md").write_text(text, encoding="utf-8")
        log("[staff bench] results: bench/results/staff-latest.md, bench/results/staff-latest.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
