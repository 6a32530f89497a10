"""The human-readable report (Markdown) of one bench result dict (pure functions, unit-tested)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from bench.stats import ratio

STATUS = {"met": "✅ met", "missed": "❌ missed", "not measured": "– not measured"}


def fmt(x: Any, unit: str = "", digits: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        x = f"{x:.{digits}f}"
    return f"{x}{unit}"


def fmt_ratio(r: Optional[float]) -> str:
    return "–" if r is None else f"{r:.2f}×"


def table(header: List[str], rows: List[List[Any]]) -> List[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def level(side: Dict[str, Any], users: int) -> Dict[str, Any]:
    for run in side.get("load", []):
        if run.get("users") == users:
            return run
    return {}


def _stock_sqlite_line(result: Dict[str, Any]) -> str:
    run = level(result.get("reference_sqlite", {}), 20)
    if not run:
        return ""
    ours = level(result.get("ours", {}), 20)
    r = ratio(ours.get("msgs_per_s"), run.get("msgs_per_s"))
    return (f" The same stock assistant keeping conversations in SQLite with Rasa's SQL store (durable, "
            f"as ours): 20 users {run.get('msgs_per_s')} msgs/s, p95 {run.get('p95_ms')} ms, "
            f"{run.get('errors')} errors; ours / that = {fmt_ratio(r)}.")


def comparison_rows(ours: Dict[str, Any], ref: Dict[str, Any]) -> List[List[str]]:
    rows: List[List[str]] = []

    def add(label: str, a: Optional[float], b: Optional[float], unit: str = "", digits: int = 1) -> None:
        rows.append([label, fmt(a, unit, digits), fmt(b, unit, digits), fmt_ratio(ratio(a, b))])

    add("model size", ours.get("model_size_mb"), ref.get("model_size_mb"), " MB")
    add("full training", ours.get("training", {}).get("seconds"), ref.get("training", {}).get("seconds"), " s", 0)
    add("start → first answer", ours.get("startup", {}).get("ready_s"), ref.get("startup", {}).get("ready_s"), " s")
    add("start → Rasa HTTP up", ours.get("startup", {}).get("rasa_http_ready_s"),
        ref.get("startup", {}).get("rasa_http_ready_s"), " s")
    m, n = ours.get("memory", {}), ref.get("memory", {})
    add("PSS idle, all servers", m.get("pss_idle_total_mb"), n.get("pss_idle_total_mb"), " MB", 0)
    add("PSS peak, all servers", m.get("pss_peak_total_mb"), n.get("pss_peak_total_mb"), " MB", 0)
    add("PSS peak, Rasa server", m.get("pss_peak_rasa_mb"), n.get("pss_peak_rasa_mb"), " MB", 0)
    if "pss_peak_actions_mb" in m:
        rows.append(["PSS peak, action server", fmt(m["pss_peak_actions_mb"], " MB", 0), "(none)", "–"])
    if m.get("processes"):
        rows.append(["processes (Rasa / actions)", " / ".join(str(m["processes"].get(k, "–")) for k in ("rasa", "actions")),
                     str((n.get("processes") or {}).get("rasa", "–")), "–"])
    add("RSS summed, idle, all servers", m.get("idle_total_mb"), n.get("idle_total_mb"), " MB", 0)
    add("RSS summed, peak, all servers", m.get("peak_total_mb"), n.get("peak_total_mb"), " MB", 0)
    add("RSS summed, peak, Rasa server", m.get("peak_rasa_mb"), n.get("peak_rasa_mb"), " MB", 0)
    if "peak_actions_mb" in m:
        rows.append(["RSS summed, peak, action server", fmt(m["peak_actions_mb"], " MB", 0), "(none)", "–"])
    for users in (1, 20):
        a, b = level(ours, users), level(ref, users)
        if not a and not b:
            continue
        for key, label in (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99")):
            add(f"{users} user{'s' if users > 1 else ''}: {label}", a.get(key), b.get(key), " ms")
        add(f"{users} user{'s' if users > 1 else ''}: msgs/s", a.get("msgs_per_s"), b.get("msgs_per_s"), "", 2)
        rows.append([f"{users} user{'s' if users > 1 else ''}: errors / messages",
                     f"{a.get('errors', '–')} / {a.get('messages', '–')}",
                     f"{b.get('errors', '–')} / {b.get('messages', '–')}", "–"])
        add(f"{users} user{'s' if users > 1 else ''}: Rasa CPU per message", a.get("cpu_ms_per_msg_rasa"),
            b.get("cpu_ms_per_msg_rasa"), " ms")
        if "cpu_ms_per_msg_actions" in a:
            rows.append([f"{users} user{'s' if users > 1 else ''}: action server CPU per message",
                         fmt(a["cpu_ms_per_msg_actions"], " ms"), "(none)", "–"])
    return rows


def bound_notes(result: Dict[str, Any]) -> List[str]:
    """What the measurements say bounds the missed targets (CPU use, other load, profile)."""
    notes = []
    ours = result.get("ours", {})
    cores = result.get("machine", {}).get("cpu_count") or 1
    for run in ours.get("load", []):
        used = (run.get("cpu_cores_rasa") or 0) + (run.get("cpu_cores_actions") or 0)
        notes.append(
            f"{run['users']} user(s): the servers used {used:.2f} of {cores} cores "
            f"(Rasa {fmt(run.get('cpu_cores_rasa'))}, actions {fmt(run.get('cpu_cores_actions'))}); "
            f"CPU per message: Rasa {fmt(run.get('cpu_ms_per_msg_rasa'), ' ms')}, "
            f"actions {fmt(run.get('cpu_ms_per_msg_actions'), ' ms')}; 1-min load average "
            f"{run.get('load_average_1m_before')} → {run.get('load_average_1m_after')}.")
    fp = result.get("actions_import") or {}
    if fp.get("actions") is not None:
        notes.append(
            f"Action server imports (RSS of a fresh interpreter): rasa_sdk {fp['rasa_sdk']} MB, + policy_kb loaded "
            f"{fp['policy_kb']} MB, + actions {fp['actions']} MB"
            + (" — the actions pull in Rasa and TensorFlow" if fp.get("tensorflow_imported") else "") + ".")
    prof = result.get("profile", {}).get("servers", {})
    for name, p in prof.items():
        cats = p.get("categories")
        if cats:
            top = ", ".join(f"{k} {v}%" for k, v in list(cats.items())[:4])
            notes.append(f"Profile of the {name} server under 20 users: {top}.")
    return notes


def markdown(result: Dict[str, Any]) -> str:
    m = result.get("machine", {})
    out = [
        f"# Benchmark {result.get('date', '')}",
        "",
        *([] if result.get("complete", True) else ["**Partial: the run had not finished when this was written.**", ""]),
        f"Machine: {m.get('cpu_count')} cores ({m.get('cpu_model')}), {m.get('memory_gb')} GB RAM, "
        f"Python {m.get('python')}, Rasa {result.get('rasa_version')}; commit {result.get('git_commit')}"
        f"{' (uncommitted changes)' if result.get('git_dirty') else ''}.",
        f"Load average (1, 5, 15 min) at start {m.get('load_average')}, at end {m.get('load_average_at_end')}"
        " — the machine is shared, so other work competes with both servers and the load driver.",
    ]
    busy = m.get("busy_processes_at_start") or []
    if busy:
        out.append("Busy at start: " + "; ".join(f"`{b['cmd']}` {b['cpu_percent']}%" for b in busy[:4]) + ".")
    s = result.get("settings", {})
    out.append("Load: closed loop on the REST channel, loopback, no think time; "
               + ", ".join(f"{lv['users']} user(s) up to {lv['max_messages']} messages or {lv['max_seconds']:.0f} s"
                           for lv in s.get("levels", []))
               + "; the same message mix for both assistants, after a warm-up round."
               + (" **Quick run (small bounds).**" if s.get("quick") else ""))
    out += ["", "## Targets", ""]
    out += table(["target", "measured", "status"],
                 [[t["text"], t["value"], STATUS[t["status"]]] for t in result.get("targets", [])])
    ours, ref = result.get("ours", {}), result.get("reference", {})
    out += ["", "## Ours vs the stock `rasa init` assistant", ""]
    out += table(["", "ours", "stock rasa init", "ours / stock"], comparison_rows(ours, ref))
    out += ["", f"Ours: {ours.get('model')}; training: {ours.get('training', {}).get('source', '–')}. "
            f"Stock: {ref.get('model', '–')}; training: {ref.get('training', {}).get('source', '–')}.",
            "Ours counts both servers; the stock assistant has no custom actions, so no action server.",
            "Stock runs as `rasa init` makes it: its endpoints configure no stores, so conversations and "
            "locks are in memory (lost on restart) and Rasa runs its default single worker."
            + _stock_sqlite_line(result),
            "Memory: PSS counts each resident page once (a page shared by n processes 1/n in each), so "
            "summed over processes it is what they hold together. Rasa's workers are forked from one "
            "main process and share its pages; summing their RSS counts those pages once per process, "
            "so that sum is shown too but overstates the total."]
    shell, reads = result.get("shell") or {}, ours.get("jieba_reads") or {}
    if shell or reads:
        out += ["", "Start-up beside the servers: the staff shell (`make shell`, one process, its own action "
                f"server) ready in {fmt(shell.get('ready_s'), ' s')}, first answer at "
                f"{fmt(shell.get('first_answer_s'), ' s')}; jieba's dictionary read "
                + ", ".join(f"{n}× by the {k} server" for k, n in reads.items())
                + (f", {shell['jieba_reads']}× by the shell" if "jieba_reads" in shell else "") + "."]
    c = result.get("costs") or {}
    if c.get("parts"):
        out += ["", "## One message, part by part (in one process, no HTTP: bench/costs.py)", "",
                f"{c['messages']} messages of the mix, one at a time through `Agent.handle_message`: wall time "
                f"median {c['wall_ms']['median']} ms (messages of ≤ 15 characters {c.get('wall_ms_short_messages')} ms, "
                f"longer {c.get('wall_ms_long_messages')} ms), CPU of the Rasa process {c['cpu_ms']['mean']} ms "
                "on average; the action server's own work is inside the action call.", ""]
        rows = [[g, fmt(v["median_ms"], " ms", 2), fmt(v["mean_ms"], " ms", 2)]
                for g, v in sorted(c["groups"].items(), key=lambda kv: -kv[1]["mean_ms"])]
        rows += [[k.strip(), fmt(v["median_ms"], " ms", 2), fmt(v["mean_ms"], " ms", 2)]
                 for k, v in c["parts"].items() if not k.startswith(("graph node", "message"))]
        b = c.get("rasa_bookkeeping_ms") or {}
        rows.append(["Rasa's own work between them (tracker, events, prediction loop)",
                     fmt(b.get("median"), " ms", 2), fmt(b.get("mean"), " ms", 2)])
        out += table(["part", "median per message", "mean per message"], rows)
    elif c.get("error"):
        out += ["", f"Costs part by part: not measured ({c['error'][:200]})."]
    notes = bound_notes(result)
    if notes:
        out += ["", "## What bounds it", ""] + [f"- {n}" for n in notes]
    prof = result.get("profile")
    if prof:
        out += ["", "## Profile (py-spy, 20 users)", ""]
        for name, p in prof.get("servers", {}).items():
            if "error" in p and "categories" not in p:
                out.append(f"- {name}: no profile ({p['error'].strip()[:200]})")
                continue
            out += [f"**{name}** server — {p.get('samples')} samples, flame graph `{_flamegraph(p)}` (regenerated by each run, not kept in git)", ""]
            out += table(["where", "% of samples"], [[k, v] for k, v in p.get("categories", {}).items()])
            out += ["", "Top frames (self time):", ""]
            out += table(["frame", "%"], [[f"`{f[:110]}`", v] for f, v in p.get("top_self", [])[:8]])
            out.append("")
    levers = result.get("levers")
    if levers:
        out += ["", "## Levers (ours, one change at a time)", ""]
        base = next((lv for lv in levers if lv.get("name") == "baseline" and "load" in lv), None)
        rows = []
        for lv in levers:
            if "load" not in lv:
                rows.append([lv["name"], lv.get("skipped") or lv.get("failed", "–"), "", "", "", "", "", ""])
                continue
            one, twenty = level(lv, 1), level(lv, 20)
            b20 = level(base, 20) if base else {}
            rows.append([
                lv["name"], fmt(one.get("p50_ms"), " ms"), fmt(twenty.get("msgs_per_s"), "", 2),
                fmt_ratio(ratio(twenty.get("msgs_per_s"), b20.get("msgs_per_s"))),
                fmt(twenty.get("p95_ms"), " ms"), f"{twenty.get('errors')}/{twenty.get('messages')}",
                fmt(lv.get("memory", {}).get("pss_peak_total_mb", lv.get("memory", {}).get("peak_total_mb")), " MB", 0),
                f"{fmt(twenty.get('cpu_ms_per_msg_rasa'))} / {fmt(twenty.get('cpu_ms_per_msg_actions'))}",
            ])
        out += table(["variant", "1 user p50", "20 users msgs/s", "vs baseline", "20 users p95", "errors",
                      "peak PSS", "CPU ms/msg Rasa / actions"], rows)
        out += [""] + [f"- {lv['name']}: {lv['what']}" for lv in levers]
    out += ["", f"Run took {fmt(result.get('duration_s'), ' s', 0)}.", ""]
    return "\n".join(out)


def _flamegraph(p: Dict[str, Any]) -> str:
    """Where a run's flame graph is: under bench/.cache/profiles/ (older runs: bench/results/)."""
    name = str(p.get("flamegraph") or "?")
    return name if "/" in name else f"bench/results/{name}"
