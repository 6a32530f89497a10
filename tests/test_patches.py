"""Rasa and Sanic are changed only by the entry point, in the open: importing the channels changes
nothing in them; each patch of bot/patches/ refuses a version of Rasa, Sanic, TensorFlow or
SQLAlchemy it was not written for, and changes nothing then; PATCHES_OFF leaves a patch out."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot import patches
from bot.launcher import ROOT, base_env
from bot.settings import Settings, SettingError

# What the Rasa server has loaded before it loads the channels (and what the patches change).
SERVER_MODULES = [
    "rasa.core.run", "rasa.server", "rasa.core.agent", "rasa.core.processor",
    "rasa.core.actions.action", "rasa.utils.endpoints", "rasa.utils.tensorflow.models",
    "rasa.core.lock_store", "rasa.core.tracker_store", "rasa.core.channels.rest",
    "sanic", "sanic.http", "sanic.server.protocols.http_protocol", "sanic_cors",
    "sqlalchemy", "sqlalchemy.engine", "aiohttp", "jsonschema", "jieba",
]
LIBRARIES = ("rasa", "sanic", "sanic_cors", "sqlalchemy", "aiohttp", "jsonschema", "jieba")

SNAPSHOT = r'''
import gc, importlib, logging, signal, sys

def snapshot():
    """Every module-level name and every class attribute of the libraries, by identity."""
    # Engines made and dropped earlier in the same process leave their listeners in SQLAlchemy's
    # registry until they are collected: collect them now, so that the count is this moment's.
    gc.collect()
    seen = {}
    for name, mod in list(sys.modules.items()):
        if mod is None or not name.split(".")[0] in LIBRARIES:
            continue
        for attr, value in list(vars(mod).items()):
            seen[f"{name}.{attr}"] = id(value)
            if isinstance(value, type) and value.__module__ == name:
                for key, member in list(vars(value).items()):
                    seen[f"{name}.{attr}.{key}"] = id(member)
    # A counter that numbers SQLAlchemy's column and table definitions as they are made.
    seen.pop("sqlalchemy.util.langhelpers._creation_order", None)
    from sqlalchemy import event
    from sqlalchemy.events import ConnectionEvents, PoolEvents
    wanted = {n for c in (PoolEvents, ConnectionEvents) for n in vars(c) if not n.startswith("_")}
    seen["sqlalchemy engine listeners"] = sum(
        1 for key in event.registry._key_to_collection if key[1] in wanted)
    seen["log record factory"] = id(logging.getLogRecordFactory())
    seen["gc frozen"] = gc.get_freeze_count()
    seen["SIGINT"] = id(signal.getsignal(signal.SIGINT))
    return seen

def changed(before, after):
    return sorted(k for k in before if k in after and before[k] != after[k])
'''

IMPORT_CHANNELS = SNAPSHOT + r'''
import json
LIBRARIES = tuple(json.loads(sys.argv[1]))
for name in json.loads(sys.argv[2]):
    importlib.import_module(name)
before = snapshot()
for name in ("bot.channels", "bot.channels.guard", "bot.channels.rest", "bot.channels.widget",
             "bot.channels.wechat", "bot.health", "bot.stores", "bot.locks", "bot.shared_state",
             "bot.staff.channel", "bot.entry", "bot.settings", "bot.patches", "bot.privacy"):
    importlib.import_module(name)
for name in __import__("bot.patches").patches.NAMES:
    importlib.import_module("bot.patches." + name)
after_import = snapshot()
from bot import patches
from bot.settings import Settings
patches.apply_all(Settings.from_env())
after_apply = snapshot()
print(json.dumps({"import": changed(before, after_import), "apply": changed(before, after_apply)}))
'''


def test_importing_the_channels_changes_nothing_in_rasa_sanic_or_sqlalchemy():
    run = subprocess.run(
        [sys.executable, "-c", IMPORT_CHANNELS, json.dumps(LIBRARIES), json.dumps(SERVER_MODULES)],
        cwd=ROOT, env=base_env(SANIC_WORKERS="2"), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found["import"] == [], f"changed by importing the channels: {found['import']}"
    # Not a blind comparison: applying the patches is seen, each one where it changes Rasa,
    # Sanic or SQLAlchemy (and the fork preparation with two workers).
    applied = set(found["apply"])
    for expected in ("rasa.core.actions.action.RemoteAction._validate_action_result",
                     "rasa.utils.tensorflow.models.RasaModel.load",
                     "rasa.utils.endpoints.EndpointConfig.session",
                     "rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT",
                     "rasa.core.agent.Agent._create_tracker_store",
                     "rasa.core.processor.MessageProcessor.handle_message",
                     "sqlalchemy engine listeners",
                     "sanic.server.protocols.http_protocol.HttpProtocol.check_timeouts",
                     "sanic.http.Http.init_for_request",
                     "jieba.Tokenizer.initialize", "jieba.initialize",
                     "gc frozen"):
        assert expected in applied, (expected, sorted(applied))


def _other_series(version: str) -> str:
    major, minor, *_ = version.split(".")
    return f"{major}.{int(minor) + 1}.0"


@pytest.mark.parametrize("name", patches.NAMES)
def test_each_patch_refuses_a_version_it_was_not_written_for(name, monkeypatch):
    module = patches.module(name)
    assert module.WRITTEN_FOR, f"bot/patches/{name}.py names no version"
    real = patches.installed_version
    for package, series in module.WRITTEN_FOR.items():
        assert real(package).startswith(series + "."), \
            f"{name} was written for {package} {series}, installed {real(package)}"
    namespace: dict = {}
    exec(SNAPSHOT, namespace)
    namespace["LIBRARIES"] = LIBRARIES
    for package in module.WRITTEN_FOR:
        newer = _other_series(real(package))
        monkeypatch.setattr(patches, "installed_version",
                            lambda p, package=package, newer=newer: newer if p == package else real(p))
        before = namespace["snapshot"]()
        with pytest.raises(patches.VersionMismatch) as e:
            module.apply(Settings.from_env({"SANIC_WORKERS": "2"}))
        assert f"bot.patches.{name}" in str(e.value) and newer in str(e.value)
        assert f"PATCHES_OFF={name}" in str(e.value)
        assert namespace["changed"](before, namespace["snapshot"]()) == []


def test_patches_off_leaves_a_patch_out_and_an_unknown_name_is_an_error(monkeypatch):
    applied = []
    monkeypatch.setattr(patches, "apply", lambda name, settings: applied.append(name))
    patches.apply_all(Settings.from_env({"PATCHES_OFF": "diet_loading, http_limits"}))
    assert applied == [n for n in patches.NAMES if n not in ("diet_loading", "http_limits")]
    with pytest.raises(SettingError, match="PATCHES_OFF: no patch named dietloading"):
        Settings.from_env({"PATCHES_OFF": "dietloading"})


def test_the_entry_point_refuses_to_start_on_a_wrong_setting():
    run = subprocess.run([sys.executable, "-m", "bot.entry", "--model", "none.tar.gz"], cwd=ROOT,
                         env=base_env(PATCHES_OFF="no_such_patch"), capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 2
    assert "The Rasa server was not started: PATCHES_OFF: no patch named no_such_patch" in run.stderr


JIEBA = r'''
import json, logging, sys
import jieba

built = []
class Count(logging.Handler):
    def emit(self, record):
        if "Building prefix dict" in record.getMessage():
            built.append(record.getMessage())
jieba.default_logger.addHandler(Count())
jieba.default_logger.setLevel(logging.DEBUG)
if sys.argv[1] == "patched":
    from bot import patches
    from bot.settings import Settings
    patches.apply("jieba_dictionary", Settings.from_env())
jieba.initialize()                 # Rasa's JiebaTokenizer and the pre-fork build: the default one
jieba.load_userdict(sys.argv[2])
matcher = jieba.Tokenizer()        # the entity matcher's, with words of its own
matcher.add_word("山区26县", 2000, "n")
index = jieba.Tokenizer()          # the search index's
index.initialize()
index.add_word("山海协作飞地")
text = "开化县是山区26县吗，山海协作飞地是什么意思，博士后去遂昌县湖山乡出站补助我能拿吗"
print(json.dumps({
    "built": len(built),
    "cuts": [list(t.cut(text, HMM=False)) for t in (jieba.dt, matcher, index)],
    "search": list(index.cut_for_search(text, HMM=False)),
    "totals": [t.total for t in (jieba.dt, matcher, index)],
    "own": [("山区26县" in t.FREQ, "山海协作飞地" in t.FREQ, "遂昌县湖山乡" in t.FREQ) for t in (jieba.dt, matcher, index)],
}, ensure_ascii=False))
'''


def test_jieba_reads_its_dictionary_once_and_every_tokenizer_cuts_as_before(tmp_path):
    userdict = tmp_path / "user.txt"
    userdict.write_text("遂昌县湖山乡 1000 ns\n", encoding="utf-8")

    def run(mode):
        r = subprocess.run([sys.executable, "-c", JIEBA, mode, str(userdict)], cwd=ROOT,
                           env=base_env(), capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-3000:]
        return json.loads(r.stdout.strip().splitlines()[-1])

    stock, patched = run("stock"), run("patched")
    assert stock["built"] == 3 and patched["built"] == 1
    for key in ("cuts", "search", "totals", "own"):
        assert patched[key] == stock[key], key
    # Each tokenizer still has only its own words.
    assert patched["own"] == [[False, False, True], [True, False, False], [False, True, False]]


SQLITE_WRITES = r'''
import json, subprocess, sys, threading, time
import sqlalchemy as sa

mode, path = sys.argv[1], sys.argv[2]
from bot import patches
from bot.settings import Settings
patches.apply("sqlite_wal", Settings.from_env())
if mode == "patched":
    patches.apply("sqlite_writes", Settings.from_env())
from bot.patches import sqlite_writes

# No busy timeout at all: a writer that meets another one's transaction fails at once, unless
# it waits for its turn.
engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.QueuePool, pool_size=4,
                          connect_args={"timeout": 0, "check_same_thread": False})
with engine.begin() as c:
    c.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (who TEXT, n INTEGER)")

def insert(who, n, hold=0.0, end="commit"):
    with engine.connect() as c:
        tx = c.begin()
        c.execute(sa.text("INSERT INTO t VALUES (:w, :n)"), {"w": who, "n": n})
        time.sleep(hold)
        c.execute(sa.text("UPDATE t SET n = n + 1 WHERE who = :w"), {"w": who})
        getattr(tx, end)()

out = {"errors": []}
def second(who):
    try:
        insert(who, 1)
    except Exception as e:
        out["errors"].append(f"{who}: {type(e).__name__}: {str(e)[:60]}")

# 1. two threads of this process: the second writes while the first holds its transaction
first = threading.Thread(target=insert, args=("first", 1, 0.3))
first.start(); time.sleep(0.1)
t0 = time.monotonic(); second("thread"); out["thread_wait_s"] = round(time.monotonic() - t0, 3)
first.join()
# 2. another process writes while this one holds its transaction
holder = threading.Thread(target=insert, args=("holder", 1, 0.6))
holder.start(); time.sleep(0.1)
child = subprocess.run([sys.executable, "-c", CHILD, mode, path], capture_output=True, text=True)
holder.join()
out["child"] = child.stdout.strip() or child.stderr.strip()[-300:]
# 3. the turn is given back after a rollback, and by a connection closed with its transaction open
insert("rolled back", 1, end="rollback")
c = engine.connect(); tx = c.begin(); c.execute(sa.text("INSERT INTO t VALUES ('left open', 1)")); c.close()
t0 = time.monotonic(); second("after"); out["after_wait_s"] = round(time.monotonic() - t0, 3)
with engine.connect() as c:
    out["rows"] = sorted(r[0] for r in c.execute(sa.text("SELECT who FROM t")))
out["held"] = len(sqlite_writes._held)
print(json.dumps(out))
'''

SQLITE_WRITES_CHILD = r'''
import sys, time
import sqlalchemy as sa
mode, path = sys.argv[1], sys.argv[2]
from bot import patches
from bot.settings import Settings
patches.apply("sqlite_wal", Settings.from_env())
if mode == "patched":
    patches.apply("sqlite_writes", Settings.from_env())
engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
try:
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO t VALUES ('process', 1)"))
    print("written")
except Exception as e:
    print(f"process: {type(e).__name__}")
'''


def test_sqlite_writers_take_turns_instead_of_failing_or_sleeping(tmp_path):
    def run(mode):
        db = tmp_path / f"{mode}.db"
        script = SQLITE_WRITES.replace("CHILD, mode", "SQLITE_WRITES_CHILD, mode")
        r = subprocess.run([sys.executable, "-c", f"SQLITE_WRITES_CHILD = {SQLITE_WRITES_CHILD!r}\n" + script,
                            mode, str(db)], cwd=ROOT, env=base_env(), capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == 0, r.stderr[-3000:]
        return json.loads(r.stdout.strip().splitlines()[-1])

    stock = run("stock")  # SQLite alone: with no busy timeout, both later writers fail at once
    assert any("thread" in e and "OperationalError" in e for e in stock["errors"]), stock
    assert stock["child"] == "process: OperationalError", stock
    patched = run("patched")
    assert patched["errors"] == [] and patched["child"] == "written", patched
    assert 0.1 < patched["thread_wait_s"] < 0.5  # it waited for the first one's commit, no longer
    assert patched["after_wait_s"] < 0.1  # nothing left holding the turn
    assert patched["held"] == 0
    assert patched["rows"] == ["after", "first", "holder", "process", "thread"]
