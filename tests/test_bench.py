"""The bench's statistics and reporting (no servers, no load)."""
from __future__ import annotations

from collections import Counter

import pytest

from bench import load, profile, report
from bench.stats import Sample, evaluate_targets, percentile, ratio, summarize


def test_percentile_interpolates_like_numpy_linear():
    xs = [1, 2, 3, 4]
    assert percentile(xs, 0) == 1
    assert percentile(xs, 100) == 4
    assert percentile(xs, 50) == 2.5
    assert percentile(xs, 95) == pytest.approx(3.85)
    assert percentile([5, 1, 3], 50) == 3  # order of input does not matter


def test_percentile_edge_cases():
    assert percentile([], 50) is None
    assert percentile([0.2], 99) == 0.2
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_summarize_counts_errors_and_excludes_them_from_latency():
    samples = [Sample(0, 0.010), Sample(0, 0.020), Sample(0, 0.030), Sample(0, 5.0, error="timeout"),
               Sample(0, 0.040, empty=True), Sample(0, 0.001, error="HTTP 500")]
    s = summarize(samples, users=2, elapsed_s=2.0)
    assert (s.messages, s.errors, s.empty) == (6, 2, 1)
    assert s.msgs_per_s == 2.0  # 4 answered / 2 s
    assert s.p50_ms == 25.0
    assert s.max_ms == 40.0
    assert s.error_kinds == {"HTTP 500": 1, "timeout": 1}


def test_summarize_no_samples():
    s = summarize([], users=1, elapsed_s=0)
    assert s.messages == 0 and s.p50_ms is None and s.msgs_per_s == 0.0


def test_ratio():
    assert ratio(30, 10) == 3.0
    assert ratio(None, 10) is None
    assert ratio(1, 0) is None


def _result(p50=15.0, mps=40.0, ref_mps=10.0, p95=499.0, errors=0, train=100.0, rss=1000.0, ready=10.0,
            shell=20.0, reads=1):
    return {
        "ours": {
            "load": [{"users": 1, "p50_ms": p50, "msgs_per_s": 20.0, "errors": 0, "messages": 10},
                     {"users": 20, "p95_ms": p95, "msgs_per_s": mps, "errors": errors, "messages": 100}],
            "training": {"seconds": train},
            "memory": {"peak_total_mb": rss},
            "startup": {"ready_s": ready},
            "jieba_reads": {"rasa": 1, "actions": reads},
        },
        "reference": {"load": [{"users": 20, "msgs_per_s": ref_mps}]},
        "shell": {"ready_s": shell, "jieba_reads": 1},
    }


def test_targets_all_met():
    assert {t["status"] for t in evaluate_targets(_result())} == {"met"}


def test_targets_missed_at_their_bounds():
    by_key = {t["key"]: t["status"] for t in
              evaluate_targets(_result(p50=15.1, mps=39.9, p95=500.0, errors=1, train=300.0, rss=1024.1,
                                       ready=10.1, shell=20.1, reads=2))}
    assert set(by_key.values()) == {"missed"}
    assert len(by_key) == 9
    met = {t["key"]: t["status"] for t in evaluate_targets(_result(p50=15.0, mps=40.0))}
    assert met["p50_1user"] == "met" and met["throughput_20"] == "met"


def test_targets_not_measured_without_reference_or_training():
    r = _result(train=None)
    del r["reference"], r["shell"]
    by_key = {t["key"]: t["status"] for t in evaluate_targets(r)}
    assert by_key["throughput_20"] == "not measured"
    assert by_key["training"] == "not measured"
    assert by_key["p50_1user"] == "met"
    assert by_key["shell_ready"] == "not measured"


def test_markdown_report_has_targets_comparison_and_ratios():
    r = _result()
    r["reference"].update(model_size_mb=20.0, memory={"peak_total_mb": 500.0, "peak_rasa_mb": 500.0})
    r["ours"].update(model_size_mb=40.0)
    r["ours"]["memory"].update(peak_rasa_mb=700.0, peak_actions_mb=300.0)
    r["machine"] = {"cpu_count": 2, "load_average": [1.0, 1.0, 1.0], "load_average_at_end": [2.0, 1.5, 1.0]}
    r["targets"] = evaluate_targets(r)
    md = report.markdown(r)
    assert "## Targets" in md and "✅ met" in md
    assert "| model size | 40.0 MB | 20.0 MB | 2.00× |" in md
    assert "| 20 users: msgs/s | 40.00 | 10.00 | 4.00× |" in md
    assert "2 cores" in md and "[1.0, 1.0, 1.0]" in md


