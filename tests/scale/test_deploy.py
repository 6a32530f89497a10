"""The production profile's files (deploy/) agree with the repository they deploy.

Docker is not needed: the compose file is read as YAML, the images' package list is compared with
pyproject.toml and uv.lock, and deploy/nginx.conf is checked by nginx itself (the scale-out tests
run it in front of two real Rasa servers).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.scale.services import DEPLOY_NGINX_CONF, loopback_nginx_conf, nginx_bin

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# Provided by the official images (rasa/rasa:3.6.21-full, rasa/rasa-sdk:3.6.2) themselves.
FROM_IMAGES = {"rasa", "rasa-sdk", "spacy", "pydantic", "pyyaml", "requests"}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def project_dependencies() -> set:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^dependencies\s*=\s*\[(.*?)^\]", text, re.S | re.M).group(1)
    return {norm(re.match(r"[A-Za-z0-9_.\-]+", d).group(0)) for d in re.findall(r'"([^"]+)"', block)}


def locked_versions() -> dict:
    text = (ROOT / "uv.lock").read_text(encoding="utf-8")
    return {norm(n): v for n, v in re.findall(r'\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"', text)}


def image_requirements() -> dict:
    pins = {}
    for line in (DEPLOY / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[norm(name)] = version
    return pins


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def test_images_carry_every_runtime_dependency_at_its_locked_version():
    pins, locked = image_requirements(), locked_versions()
    missing = project_dependencies() - FROM_IMAGES - set(pins)
    assert not missing, f"add to deploy/requirements.txt: {sorted(missing)}"
    drift = {n: (v, locked.get(n)) for n, v in pins.items() if locked.get(n) != v}
    assert not drift, f"deploy/requirements.txt differs from uv.lock (pinned, locked): {drift}"
    assert locked["rasa"] == "3.6.21" and locked["rasa-sdk"] == "3.6.2"


def test_dockerfile_builds_on_the_official_images():
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    bases = re.findall(r"^FROM (\S+) AS (\S+)", dockerfile, re.M)
    assert ("rasa/rasa:3.6.21-full", "rasa") in bases
    assert ("rasa/rasa-sdk:3.6.2", "actions") in bases


def test_compose_runs_two_rasa_servers_on_shared_stores_behind_nginx():
    services = compose()["services"]
    assert {"postgres", "redis", "actions", "rasa-1", "rasa-2", "nginx"} <= set(services)
    rasa = [name for name in services if re.fullmatch(r"rasa-\d+", name)]
    assert len(rasa) >= 2
    for name in rasa:
        env = services[name]["environment"]
        assert env["TRACKER_DB_URL"].startswith("postgresql://") and "@postgres:5432/" in env["TRACKER_DB_URL"]
        assert env["LOCK_STORE_TYPE"] == "bot.locks.RedisLockStore" and env["REDIS_HOST"] == "redis"
        assert env["ACTION_ENDPOINT_URL"] == "http://actions:5055/webhook"
        assert services[name]["build"]["target"] == "rasa"
    assert services["actions"]["build"]["target"] == "actions"
    # Only the load balancer is reachable from outside the compose network.
    assert [name for name, s in services.items() if s.get("ports")] == ["nginx"]
    # nginx balances over exactly the Rasa servers compose starts.
    upstream = set(re.findall(r"server (rasa-\d+):5005", DEPLOY_NGINX_CONF.read_text()))
    assert upstream == set(rasa)


def test_compose_sets_every_variable_the_rasa_configuration_expands():
    """Rasa refuses to start when endpoints.yml or credentials.yml names an unset ${VAR}."""
    wanted = set()
    for path in (ROOT / "endpoints.yml", ROOT / "bot" / "credentials.yml"):
        wanted |= set(re.findall(r"\$\{(\w+)\}", path.read_text(encoding="utf-8")))
    for name in ("rasa-1", "rasa-2"):
        missing = wanted - set(compose()["services"][name]["environment"])
        assert not missing, f"{name} lacks {sorted(missing)}"


def test_production_nginx_configuration_is_valid(tmp_path, scale_binaries):
    binary = nginx_bin()
    conf = tmp_path / "nginx.conf"
    conf.write_text(loopback_nginx_conf(DEPLOY_NGINX_CONF.read_text(), tmp_path, 8080, [5005, 5006]))
    r = subprocess.run([binary, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
                        "-c", str(conf)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


def _stage(dockerfile: str, name: str) -> str:
    stages = re.split(r"^FROM ", dockerfile, flags=re.M)
    return next(s for s in stages if re.match(rf"\S+ AS {name}\s", s))


def test_the_action_image_has_everything_the_actions_import_and_no_rasa(tmp_path):
    """What deploy/Dockerfile copies into the action image (rasa/rasa-sdk, without rasa or
    TensorFlow) is enough for the action server to load every action."""
    import shutil

    stage = _stage((DEPLOY / "Dockerfile").read_text(encoding="utf-8"), "actions")
    app = tmp_path / "app"
    for line in re.findall(r"^COPY (?:--\S+ )*(.+)$", stage, re.M):
        *sources, dest = line.split()
        if not dest.startswith("/app/"):
            continue  # the requirements file
        for src in sources:
            target = app / dest[len("/app/"):]
            if (ROOT / src).is_dir():
                shutil.copytree(ROOT / src, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                (target if dest.endswith("/") else target.parent).mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / src, target / Path(src).name if dest.endswith("/") else target)
    probe = """
import sys
class NoRasa:
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in ("rasa", "tensorflow"):
            raise ImportError(f"{name} is not in the action image")
        return None
sys.meta_path.insert(0, NoRasa())
import importlib, pkgutil
import actions
for m in pkgutil.iter_modules(actions.__path__):
    importlib.import_module("actions." + m.name)  # raises if a module needs what is missing
from rasa_sdk.executor import ActionExecutor
executor = ActionExecutor()
executor.register_package("actions")
print(sorted(executor.actions))
"""
    r = subprocess.run([sys.executable, "-c", probe], cwd=app, capture_output=True, text=True,
                       timeout=180, env={**os.environ, "PYTHONPATH": str(app)})
    assert r.returncode == 0, r.stderr[-3000:]
    assert "action_answer" in r.stdout
