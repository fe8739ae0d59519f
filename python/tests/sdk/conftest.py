"""Fixtures of the SDK's tests; the helpers themselves are in sdk_helpers.py."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sdk_helpers import chronicle_client  # noqa: E402


@pytest.fixture()
def client(chronicle: Any) -> Any:
    """An SDK client of the session's server, with the admin token."""
    c = chronicle_client(chronicle)
    yield c
    c.close()
