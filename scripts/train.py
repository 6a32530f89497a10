"""Trains the assistant only when something it is trained from has changed.

The model's name carries a content hash of everything that shapes it (pipeline and policies,
domain, dialogue and NLU data, the knowledge base and the locked dependencies), so an unchanged
checkout reuses its model and any change, however small, trains a new one.

usage: python scripts/train.py [--force] [--print-path]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
BUILD = ROOT / "build"
# What a trained model depends on. The knowledge base enters through what is generated from it
# (jieba dictionary, NLU synonyms and lookups); the knowledge-base matcher reads it at run time.
# policy_kb/text.py and romanized.py (with english.yml) rewrite the text the NLU reads; the
# knowledge-base terms romanized.py reads pinyin for are all in build/jieba's user dictionary.
HASHED = ["bot/config.yml", "bot/domain", "bot/data", "bot/components", "policy_kb/text.py",
          "policy_kb/romanized.py", "policy_kb/data/english.yml",
          "nlu_data", "build/jieba", "build/nlu", "uv.lock", "scripts/train.py"]
SUFFIXES = {".py", ".yml", ".yaml", ".txt", ".json", ".lock"}


def content_hash() -> str:
    h = hashlib.sha256()
    for entry in HASHED:
        path = ROOT / entry
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            if f.suffix not in SUFFIXES or "__pycache__" in f.parts:
                continue
            h.update(str(f.relative_to(ROOT)).encode())
            h.update(b"\0")
            h.update(f.read_bytes())
            h.update(b"\0")
    return h.hexdigest()[:16]


def export_kb() -> None:
    """Jieba dictionary, entity patterns and NLU synonyms/lookups, generated from policy_kb."""
    sys.path.insert(0, str(ROOT))
    from policy_kb import export

    export.write_all(BUILD)
    (BUILD / "nlu").mkdir(parents=True, exist_ok=True)
    (BUILD / "nlu" / "kb_vocabulary.yml").write_text(nlu_vocabulary(export), encoding="utf-8")


DIET_ENTITIES = ("place", "city", "department", "role", "employer_type", "institution_type")


def nlu_vocabulary(export) -> str:
    """Rasa NLU synonyms and lookup tables from the knowledge base (no name typed twice)."""
    import json

    # Synonyms normalise what DIET extracts, so only for the entity types it is trained on.
    # Rasa's synonyms are global across entity types: the first mapping of a form wins.
    seen = set()
    by_value = {}
    synonyms = export.synonyms()
    for table in (synonyms.get(label, {}) for label in DIET_ENTITIES):
        for surface, value in table.items():
            if surface not in seen:
                seen.add(surface)
                by_value.setdefault(value, []).append(surface)
    out = ["# Generated from policy_kb by scripts/train.py; do not edit.", 'version: "3.1"', "nlu:"]

    def block(kind: str, name: str, forms) -> None:
        out.append(f"- {kind}: {json.dumps(name, ensure_ascii=False)}")
        out.append("  examples: |")
        out.extend(f"    - {f}" for f in forms)

    for value, forms in by_value.items():
        block("synonym", value, forms)
    for label, table in export.lookup_tables().items():
        if table:
            block("lookup", label, table)
    return "\n".join(out) + "\n"


def model_path() -> Path:
    export_kb()
    return MODELS / f"model-{content_hash()}.tar.gz"


def train(force: bool = False) -> Path:
    target = model_path()
    if target.exists() and not force:
        print(f"[train] model is up to date: {target.relative_to(ROOT)}")
        return target
    MODELS.mkdir(exist_ok=True)
    cmd = [
        sys.executable, "-m", "rasa", "train",
        "--config", "bot/config.yml",
        "--domain", "bot/domain",
        "--data", "nlu_data", "bot/data", str(BUILD / "nlu"),
        "--out", str(MODELS),
        "--fixed-model-name", target.name[: -len(".tar.gz")],
    ]
    print(f"[train] training {target.relative_to(ROOT)} ...", flush=True)
    started = time.perf_counter()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    print(f"[train] done in {time.perf_counter() - started:.0f} s", flush=True)
    # Keep the newest few models only: each is tens of MB.
    old = sorted(MODELS.glob("model-*.tar.gz"), key=lambda p: p.stat().st_mtime)[:-3]
    for p in old:
        p.unlink()
    return target


def _chosen_model() -> str:
    """The model the settings name (RASA_MODEL), or "" for the one trained from this checkout."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bot.settings import current_value

    return current_value("rasa_model")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--print-path", action="store_true", help="print the model path and exit")
    ap.add_argument("--export-only", action="store_true", help="only write build/ from policy_kb")
    a = ap.parse_args()
    if a.print_path:
        chosen = _chosen_model()
        path = Path(chosen).resolve() if chosen else model_path()
        print(os.path.relpath(path, ROOT))
        return
    if a.export_only:
        export_kb()
        return
    train(a.force)


if __name__ == "__main__":
    main()
