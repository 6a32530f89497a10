"""The Chinese deployment guide (docs/zh/deploy.md) against the code: every setting the code reads
is in its table, with scripts/env.sh's default; the system packages are those the project
installs; README and endpoints.yml agree with it."""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, Set

import yaml

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "zh" / "deploy.md"
STAFF_GUIDE = ROOT / "docs" / "zh" / "kb-maintenance.md"
NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
# The machine's own variables, read by the scripts but not settings of the assistant.
SYSTEM = {"HOME", "PATH", "PYENV_ROOT", "PYTHONPATH", "XDG_CACHE_HOME", "VIRTUAL_ENV", "CI"}


def python_settings() -> Dict[str, Set[str]]:
    """Names in string constants of every module that reads the environment."""
    found: Dict[str, Set[str]] = {}
    for top in ("bot", "actions", "policy_kb", "scripts"):
        for path in (ROOT / top).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            if "environ" not in source and "getenv" not in source:
                continue
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and NAME.match(node.value):
                    found.setdefault(node.value, set()).add(str(path.relative_to(ROOT)))
    return found


def code_settings() -> Dict[str, Set[str]]:
    found = python_settings()
    # Every field of the settings object (bot/settings.py), whatever its name's shape (HOTLINE).
    from bot.settings import fields

    for f in fields():
        found.setdefault(f.metadata["env"], set()).add("bot/settings.py")

    def add(name: str, where: str) -> None:
        if name not in SYSTEM:
            found.setdefault(name, set()).add(where)

    for rel in ("endpoints.yml", "bot/credentials.yml"):
        for name in re.findall(r"\$\{(\w+)\}", (ROOT / rel).read_text(encoding="utf-8")):
            add(name, rel)
    for path in (ROOT / "scripts").glob("*.sh"):
        script = path.read_text(encoding="utf-8")
        for name in set(re.findall(r"\$\{([A-Z][A-Z0-9_]+):[-=]", script)):
            # A variable the script sets itself is not read from the environment (unless it is
            # only given a default there: NAME=${NAME:-...}).
            assigned = re.findall(rf"^\s*(?:local\s+)?{name}=(.*)$", script, re.M)
            if all(value.startswith(f"${{{name}:-") for value in assigned):
                add(name, f"scripts/{path.name}")
    # Built at run time as f"{KIND}_DB_PATH" (bot/shared_state.py, server_file).
    shared_state = (ROOT / "bot" / "shared_state.py").read_text(encoding="utf-8")
    assert "_DB_PATH" in shared_state
    for name in ("LOCK_DB_PATH", "STATE_DB_PATH"):
        add(name, "bot/shared_state.py")
    # Read by Rasa itself, set by the production profile.
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text(encoding="utf-8"))
    for name in compose["x-rasa"]["environment"]:
        add(name, "deploy/docker-compose.yml")
    return found


def guide_table() -> Dict[str, str]:
    """`NAME` -> its default cell, from the guide's one table of settings."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("## 6. 配置项一览", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3:
            for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]):
                rows[name] = cells[1]
    return rows


def env_sh_defaults() -> Dict[str, str]:
    text = (ROOT / "scripts" / "env.sh").read_text(encoding="utf-8")
    return dict(re.findall(r'^: "\$\{([A-Z0-9_]+):=([^}$]*)\}"', text, re.M))


def test_every_setting_the_code_reads_is_in_the_guides_table():
    table = guide_table()
    missing = {name: sorted(where) for name, where in code_settings().items() if name not in table}
    assert not missing, f"add to the table of docs/zh/deploy.md (§6): {missing}"


def test_the_table_names_only_real_settings():
    unknown = set(guide_table()) - set(code_settings())
    assert not unknown, f"docs/zh/deploy.md lists settings the code does not read: {sorted(unknown)}"


def test_the_tables_defaults_are_those_of_env_sh():
    table = guide_table()
    wrong = {}
    for name, default in env_sh_defaults().items():
        cell = table.get(name, "")
        if default.strip() == "":
            ok = cell.startswith("空")
        else:
            ok = default.strip() in cell.replace("`", "")
        if not ok:
            wrong[name] = (default, cell)
    assert not wrong, f"defaults in docs/zh/deploy.md differ from scripts/env.sh (env.sh, guide): {wrong}"


def test_the_guide_lists_the_system_packages_with_versions():
    script = (ROOT / "scripts" / "install_system_deps.sh").read_text(encoding="utf-8")
    packages = {p for group in re.findall(r'^\s*"[^"|]*\|([^"]*)"', script, re.M) for p in group.split()}
    assert {"chromium", "postgresql", "redis-server", "nginx", "fonts-wqy-zenhei"} <= packages
    text = GUIDE.read_text(encoding="utf-8")
    for package in packages:
        row = re.search(rf"^\| `{re.escape(package)}` \| ([^|]+) \|", text, re.M)
        assert row and re.search(r"\d", row.group(1)), f"{package}: no version in docs/zh/deploy.md"
    assert "apt-get download" in text and "apt-offline" in text and "scripts/fetch_debs.sh" in text


def test_the_guide_covers_what_a_deployer_needs():
    text = GUIDE.read_text(encoding="utf-8")
    for needed in ("make bundle", "BUNDLE_DIR", "SHA256SUMS",  # offline install
                   "deploy/nginx/shanqu26-https.conf", "TRUSTED_PROXIES=127.0.0.1",  # HTTPS front end
                   "deploy/systemd/", "journalctl",
                   '<script src="https://', "WIDGET_ALLOWED_ORIGINS",  # the widget
                   "/webhooks/wechat/webhook", "EncodingAESKey", "安全模式", "IP白名单",  # WeChat
                   "pg_dump", "pg_restore", ".backup", "var/widget-session.key",  # backups
                   "CONVERSATION_RETENTION_DAYS", "purge_conversations.py",  # retention
                   "bot.locks.RedisLockStore", "postgresql://"):  # scaling out
        assert needed in text, f"docs/zh/deploy.md does not mention {needed}"
    # The measured figures of the offline install.
    assert re.search(r"离线包共 \*\*[\d.]+ GB\*\*", text) and re.search(r"安装 Python\s*环境约 \*\*", text)


def test_the_staff_guide_walks_through_a_change():
    text = STAFF_GUIDE.read_text(encoding="utf-8")
    for needed in ("policy_kb/data/", "hedges", "keywords", "eligibility.yml", "make kb-check",
                   "make kb-answers KB_LABEL=before", "make kb-diff", "make train", "systemctl restart",
                   "git revert", "RASA_MODEL="):
        assert needed in text, f"docs/zh/kb-maintenance.md does not mention {needed}"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("bundle", "kb-check", "kb-answers", "kb-diff"):
        assert re.search(rf"^{target}:", makefile, re.M), f"make {target} is missing"


def test_readme_points_to_the_guide_and_lists_the_widget_origins():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/zh/deploy.md" in readme and "docs/zh/kb-maintenance.md" in readme
    config = readme.split("## Configuration", 1)[1]
    for name in ("WIDGET_ALLOWED_ORIGINS", "TRUSTED_PROXIES", "BUNDLE_DIR"):
        assert f"`{name}`" in config, f"README's settings table lacks {name}"


def test_endpoints_comments_agree_with_the_lock_stores():
    comments = "\n".join(l for l in (ROOT / "endpoints.yml").read_text(encoding="utf-8").splitlines()
                         if l.lstrip().startswith("#"))
    assert "bot.locks.SQLiteLockStore" in comments and "bot.locks.RedisLockStore" in comments
    assert "LOCK_STORE_TYPE=redis" not in comments and "in-process lock store" not in comments
