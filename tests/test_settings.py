"""One settings object: its defaults are those scripts/env.sh, the deployment guide and the README
give, and no other file writes a default for one of its variables or reads one itself; a yes or no
means the same under `make run`, the launcher and systemd; a wrong value names its variable."""
from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from bot import launcher, supervisor
from bot.launcher import ROOT
from bot.settings import Settings, SettingError, fields
from tests.deploy.test_zh_guide import env_sh_defaults, guide_table


def _text(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return ",".join(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_env_sh_gives_only_the_defaults_of_the_settings_object():
    defaults = {f.metadata["env"]: _text(f.default) for f in fields()}
    given = env_sh_defaults()
    assert given, "scripts/env.sh sets no default"
    wrong = {k: (v, defaults.get(k)) for k, v in given.items() if defaults.get(k) != v}
    assert not wrong, f"scripts/env.sh and bot/settings.py disagree (env.sh, settings): {wrong}"


def test_env_sh_sets_the_process_settings_of_both_servers_alike():
    """What scripts/env.sh exports for the processes it starts (TensorFlow's log level, no
    telemetry, reproducible hashing) is what the launcher and the supervisor give both servers."""
    from bot.settings import PROCESS_ENV

    text = (ROOT / "scripts" / "env.sh").read_text(encoding="utf-8")
    exported = {}
    for name, value in re.findall(r'^export ([A-Z][A-Z0-9_]*)=(.*)$', text, re.M):
        m = re.fullmatch(r'"\$\{%s:-([^}]*)\}"' % name, value)
        exported[name] = m.group(1) if m else value.strip('"')
    assert {k: exported.get(k) for k in PROCESS_ENV} == PROCESS_ENV


DERIVED = {"ACTION_ENDPOINT_URL": "ACTIONS_HOST:ACTIONS_PORT", "SANIC_WORKERS": "最多 2",
           "TRACKER_DB_URL": "sqlite:///var/tracker.db", "PATCHES_OFF": "空"}
# Read only by the install scripts (bootstrap.sh, bundle.sh, fetch_debs.sh), before the Python
# environment that could read bot/settings.py exists.
INSTALL_SETTINGS = {"BUNDLE_DIR", "DEB_DIR", "PYTHON310"}
# What the README says of a default computed at run time (or of an empty one that means more).
README_DERIVED = {"SANIC_WORKERS": "at most 2", "TRACKER_DB_URL": "`sqlite:///var/tracker.db`",
                  "WIDGET_SESSION_SECRET": "var/widget-session.key", "POLICY_TODAY": "today"}


def test_the_guides_table_lists_every_setting_with_its_default():
    table = guide_table()
    wrong = {}
    for f in fields():
        name, default = f.metadata["env"], _text(f.default)
        cell = table.get(name)
        if cell is None:
            wrong[name] = "missing"
        elif name in DERIVED:
            if DERIVED[name] not in cell.replace("`", ""):
                wrong[name] = cell
        elif default == "":
            if not cell.startswith("空"):
                wrong[name] = cell
        elif not same_value(cell.split("（")[0], default):  # 50（Rasa 默认）
            wrong[name] = (default, cell)
    assert not wrong, f"docs/zh/deploy.md §6 differs from bot/settings.py: {wrong}"


def same_value(shown: str, default: str) -> bool:
    """A default as a table shows it (`follow`, 0.80) is the settings' (follow, 0.8)."""
    shown = shown.replace("`", "").strip()
    if shown == default:
        return True
    try:
        return float(shown) == float(default)
    except ValueError:
        return False


def test_the_operations_tables_defaults_are_those_of_the_settings():
    """docs/operations.md's table of limits and faults gives the same defaults."""
    known = {f.metadata["env"]: _text(f.default) for f in fields()}
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    shown = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        names = re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]) if line.startswith("|") else []
        if len(cells) >= 3 and len(names) == 1 and names[0] in known:
            shown[names[0]] = cells[1]
    assert {"GUARD_MAX_MESSAGE_CHARS", "ACTION_REPLY_TIMEOUT", "CONVERSATION_RETENTION_DAYS"} <= set(shown)
    wrong = {name: (cell, known[name]) for name, cell in shown.items()
             if not (cell == "empty" and known[name] == "") and not same_value(cell, known[name])}
    assert not wrong, f"docs/operations.md differs from bot/settings.py (doc, settings): {wrong}"


