"""Shared by the deployment tests (deploy/, the offline bundle, the Chinese guide)."""
from __future__ import annotations

import os
import shutil

import pytest

from tests.scale.services import nginx_bin


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def need(what: str, found) -> None:
    """Skips the test when a system program is absent; fails it in CI (CI=true), which installs
    them (scripts/install_system_deps.sh)."""
    if found:
        return
    reason = f"needs {what} (Debian package: run scripts/install_system_deps.sh as root)"
    if in_ci():
        pytest.fail(reason + "; CI must have installed it", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    found = nginx_bin()
    need("nginx", found)
    return found


@pytest.fixture(scope="session")
def unshare_binary() -> str:
    return shutil.which("unshare") or ""
