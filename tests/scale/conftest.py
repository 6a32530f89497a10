"""Shared by the scale tests: PostgreSQL, Redis and nginx must be installed to run them."""
from __future__ import annotations

import os

import pytest

from tests.scale.services import missing_binaries


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


@pytest.fixture(scope="session")
def scale_binaries() -> None:
    """Skips the test when the production profile's binaries are absent; in CI (CI=true) fails it,
    since CI installs them (scripts/install_system_deps.sh)."""
    missing = missing_binaries()
    if missing:
        reason = (f"needs {', '.join(missing)} (Debian packages: run scripts/install_system_deps.sh "
                  f"as root)")
        if in_ci():
            pytest.fail(reason + "; CI must have installed them", pytrace=False)
        pytest.skip(reason)