def readme_table():
    """[(names of a row, its default cell)] of the README's table of settings."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8").split("## Configuration", 1)[1]
    readme = readme.split("\n## ", 1)[0]
    rows = []
    for line in readme.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows.append((re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]), cells[1]))
    return rows


def test_the_readmes_table_names_only_settings_with_their_defaults():
    known = {f.metadata["env"]: f for f in fields()}
    rows = readme_table()
    assert len(rows) >= 10, "README.md: no table of settings under ## Configuration"
    wrong = {}
    for names, cell in rows:
        unknown = [n for n in names if n not in known and n not in INSTALL_SETTINGS
                   and not cell.startswith("see ")]
        assert not unknown, f"README.md's table names what is not a setting: {unknown}"
        if cell.startswith("see "):  # a pointer to the page that gives them
            continue
        shown = [d.strip() for d in cell.split(",")] if len(names) > 1 else [cell]
        if len(shown) == 1:
            shown *= len(names)
        assert len(shown) == len(names), (names, cell)
        for name, text in zip(names, shown):
            if name in INSTALL_SETTINGS:
                continue
            default = _text(known[name].default)
            if name in README_DERIVED:
                ok = README_DERIVED[name] in text
            elif default == "":
                ok = text in ("empty", "–")
            else:
                ok = text.strip("`") == default
            if not ok:
                wrong[name] = (text, default)
    assert not wrong, f"README.md's table differs from bot/settings.py (README, settings): {wrong}"


def test_every_setting_says_what_it_is():
    for f in fields():
        assert re.fullmatch(r"[A-Z][A-Z0-9_]+", f.metadata["env"]), f.name
        assert f.metadata["doc"].strip(), f"{f.metadata['env']}: no doc in bot/settings.py"
    names = [f.metadata["env"] for f in fields()]
    assert len(names) == len(set(names))


def test_rasas_own_pool_settings_keep_rasas_defaults():
    """Rasa's SQL tracker store reads SQL_POOL_SIZE and SQL_MAX_OVERFLOW itself; the entry point
    writes them from the settings, whose defaults must stay Rasa's."""
    from rasa.core import constants, tracker_store

    env = {f.name: f.metadata["env"] for f in fields()}
    assert (env["sql_pool_size"], env["sql_max_overflow"]) == \
        (constants.POSTGRESQL_POOL_SIZE, constants.POSTGRESQL_MAX_OVERFLOW)
    s = Settings()
    assert s.sql_pool_size == tracker_store.POSTGRESQL_DEFAULT_POOL_SIZE
    assert s.sql_max_overflow == tracker_store.POSTGRESQL_DEFAULT_MAX_OVERFLOW


# ---------------------------------------------------------------------------------------------
# No other file writes a default for a setting, or reads one from the environment itself.

ENV_NAMES = {f.metadata["env"] for f in fields()}
READ_CALLS = {"get", "getenv", "setdefault", "pop"}


