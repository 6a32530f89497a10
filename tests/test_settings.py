"""One settings object: its defaults are those scripts/env.sh and the deployment guide give; a yes
or no means the same under `make run`, the launcher and systemd; a wrong value names its variable."""
from __future__ import annotations

import re
import subprocess

import pytest

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


DERIVED = {"ACTION_ENDPOINT_URL": "ACTIONS_HOST:ACTIONS_PORT", "SANIC_WORKERS": "最多 2",
           "TRACKER_DB_URL": "sqlite:///var/tracker.db", "PATCHES_OFF": "空"}


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
        elif default not in cell.replace("`", ""):
            wrong[name] = (default, cell)
    assert not wrong, f"docs/zh/deploy.md §6 differs from bot/settings.py: {wrong}"


def test_the_readmes_table_names_only_settings_with_their_defaults():
    readme = (ROOT / "README.md").read_text(encoding="utf-8").split("## Configuration", 1)[1]
    readme = readme.split("\n## ", 1)[0]
    known = {f.metadata["env"]: f for f in fields()}
    for line in readme.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0])
        defaults = [d.strip() for d in cells[1].split(",")]
        if len(names) != len(defaults):
            continue
        for name, shown in zip(names, defaults):
            f = known.get(name)
            if f is None or " " in shown or shown in ("–", "empty") or name in DERIVED:
                continue
            assert shown.strip("`") == _text(f.default), (name, shown, _text(f.default))


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
