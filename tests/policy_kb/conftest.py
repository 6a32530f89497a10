import shutil
from pathlib import Path

import pytest

from policy_kb import get_kb
from policy_kb.repository import DEFAULT_DATA_DIR, PACKAGE_DIR


@pytest.fixture(scope="session")
def kb():
    return get_kb()


@pytest.fixture(scope="session")
def source_text():
    return (PACKAGE_DIR / "zhe-ren-she-fa-2021-22.txt").read_text(encoding="utf-8")


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the data files (the source document stays where it is)."""
    target = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target
