"""Helpers for the robustness tests: the real assistant over REST, and its stored conversations
read straight from the SQLite tracker store."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import uuid
from typing import Any, Dict, List

import pytest
import requests


def need_model() -> None:
    from bot.launcher import current_model

    try:
        current_model()
    except (FileNotFoundError, subprocess.CalledProcessError) as e:
        pytest.skip(f"no trained model: {e}")


def new_sender(prefix: str = "robust") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def post(url: str, sender: str, message: Any, timeout: float = 90) -> requests.Response:
    return requests.post(url, json={"sender": sender, "message": message}, timeout=timeout)


def say(url: str, sender: str, message: Any) -> List[Dict[str, Any]]:
    r = post(url, sender, message)
    assert r.status_code == 200, r.text
    return r.json()


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [m["text"] for m in messages if m.get("text")]


def customs(messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [m["custom"] for m in messages if isinstance(m.get("custom"), dict)]


def verdicts(messages: List[Dict[str, Any]]) -> List[str]:
    return [c["eligibility"]["verdict"] for c in customs(messages) if "eligibility" in c]


def stored_events(tracker_db: str, sender: str) -> List[Dict[str, Any]]:
    """A conversation's events as Rasa's SQL tracker store keeps them."""
    path = tracker_db.split(":///", 1)[1]
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id",
                            (sender,)).fetchall()
    return [json.loads(r[0]) for r in rows]


def user_events(tracker_db: str, sender: str) -> List[Dict[str, Any]]:
    return [e for e in stored_events(tracker_db, sender) if e.get("event") == "user"]
