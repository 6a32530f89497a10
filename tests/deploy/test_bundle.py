"""`make bundle` and the offline install: a fresh clone of this repository, given only the bundle,
installs and answers a question over REST with no package registry reachable.

The install runs in a network namespace of its own (`unshare --net`: loopback only, no route
anywhere) where the machine allows it, and always with uv's offline mode, an empty uv cache, pip
without an index and proxies that point nowhere. Building the bundle fetches about 200 wheels
(about 1 GB): it is built once per uv.lock into ~/.cache/shanqu26/bundle-<hash of uv.lock>
(SHANQU26_BUNDLE_CACHE to put it elsewhere) and reused by later runs, CI's included; the model is
refreshed each time.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bot.launcher import current_model, free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def lock_hash() -> str:
    return hashlib.sha256((ROOT / "uv.lock").read_bytes()).hexdigest()[:16]


def cache_root() -> Path:
    configured = os.environ.get("SHANQU26_BUNDLE_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shanqu26"


@pytest.fixture(scope="session")
def bundle() -> Path:
    """`make bundle`'s script with BUNDLE_DIR in the cache; the model is this checkout's."""
    model = current_model()  # the model the rest of the suite uses (RASA_MODEL when set)
    target = cache_root() / f"bundle-{lock_hash()}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time
        started = time.monotonic()
        r = subprocess.run(["scripts/bundle.sh"], cwd=ROOT, capture_output=True, text=True, timeout=1800,
                           env={**os.environ, "BUNDLE_DIR": str(target), "RASA_MODEL": str(model)})
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    print(f"\nbundle {target}: {r.stdout.strip().splitlines()[-1]} ({time.monotonic() - started:.0f} s)")
    return target


@pytest.fixture
def clone(tmp_path):
    """A fresh clone of this repository (its committed state), removed afterwards: what it
    installs (3 GB) is not left behind in pytest's kept directories."""
    path = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(path)], check=True, timeout=300)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def can_unshare() -> bool:
    return (shutil.which("unshare") is not None and shutil.which("ip") is not None
            and subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0)


