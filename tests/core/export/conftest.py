"""Fixtures for the exporter tests."""
from __future__ import annotations

import pytest

from core.graph import Graph, init_params, load_graph
from export_cases import EXAMPLES


@pytest.fixture(params=EXAMPLES, ids=[p.stem for p in EXAMPLES])
def example(request) -> tuple[str, Graph, dict]:
    """Each example graph with full weights (stored ones where given, the rest drawn with seed 3)."""
    graph, weights = load_graph(request.param)
    return request.param.stem, graph, init_params(graph, 3, weights)
