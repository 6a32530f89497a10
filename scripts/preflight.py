"""Checks, before the servers start, everything that would otherwise fail later and less clearly:

- the model: present, a complete gzip tar archive, with Rasa's ``metadata.json``;
- the knowledge base (policy_kb/data): readable and valid;
- the conversation store (TRACKER_DB_URL): the database can be opened (for SQLite: the file is a
  SQLite database that passes ``PRAGMA quick_check``, or can be created);
- Rasa's HTTP API: off, or on with a token (RASA_ENABLE_API=1 needs RASA_API_TOKEN).

    python scripts/preflight.py [--model PATH] [--kb-dir DIR] [--tracker-db URL]

Prints one line per problem, naming what is wrong and where, and exits 1; prints nothing and
exits 0 when all is well. scripts/serve.sh runs it before starting; tests call `problems()`.
"""
from __future__ import annotations

import argparse
import os
import shlex
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import List, Mapping, Optional, Union

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.settings import Settings, SettingError  # noqa: E402


def default_model(settings: Optional[Settings] = None) -> Optional[Path]:
    """RASA_MODEL, else the model trained from this checkout."""
    settings = settings or Settings.from_env(check=False, lenient=True)
    if settings.rasa_model:
        return Path(settings.rasa_model)
    try:
        out = subprocess.run([sys.executable, str(ROOT / "scripts" / "train.py"), "--print-path"],
                             cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return ROOT / out if out else None


def check_model(path: Optional[Path]) -> List[str]:
    if path is None:
        return ["model: no model path (run 'make train', or set RASA_MODEL)"]
    path = Path(path)
    if not path.exists():
        return [f"model: {path} does not exist (run 'make train', or set RASA_MODEL)"]
    if not path.is_file():
        return [f"model: {path} is not a file"]
    try:
        names = set()
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:  # reads the whole archive: a truncated file fails here
                names.add(member.name.lstrip("./"))
    except PermissionError:
        return [f"model: {path} cannot be read (permission denied)"]
    except (tarfile.TarError, EOFError, OSError, ValueError) as e:
        return [f"model: {path} is corrupt or not a Rasa model archive ({type(e).__name__}: {e})"]
    if "metadata.json" not in names:
        return [f"model: {path} is not a Rasa model (no metadata.json inside)"]
    return []


def check_kb(data_dir: Optional[Path] = None) -> List[str]:
    from policy_kb.repository import DEFAULT_DATA_DIR

    where = Path(data_dir) if data_dir else DEFAULT_DATA_DIR
    try:
        from policy_kb import load_kb

        load_kb(where)
    except PermissionError as e:
        return [f"knowledge base: {e.filename or where} cannot be read (permission denied)"]
    except FileNotFoundError as e:
        return [f"knowledge base: {e.filename or where} is missing"]
    except Exception as e:  # KBError names the file and the entry
        return [f"knowledge base ({where}) is not valid: {type(e).__name__}: {e}"]
    return []


def check_tracker_db(url: Optional[str]) -> List[str]:
    if not url:
        return ["conversation store: TRACKER_DB_URL is not set"]
    if url.startswith("sqlite"):
        return _check_sqlite(url)
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(url, pool_pre_ping=True)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        finally:
            engine.dispose()
    except ModuleNotFoundError as e:
        return [f"conversation store: the database driver for {_redact(url)} is not installed ({e.name})"]
    except Exception as e:
        return [f"conversation store: cannot open {_redact(url)}: {_first_line(e)}"]
    return []


def _check_sqlite(url: str) -> List[str]:
    path_part = url.split(":///", 1)[1] if ":///" in url else ""
    if not path_part or path_part == ":memory:":
        return []
    path = Path(path_part.split("?", 1)[0])
    if not path.is_absolute():
        path = Path.cwd() / path
    if path.exists():
        if path.is_dir():
            return [f"conversation store: {path} is a directory, not a SQLite database"]
        if not os.access(path, os.R_OK | os.W_OK):
            return [f"conversation store: {path} cannot be read and written (permissions)"]
        try:
            conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=5)
            try:
                conn.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
                # Every page and index of the file, without the slower cross-checks of
                # integrity_check: a damaged database must not be served (it would answer and
                # store nothing).
                found = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
            finally:
                conn.close()
        except sqlite3.DatabaseError as e:
            return [f"conversation store: {path} cannot be opened as a SQLite database ({e})"]
        if found != ["ok"]:
            return [f"conversation store: {path} is damaged (PRAGMA quick_check: "
                    f"{'; '.join(map(str, found))[:300]}); restore it from a backup or move it "
                    f"away to start with an empty store"]
        return []
    parent = path.parent
    if not parent.is_dir():
        return [f"conversation store: directory {parent} for {path.name} does not exist"]
    if not os.access(parent, os.W_OK | os.X_OK):
        return [f"conversation store: cannot create {path} (directory not writable)"]
    return []


def check_api(settings: Union[Settings, Mapping[str, str]]) -> List[str]:
    """Rasa's HTTP API as ``settings`` (or the settings of an environment) configure it."""
    if not isinstance(settings, Settings):
        settings = Settings.from_env(settings, check=False, lenient=True)
    problems = []
    if settings.rasa_enable_api and not settings.rasa_api_token.strip():
        problems.append("HTTP API: RASA_ENABLE_API=1 needs RASA_API_TOKEN (the conversation and "
                        "model endpoints are never served without a token)")
    extra = shlex.split(settings.rasa_extra_args)
    if "--enable-api" in extra and not any(a.startswith(("--auth-token", "--jwt-secret"))
                                           for a in extra):
        problems.append("HTTP API: RASA_EXTRA_ARGS has --enable-api without --auth-token; "
                        "use RASA_ENABLE_API=1 and RASA_API_TOKEN instead")
    return problems


def problems(model: Optional[Path] = None, kb_dir: Optional[Path] = None,
             tracker_db: Optional[str] = None, env: Optional[Mapping[str, str]] = None,
             check_model_file: bool = True) -> List[str]:
    """Everything that would keep the assistant from starting or working, one line each."""
    env = dict(os.environ) if env is None else env
    found: List[str] = []
    # The settings as the servers will read them (bot/settings.py holds every default).
    try:
        settings = Settings.from_env(env, check=False)
    except SettingError as e:  # a value that cannot be read: the servers would refuse it too
        found.append(f"settings: {_first_line(e)}")
        settings = Settings.from_env(env, check=False, lenient=True)
    if check_model_file:
        found += check_model(model if model is not None else default_model(settings))
    found += check_kb(kb_dir)
    found += check_tracker_db(tracker_db if tracker_db is not None else settings.tracker_db_url)
    found += check_api(settings)
    return found


def _redact(url: str) -> str:
    try:
        import sqlalchemy as sa

        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "TRACKER_DB_URL"


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:300]


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, help="model archive (default: the current model)")
    ap.add_argument("--kb-dir", type=Path, help="knowledge-base data directory")
    ap.add_argument("--tracker-db", help="conversation store URL (default: TRACKER_DB_URL)")
    args = ap.parse_args(argv)
    found = problems(args.model, args.kb_dir, args.tracker_db)
    for line in found:
        print(f"preflight: {line}", file=sys.stderr)
    if found:
        print("preflight: the assistant was not started; fix the above first.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