def python_reads(path: Path):
    """(line, variable) where ``path`` reads a setting's variable from a mapping itself:
    ``os.environ.get("X", ...)``, ``env.get("X") or ...``, ``os.getenv("X")``, ``environ["X"]``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        key = None
        if isinstance(node, ast.Call) and node.args:
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", None)
            if name in READ_CALLS:
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            key = node.slice
        if isinstance(key, ast.Constant) and key.value in ENV_NAMES:
            found.append((node.lineno, key.value))
    return found


SHELL_DEFAULT = re.compile(r"\$\{([A-Z][A-Z0-9_]*):?[-=]([^}]*)\}")


def shell_defaults(text: str):
    """(line, variable, default) of every ``${X:-default}`` / ``${X:=default}`` of a setting."""
    return [(text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2))
            for m in SHELL_DEFAULT.finditer(text) if m.group(1) in ENV_NAMES and m.group(2)]


SOURCES = sorted(str(p.relative_to(ROOT)) for top in ("bot", "scripts", "actions") for p in (ROOT / top).rglob("*")
                 if p.suffix in (".py", ".sh") and "__pycache__" not in p.parts
                 and p.name not in ("settings.py", "env.sh"))
# Still to be moved to bot.settings by the owners of these files (strict: once a file reads its
# settings there, its test passes and the mark must go).
NOT_YET: dict = {}


@pytest.mark.parametrize("rel", [
    pytest.param(r, marks=pytest.mark.xfail(strict=True, reason=f"reads {NOT_YET[r]} itself"))
    if r in NOT_YET else r for r in SOURCES])
def test_no_other_file_reads_a_setting_itself_or_gives_it_a_default(rel):
    path = ROOT / rel
    text = path.read_text(encoding="utf-8")
    found = python_reads(path) if path.suffix == ".py" else shell_defaults(text)
    assert not found, (f"{rel} reads settings itself {found}: read them through bot.settings "
                       "(Settings.from_env(), or current() per request), where their one default is")


def test_the_files_checked_for_their_own_defaults_are_found(tmp_path):
    assert {"bot/stores.py", "bot/staff/auth.py", "scripts/preflight.py", "scripts/serve.sh"} <= set(SOURCES)
    assert set(NOT_YET) <= set(SOURCES)
    # The checks see what they look for.
    sample = tmp_path / "sample.py"
    sample.write_text('import os\nos.environ.get("RASA_PORT", "5005")\nenv = {}\n'
                      'env.get("STAFF_TIMEZONE") or "Asia/Shanghai"\nos.environ["VAR_DIR"]\n')
    assert sorted(n for _, n in python_reads(sample)) == ["RASA_PORT", "STAFF_TIMEZONE", "VAR_DIR"]
    assert shell_defaults('x=${RASA_PORT:-5005} ${VAR_DIR:=var} ${WECHAT_TOKEN:-} ${HOME:-/}') == \
        [(1, "RASA_PORT", "5005"), (1, "VAR_DIR", "var")]


def test_the_production_profile_gives_no_default_of_its_own():
    """deploy/docker-compose.yml passes a setting on (``${X:-}``: unset stays unset, and the
    settings' default applies) or sets the profile's own value, never another default."""
    text = (ROOT / "deploy" / "docker-compose.yml").read_text(encoding="utf-8")
    assert not shell_defaults(text), shell_defaults(text)
    rasa = yaml.safe_load(text)["x-rasa"]
    # The Rasa servers start through the entry point, which reads these settings.
    assert rasa["entrypoint"][-2:] == ["-m", "bot.entry"]


def test_endpoints_expand_only_settings_and_name_only_lock_stores_that_exist():
    """The entry point writes every setting into the environment before Rasa expands
    endpoints.yml's ${X}: each must be a setting (and so has its default)."""
    from bot import locks

    text = (ROOT / "endpoints.yml").read_text(encoding="utf-8")
    expanded = set(re.findall(r"\$\{(\w+)\}", text))
    assert expanded and expanded <= ENV_NAMES, expanded - ENV_NAMES
    named = set(re.findall(r"LOCK_STORE_TYPE=([\w.]+)", text)) | {Settings().lock_store_type}
    for type_name in named:
        module, _, cls = type_name.rpartition(".")
        assert module == "bot.locks" and hasattr(locks, cls), f"endpoints.yml: no lock store {type_name}"


def test_per_request_settings_follow_the_environment(monkeypatch):
    from bot.settings import current

    monkeypatch.delenv("STAFF_TIMEZONE", raising=False)
    assert current().staff_timezone == "Asia/Shanghai"
    monkeypatch.setenv("STAFF_TIMEZONE", "Europe/Paris")
    assert current().staff_timezone == "Europe/Paris"
    # A value a server would refuse at start: the default, not an error in a request.
    monkeypatch.setenv("STAFF_TIMEZONE", "Mars/Olympus")
    assert current().staff_timezone == "Asia/Shanghai"
    with pytest.raises(SettingError, match="STAFF_TIMEZONE='Mars/Olympus': no time zone"):
        Settings.from_env({"STAFF_TIMEZONE": "Mars/Olympus"})


def test_one_setting_read_alone_is_the_one_of_all_settings(monkeypatch):
    """current_value() reads only a setting's own variables (and those DERIVED_FROM names): with
    every variable set to something else than its default, each value is that of from_env()."""
    from bot.settings import current_value

    changed = {"ACTIONS_HOST": "10.1.1.1", "ACTIONS_PORT": "6055", "VAR_DIR": "/srv/x",
               "TRUSTED_PROXIES": "10.0.0.9", "STAFF_TIMEZONE": "Asia/Urumqi",
               "STAFF_LOW_CONFIDENCE": "0.3", "WECHAT_APPID": "wx1"}
    for f in fields():
        monkeypatch.delenv(f.metadata["env"], raising=False)
    for name, value in changed.items():
        monkeypatch.setenv(name, value)
    whole = Settings.from_env(check=False)
    for f in fields():
        assert current_value(f.name) == getattr(whole, f.name), f.name
    assert current_value("tracker_db_url") == "sqlite:////srv/x/tracker.db"
    monkeypatch.setenv("TRACKER_DB_URL", "postgresql://db/rasa")
    assert current_value("tracker_db_url") == "postgresql://db/rasa"


def test_staff_proxies_fall_back_to_the_servers_then_to_this_machine():
    assert Settings.from_env({}).staff_trusted_proxies == "127.0.0.1, ::1"
    assert Settings.from_env({"TRUSTED_PROXIES": "10.0.0.1"}).staff_trusted_proxies == "10.0.0.1"
    assert Settings.from_env({"TRUSTED_PROXIES": "10.0.0.1", "STAFF_TRUSTED_PROXIES": "10.0.0.2"}) \
        .staff_trusted_proxies == "10.0.0.2"


@pytest.mark.parametrize("env, message", [
    ({"STAFF_SESSION_HOURS": "0"}, "STAFF_SESSION_HOURS='0' must be a positive number"),
    ({"STAFF_MAX_FAILURES": "-2"}, "STAFF_MAX_FAILURES='-2' must be a positive number"),
    ({"STAFF_LOW_CONFIDENCE": "high"}, "STAFF_LOW_CONFIDENCE='high' is not a number"),
    ({"POLICY_TODAY": "2024-13-01"}, "POLICY_TODAY='2024-13-01'"),
    ({"CONVERSATION_RETENTION_DAYS": "0"}, "CONVERSATION_RETENTION_DAYS='0' must be a positive"),
])
def test_a_value_the_console_or_the_actions_cannot_use_names_its_variable(env, message):
    with pytest.raises(SettingError, match=re.escape(message)):
        Settings.from_env(env)


@pytest.mark.parametrize("word", ["1", "on", "true", "yes", "ON"])
def test_a_yes_turns_the_api_on_in_the_launcher_and_the_supervisor_alike(word):
    env = {"RASA_ENABLE_API": word, "RASA_API_TOKEN": "t0k3n"}
    assert launcher.api_args(env) == ["--enable-api", "--auth-token", "t0k3n"]
    assert Settings.from_env(env).rasa_enable_api is True
    servers = supervisor.commands("model.tar.gz", env)
    rasa = servers["rasa"]
    # The entry point builds `rasa run` from the same settings it is given.
    assert rasa.argv[1:3] == ["-m", "bot.entry"] and rasa.env["RASA_ENABLE_API"] == "1"


@pytest.mark.parametrize("word", ["0", "off", "no", "false", ""])
def test_a_no_leaves_it_off(word):
    assert launcher.api_args({"RASA_ENABLE_API": word, "RASA_API_TOKEN": "x"}) == []


def test_a_wrong_value_names_its_variable():
    with pytest.raises(SettingError, match="RASA_ENABLE_API='maybe'"):
        Settings.from_env({"RASA_ENABLE_API": "maybe"})
    with pytest.raises(SettingError, match="RASA_PORT='50o5' is not a whole number"):
        Settings.from_env({"RASA_PORT": "50o5"})
    # The channels, inside a server that has read its settings strictly, fall back to the default.
    assert Settings.from_env({"GUARD_SENDER_PER_MINUTE": "many"}, lenient=True) \
        .guard_sender_per_minute == 20


def test_python_m_bot_settings_lists_every_setting_and_masks_secrets():
    out = subprocess.run([".venv/bin/python", "-m", "bot.settings"], cwd=ROOT, capture_output=True,
                         text=True, env=launcher.base_env(RASA_API_TOKEN="s3cret"), check=True).stdout
    assert "RASA_PORT=5005" in out and "RASA_API_TOKEN=****" in out and "s3cret" not in out
    assert len(out.splitlines()) == len(fields())
