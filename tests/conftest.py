"""Shared fixtures: one real assistant (action server + Rasa server on loopback) per test session."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def assistant():
    from bot.launcher import Assistant

    with Assistant(log_dir=ROOT / "results" / "test-logs") as a:
        yield a


class Conversation:
    """One sender talking to the REST channel."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sender = f"test-{uuid.uuid4().hex[:10]}"
        self.session = requests.Session()

    def say(self, text: str) -> List[Dict[str, Any]]:
        r = self.session.post(self.url, json={"sender": self.sender, "message": text}, timeout=60)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def conversation(assistant):
    return Conversation(assistant.rest)