def offline_env(bundle_dir: Path, tmp_path: Path, **extra: str) -> dict:
    """The environment of the target machine's shell: nothing of this checkout's, no registry."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TERM", "USER", "CI", "PYENV_ROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    (tmp_path / "uv-cache").mkdir(exist_ok=True)
    nowhere = "http://127.0.0.1:9"  # the discard port: nothing listens there
    env.update(
        BUNDLE_DIR=str(bundle_dir), UV_OFFLINE="1", UV_NO_INDEX="1", UV_CACHE_DIR=str(tmp_path / "uv-cache"),
        UV_PYTHON_DOWNLOADS="never", PIP_NO_INDEX="1", PIP_CONFIG_FILE="/dev/null",
        http_proxy=nowhere, https_proxy=nowhere, HTTP_PROXY=nowhere, HTTPS_PROXY=nowhere,
        no_proxy="127.0.0.1,localhost,::1", NO_PROXY="127.0.0.1,localhost,::1",  # the servers under test
        UV_INDEX_URL=f"{nowhere}/simple", PIP_INDEX_URL=f"{nowhere}/simple",
    )
    env.update(extra)
    return env


def run_offline(script: str, cwd: Path, env: dict, timeout: float) -> subprocess.CompletedProcess:
    """`script` (bash) in a network namespace with only loopback, where the machine allows it."""
    body = "set -euo pipefail\n" + textwrap.dedent(script)
    if can_unshare():
        cmd = ["unshare", "--net", "bash", "-c", "ip link set lo up\n" + body]
    else:
        cmd = ["bash", "-c", body]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


ASK = r'''
import json, sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/webhooks/rest/webhook"
body = json.dumps({"sender": "offline-1", "message": "创业担保贷款有什么优惠"}).encode()
deadline = time.monotonic() + 600
while True:
    try:
        req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        print(urllib.request.urlopen(req, timeout=60).read().decode())
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(1)
'''


def test_a_fresh_clone_installs_from_the_bundle_offline_and_answers(bundle, clone, tmp_path):
    manifest = dict(line.split("=", 1) for line in (bundle / "MANIFEST").read_text().splitlines())
    (tmp_path / "ask.py").write_text(ASK)
    port, actions = free_port(), free_port()
    # `make run` trains when the checkout's model is missing. The committed checkout (CI's)
    # computes the bundled model's hash; a working tree with uncommitted changes to what the
    # model is trained from does not, and then its bundled model is served as RASA_MODEL names it.
    script = f"""
        start=$SECONDS
        make setup
        echo "INSTALL_SECONDS=$((SECONDS - start))"
        source scripts/env.sh
        own=$(.venv/bin/python scripts/train.py --print-path 2>/dev/null | tail -n 1)
        if [ "$own" = "models/{manifest['model']}" ]; then
          setsid make run > run.log 2>&1 &
        else
          echo "SERVING_BUNDLED_MODEL_AS_RASA_MODEL (this checkout trains $own)"
          RASA_MODEL=models/{manifest['model']} setsid scripts/serve.sh > run.log 2>&1 &
        fi
        server=$!
        trap 'kill -TERM -- -$server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
        .venv/bin/python {tmp_path}/ask.py {port} > answer.json || {{ tail -n 40 run.log var/logs/rasa.log >&2; exit 1; }}
        .tools/bin/uv pip freeze --python .venv/bin/python > freeze.txt
    """
    env = offline_env(bundle, tmp_path, RASA_PORT=str(port), ACTIONS_PORT=str(actions))
    started = time.monotonic()
    r = run_offline(script, clone, env, timeout=1500)
    assert r.returncode == 0, f"stdout:\n{r.stdout[-4000:]}\nstderr:\n{r.stderr[-4000:]}"
    install = re.search(r"INSTALL_SECONDS=([\d.]+)", r.stdout)
    print(f"\noffline install {install.group(1)} s, install and first answer "
          f"{time.monotonic() - started:.0f} s, network namespace: {can_unshare()}")
    assert "from the bundle" in r.stdout and "(offline)" in r.stdout, r.stdout[-3000:]
    assert f"models/{manifest['model']}" in r.stdout  # the bundle's model, copied in
    messages = json.loads((clone / "answer.json").read_text())
    assert any("创业担保贷款" in (m.get("text") or "") for m in messages), messages
    assert any(c["clause_id"] == "m7" for m in messages for c in (m.get("custom") or {}).get("citations", []))
    # The same packages at the same versions as this checkout's `uv sync` from uv.lock.
    online = subprocess.run([str(ROOT / ".tools" / "bin" / "uv"), "pip", "freeze", "--python", sys.executable],
                            capture_output=True, text=True, check=True).stdout
    assert (clone / "freeze.txt").read_text().split() == online.split()


def test_the_bundle_lists_and_checks_what_it_holds(bundle):
    sums = (bundle / "SHA256SUMS").read_text().splitlines()
    listed = {line.split("  ", 1)[1] for line in sums}
    files = {str(p.relative_to(bundle)) for p in bundle.rglob("*") if p.is_file()} - {"SHA256SUMS", "wheels/.lock-hash"}
    assert listed == files
    assert subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=bundle).returncode == 0
    wheels = [p.name for p in (bundle / "wheels").glob("*.whl")]
    assert any(w.startswith("uv-") for w in wheels) and any(w.startswith("rasa-3.6.21-") for w in wheels)
    assert any(w.startswith("jieba-0.42.1-") for w in wheels)  # published as source only: built here
    assert len(list((bundle / "models").glob("model-*.tar.gz"))) == 1
    assert (bundle / "source.tar.gz").stat().st_size > 0


def partial_bundle(bundle: Path, into: Path, drop: str) -> Path:
    """A copy of the bundle (links to its files) without the wheels whose names start with `drop`."""
    into.mkdir()
    for p in bundle.rglob("*"):
        if p.is_file() and not p.name.startswith(drop):
            target = into / p.relative_to(bundle)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(p, target)
    return into


def test_a_missing_wheel_is_named_and_nothing_waits_for_a_registry(bundle, clone, tmp_path):
    broken = partial_bundle(bundle, tmp_path / "broken", "jieba-")
    started = time.monotonic()
    r = run_offline("make setup", clone, offline_env(broken, tmp_path), timeout=300)
    assert r.returncode != 0
    assert time.monotonic() - started < 120
    assert "offline install from" in r.stderr and "jieba-0.42.1-" in r.stderr, r.stderr[-2000:]


def test_a_bundle_of_another_lock_is_refused_by_name(bundle, clone, tmp_path):
    other = partial_bundle(bundle, tmp_path / "other", "MANIFEST")
    (other / "MANIFEST").write_text(re.sub(r"lock_hash=\w+", "lock_hash=0000000000000000",
                                           (bundle / "MANIFEST").read_text()))
    r = run_offline("make setup", clone, offline_env(other, tmp_path), timeout=120)
    assert r.returncode != 0
    assert "built for uv.lock 0000000000000000" in r.stderr and lock_hash() in r.stderr


def test_a_missing_bundle_directory_is_named(clone, tmp_path):
    r = run_offline("make setup", clone, offline_env(tmp_path / "nowhere", tmp_path), timeout=60)
    assert r.returncode != 0 and "nowhere: no such directory" in r.stderr
