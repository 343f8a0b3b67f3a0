"""Shared graphs: the lecture's MLP and dot(a + b, c)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from core.graph import Graph, load_graph  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "resources" / "examples"


@pytest.fixture
def lecture_mlp() -> Graph:
    """The lecture's 64-100-100-10 tanh MLP with its SoftmaxCrossEntropy cost."""
    return load_graph(EXAMPLES / "seed_mlp.json")[0]


@pytest.fixture
def vectors() -> Graph:
    """res2 = dot(a + b, c) with a, b float vectors and c a matrix."""
    return load_graph(EXAMPLES / "seed_vectors.json")[0]
