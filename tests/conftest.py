"""Shared test fixtures."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Demo data and other per-user files go to a throw-away folder, never to the tester's home.
os.environ.setdefault("CELLWRIGHT_HOME", tempfile.mkdtemp(prefix="cellwright-home-"))

REPO = Path(__file__).resolve().parents[1]
REALDATA = REPO.parent / "shared" / "realdata"


@pytest.fixture
def realdata() -> Path:
    """Path to ../shared/realdata; skips the test where it is absent (e.g. a user's clone)."""
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata is not present in this checkout")
    return REALDATA
