"""The reference: a stock `rasa init` assistant, trained once per Rasa version and cached.

`rasa init --no-prompt --init-dir DIR` writes the starter project (moodbot) and trains it with
Rasa's default pipeline and policies. The trained model and the time the training took are kept
under bench/.cache/ (git-ignored), keyed by Rasa's version, so later runs reuse them.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict

from bot.launcher import ROOT, base_env

CACHE = ROOT / "bench" / ".cache"


def rasa_version() -> str:
    out = subprocess.run(
        [sys.executable, "-c", "import rasa.version; print(rasa.version.__version__)"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )
    return out.stdout.strip()


def timed_rasa_init(init_dir: Path, timeout: float = 1800) -> float:
    """Create and train a stock project in init_dir (empty); the wall time of the whole command.

    A private training cache makes it a full training, not one that reuses earlier components.
    """
    init_dir.mkdir(parents=True, exist_ok=True)
    env = base_env(RASA_CACHE_DIRECTORY=str(init_dir / ".rasa" / "cache"))
    log = open(init_dir.parent / "rasa-init.log", "wb")
    started = time.perf_counter()
    try:
        subprocess.run(
            [sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(init_dir)],
            cwd=init_dir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            check=True, timeout=timeout,
        )
    finally:
        log.close()
    return time.perf_counter() - started


def reference_model(rebuild: bool = False, log=print) -> Dict[str, Any]:
    """{"model": Path, "train_seconds": float, "trained_at": str, "rasa_version": str, "cached": bool}."""
    version = rasa_version()
    home = CACHE / f"reference-rasa-{version}"
    meta_path = home / "reference.json"
    if meta_path.exists() and not rebuild:
        meta = json.loads(meta_path.read_text())
        model = home / meta["model"]
        if model.exists():
            return dict(meta, model=model, cached=True)
    log(f"[bench] training the stock `rasa init` reference for Rasa {version} (cached afterwards) ...")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ref-", dir=CACHE) as tmp:
        project = Path(tmp) / "project"
        seconds = timed_rasa_init(project)
        models = sorted((project / "models").glob("*.tar.gz"))
        if not models:
            raise RuntimeError(f"rasa init trained no model; see {Path(tmp) / 'rasa-init.log'}")
        if home.exists():
            shutil.rmtree(home)
        home.mkdir(parents=True)
        shutil.copy2(models[-1], home / "model.tar.gz")
        shutil.copy2(project / "config.yml", home / "config.yml")
        shutil.copy2(Path(tmp) / "rasa-init.log", home / "rasa-init.log")
    meta = {
        "model": "model.tar.gz",
        "train_seconds": round(seconds, 1),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rasa_version": version,
        "load_average_at_training": [round(x, 2) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
    }
    meta_path.write_text(json.dumps(meta, indent=2))
    log(f"[bench] reference trained in {seconds:.0f} s")
    return dict(meta, model=home / "model.tar.gz", cached=False)


if __name__ == "__main__":
    print(reference_model(rebuild="--rebuild" in sys.argv))
