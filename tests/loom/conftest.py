"""Each front-end test starts on a fresh session graph."""
from __future__ import annotations

import pytest

import loom


@pytest.fixture(autouse=True)
def fresh_graph():
    loom.reset()
    yield
    loom.reset()