def test_markdown_report_levers_table():
    base = {"name": "baseline", "what": "as make run", "load": [{"users": 20, "msgs_per_s": 10.0, "errors": 0,
                                                                 "messages": 50}]}
    faster = {"name": "tf-threads-1", "what": "1 thread", "load": [{"users": 20, "msgs_per_s": 12.0, "errors": 0,
                                                                    "messages": 60}]}
    skipped = {"name": "rasa-2-workers-redis", "what": "2 workers", "skipped": "redis-server not installed"}
    md = report.markdown({"levers": [base, faster, skipped], "targets": []})
    assert "| tf-threads-1 | – | 12.00 | 1.20× |" in md
    assert "redis-server not installed" in md


def test_schedule_interleaves_the_weighted_mix():
    mix = [(2, ("a",)), (1, ("b", "c"))]
    assert load.schedule(mix, real=()) == [("a",), ("b", "c"), ("a",)]
    assert load.messages_per_round(mix) == 4
    turns = [t for _, c in load.CONVERSATIONS for t in c]
    assert "博士后出站补助我能拿吗" in turns and "由哪个部门负责" in turns


def test_schedule_plays_every_real_phrasing_conversation_between_short_ones():
    mix = [(2, ("a",)), (1, ("b", "c"))]
    real = [("r1",), ("r2", "r2b"), ("r3",), ("r4",)]
    assert load.schedule(mix, real) == [("a",), ("r1",), ("b", "c"), ("r2", "r2b"), ("a",), ("r3",),
                                        ("a",), ("r4",)]
    # The default plan: the evaluation's real-phrasing sets (eval/real/part1-3.yml), each once.
    real = load.real_conversations()
    plan = load.schedule()
    assert len(real) == 390 and len(plan) == 2 * len(real)
    assert [c for c in plan[1::2]] == list(real)
    assert "我博士后刚出站 去了庆元 单位不是民营企业，是县里的事业单位 省里那个博士后补助我能拿不" in real[0]
    mix_info = load.describe_mix()
    assert mix_info["real"]["mean_chars"] > 15 and mix_info["plan"]["real_share_of_messages"] > 0.4
    warm = load.warm_up_plan()
    assert set(load.weighted(load.CONVERSATIONS)) <= set(warm) and set(warm) & set(real)


