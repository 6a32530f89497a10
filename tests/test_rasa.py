"""Rasa's own checks on the data and the trained model."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def rasa(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, "-m", "rasa", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_data_validates_without_warnings():
    subprocess.run([sys.executable, "scripts/train.py", "--export-only"], cwd=ROOT, check=True,
                   capture_output=True)
    r = rasa("data", "validate", "--config", "bot/config.yml", "--domain", "bot/domain",
             "--data", "nlu_data", "bot/data", "build/nlu", "--fail-on-warnings")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "UserWarning" not in r.stderr, r.stderr[-3000:]


@pytest.mark.slow
def test_conversation_stories_pass_without_prediction_errors(tmp_path):
    from bot.launcher import current_model

    r = rasa("test", "core", "--model", str(current_model()), "--stories", "tests/stories",
             "--endpoints", "endpoints.yml", "--fail-on-prediction-errors", "--out", str(tmp_path))
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
