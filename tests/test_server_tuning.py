"""The patches of bot/patches/ keep Rasa's behaviour: replies are still validated; SQLite still
stores; DIET predicts the same; connections are reused; workers stop right."""
from __future__ import annotations

import sqlite3

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import create_engine, text

from bot import patches
from bot.patches import diet_loading, prefork
from bot.settings import Settings


@pytest.fixture(scope="module", autouse=True)
def tuned():
    patches.apply_all(Settings.from_env({"SANIC_WORKERS": "1"}))


def action() -> RemoteAction:
    return RemoteAction("action_answer", EndpointConfig("http://127.0.0.1:9/webhook"))


def test_a_valid_action_reply_passes():
    assert action()._validate_action_result({"events": [], "responses": [{"text": "好"}]}) is True


def test_an_invalid_action_reply_is_still_rejected_with_rasas_message():
    with pytest.raises(ValidationError) as e:
        action()._validate_action_result({"events": "not a list"})
    assert "Failed to validate Action server response" in e.value.message


def test_sqlite_connections_use_write_ahead_logging(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/t.db")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        conn.commit() if hasattr(conn, "commit") else None
    assert sqlite3.connect(tmp_path / "t.db").execute("SELECT count(*) FROM t").fetchone()[0] == 1


# ---- DIET restored for serving: the same predictions as Rasa's own loading -----------------

def _texts():
    import yaml

    from bot.launcher import ROOT
    cases = yaml.safe_load((ROOT / "eval" / "questions.yml").read_text(encoding="utf-8"))
    return [t for c in cases for t in c["turns"]]


def _parse_all(model_path, texts, tuned: bool, tmp_path):
    """Parse every text in a fresh Rasa process (as the server loads the model), as JSON."""
    import json
    import subprocess
    import sys

    from bot.launcher import ROOT, base_env
    src, out = tmp_path / f"texts-{tuned}.json", tmp_path / f"parsed-{tuned}.json"
    src.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    code = """
import asyncio, json, sys
from bot import patches
from bot.settings import Settings
if sys.argv[2] == "tuned":
    patches.apply_all(Settings.from_env({"SANIC_WORKERS": "1"}))
from rasa.core.agent import load_agent
texts = json.load(open(sys.argv[3], encoding="utf-8"))
async def run():
    agent = await load_agent(model_path=sys.argv[1])
    out = []
    for t in texts:
        r = await agent.parse_message(t)
        out.append([r["intent"], r.get("intent_ranking"),
                    [[e["entity"], e["value"], e.get("start"), e.get("end"), e.get("extractor")]
                     for e in r["entities"]]])
    return out
json.dump(asyncio.run(run()), open(sys.argv[4], "w", encoding="utf-8"), ensure_ascii=False)
"""
    subprocess.run([sys.executable, "-c", code, str(model_path), "tuned" if tuned else "stock",
                    str(src), str(out)], cwd=ROOT, env=base_env(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return json.loads(out.read_text(encoding="utf-8"))


def test_diet_restored_for_serving_predicts_exactly_as_rasas_own_loading(tmp_path):
    from rasa.utils.tensorflow.models import RasaModel

    from bot.launcher import current_model
    assert RasaModel.load.__func__ is not diet_loading.STOCK["load"]  # the patch is on
    model, texts = current_model(), _texts()
    assert len(texts) > 400
    tuned = _parse_all(model, texts, True, tmp_path)
    stock = _parse_all(model, texts, False, tmp_path)
    assert len(tuned) == len(stock) == len(texts)
    mismatches = [(t, a[0], b[0]) for t, a, b in zip(texts, tuned, stock) if a != b]
    assert not mismatches, mismatches[:5]
    # Not a vacuous comparison: the model tells intents apart on these questions.
    assert len({r[0]["name"] for r in stock}) >= 8


# ---- action calls reuse their connections --------------------------------------------------

def test_action_calls_reuse_one_connection_and_survive_the_server_closing_it():
    import asyncio

    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    peers = []

    async def webhook(request):
        peers.append(request.transport.get_extra_info("peername"))
        response = web.json_response({"events": [], "responses": []})
        if len(peers) == 3:
            response.force_close()  # the server ends this connection after the third answer
        return response

    async def scenario():
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
        try:
            for _ in range(3):
                assert await endpoint.request(json={"next_action": "action_answer"}, method="post") == \
                    {"events": [], "responses": []}
            await asyncio.sleep(0.2)
            assert await endpoint.request(json={}, method="post") == {"events": [], "responses": []}
        finally:
            await runner.cleanup()

    asyncio.run(scenario())
    assert len(peers) == 4
    assert peers[0] == peers[1] == peers[2]  # one connection for the first three calls
    assert peers[3] != peers[2]  # a new one after the server closed it, and no error


# ---- several workers: stop signals while a worker is still loading --------------------------

def test_a_forked_worker_ignores_ctrl_c_and_ends_on_sigterm_until_it_has_started():
    import os
    import signal

    def handler(*_):  # what Sanic's main process installs before it forks its workers
        raise RuntimeError("the main process's handler ran in a worker")

    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    try:
        prefork.worker_signals_until_started()  # as os.register_at_fork runs it in a child
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        pid = os.fork()
        if pid == 0:  # the child: SIGINT ignored, SIGTERM ends it at once
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGTERM)
            os._exit(3)  # not reached
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM
    finally:
        for s, h in saved.items():
            signal.signal(s, h)