def test_real_phrasing_cases_without_turns_are_refused(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("- {id: x1, turns: []}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.yml: case x1 has no list of non-empty `turns`"):
        load.real_conversations((bad,))


def test_profile_collapsed_stacks_are_categorised():
    root = str(profile.ROOT)
    raw = "\n".join([
        "run (asyncio/base_events.py:1);call (tensorflow/python/eager/def_function.py:2) 6",
        f"run (asyncio/base_events.py:1);handle (sanic/app.py:3);ask ({root}/actions/answer.py:9) 3",
        "run (asyncio/base_events.py:1);save (rasa/core/tracker_store.py:5);exec (sqlalchemy/engine/base.py:7) 1",
        "garbage line",
    ])
    stacks = profile.parse_collapsed(raw)
    assert sum(stacks.values()) == 10
    cats = profile.categorise(stacks)
    assert cats["TensorFlow (DIET / policies inference)"] == 60.0
    assert cats["actions (actions/)"] == 30.0
    assert cats["tracker store (SQLAlchemy / SQLite)"] == 10.0
    assert profile.top_self(Counter({"a;b": 3, "c;b": 1, "d": 1}), 1) == [("b", 80.0)]


def test_guard_replies_count_as_errors():
    assert load.classify([{"text": "开化县是山区26县之一。"}]) is None
    assert load.classify([]) is None
    assert load.classify({"text": "x"}) == "not a list"
    assert load.classify([{"text": "抱歉，系统暂时无法回答您的问题，请稍后再试"}]).startswith("guard apology")
    assert load.classify([{"text": "您发送消息过于频繁，请稍等片刻再试。"}]) == "guard rate limit"


def test_profile_idle_event_loop_is_its_own_category():
    stacks = profile.parse_collapsed(
        "<module> (rasa_sdk/__main__.py:1);serve (sanic/server/runners.py:155) 9\n"
        "<module> (rasa_sdk/__main__.py:1);validate (jsonschema/validators.py:1) 1\n")
    cats = profile.categorise(stacks)
    assert cats == {profile.IDLE: 90.0, "JSON schema validation (jsonschema)": 10.0}


def test_costs_add_up_the_parts_of_each_message_and_what_is_left():
    from bench import costs

    rows = [
        {"graph node run_JiebaTokenizer1": 0.001, "graph node run_DIETClassifier6": 0.006,
         "graph node run_RulePolicy0": 0.0005, "graph node run_MemoizationPolicy1": 0.0005,
         "action call (HTTP, the action, reply check)": 0.005, "  of which: reply check": 0.001,
         "conversation store: write the turn": 0.004, "message (wall, in process)": 0.020,
         "message (CPU of this process)": 0.015, "chars": 8},
        {"graph node run_JiebaTokenizer1": 0.003, "graph node run_DIETClassifier6": 0.008,
         "action call (HTTP, the action, reply check)": 0.007, "  of which: reply check": 0.001,
         "conversation store: write the turn": 0.006, "message (wall, in process)": 0.030,
         "message (CPU of this process)": 0.025, "chars": 40},
    ]
    r = costs.summarise(rows, model="m")
    assert r["messages"] == 2 and r["model"] == "m"
    assert r["groups"]["tokenising (jieba)"] == {"median_ms": 2.0, "mean_ms": 2.0}
    assert r["groups"]["DIET (one pass)"]["mean_ms"] == 7.0
    assert r["groups"]["policies (all prediction steps)"]["mean_ms"] == 0.5  # 1 ms, then none
    # what no part accounts for: 20 - (1 + 6 + 1 + 5 + 4) and 30 - (3 + 8 + 7 + 6); the reply
    # check is inside the action call and not counted twice
    assert r["rasa_bookkeeping_ms"] == {"median": 4.5, "mean": 4.5}
    assert r["wall_ms_short_messages"] == 20.0 and r["wall_ms_long_messages"] == 30.0
    md = report.markdown({"costs": r, "targets": []})
    assert "## One message, part by part" in md
    assert "| DIET (one pass) | 7.00 ms | 7.00 ms |" in md
    assert "| Rasa's own work between them (tracker, events, prediction loop) | 4.50 ms | 4.50 ms |" in md


def test_the_reference_runs_rasa_itself_and_ours_the_entry_point(monkeypatch, tmp_path):
    """The stock assistant gets none of our patches: `rasa run`, not bot/entry.py."""
    from bot import launcher

    started = []

    def popen(cmd, **kwargs):
        started.append(cmd)
        raise RuntimeError("not started in this test")

    monkeypatch.setattr(launcher.subprocess, "Popen", popen)
    for stock in (True, False):
        server = launcher.RasaServer(None, model=tmp_path / "m.tar.gz", stock=stock)
        with pytest.raises(RuntimeError, match="not started"):
            server.start()
        server.cleanup()
    assert started[0][1:4] == ["-m", "rasa", "run"] and "bot.entry" not in started[0]
    assert started[1][1:3] == ["-m", "bot.entry"]
    assert started[0][started[0].index("--model") + 1] == str(tmp_path / "m.tar.gz")


def test_profile_executor_threads_waiting_for_work_are_idle():
    stacks = profile.parse_collapsed(
        "_bootstrap (threading.py:973);run (threading.py:953);_worker (concurrent/futures/thread.py:81) 3\n"
        "_bootstrap (threading.py:973);_worker (concurrent/futures/thread.py:83);"
        "run (concurrent/futures/thread.py:58);_write (bot/stores.py:200);do_execute (sqlalchemy/engine/default.py:736) 1\n")
    assert profile.categorise(stacks) == {profile.IDLE: 75.0, "tracker store (SQLAlchemy / SQLite)": 25.0}
