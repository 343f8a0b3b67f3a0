"""Helpers for the live-training tests: example graphs, a recording canvas, waiting for a run state."""
from __future__ import annotations

from pathlib import Path

from core.graph import load_graph

EXAMPLES = Path(__file__).resolve().parents[3] / "resources" / "examples"
TERMINAL = ("finished", "stopped", "failed")


class RecordingScene:
    """The canvas methods the training feature calls, recording each call."""

    def __init__(self) -> None:
        self.highlighted: list[tuple] = []
        self.overlays: list = []
        self.summaries: dict[str, str] = {}
        self.selected: list[list[str]] = []

    def highlight_node(self, node_id, message) -> None:
        self.highlighted.append((node_id, message))

    def set_edge_overlay(self, magnitudes) -> None:
        self.overlays.append(magnitudes)

    def set_node_summary(self, node_id, text) -> None:
        self.summaries[node_id] = text

    def select_nodes(self, node_ids) -> None:
        self.selected.append(list(node_ids))


def example(name: str):
    """The graph of resources/examples/<name>.json."""
    return load_graph(EXAMPLES / f"{name}.json")[0]



def wait_state(qtbot, feature, states, timeout: int = 120000) -> None:
    """Wait until the controller reports one of `states`."""
    states = (states,) if isinstance(states, str) else tuple(states)
    qtbot.waitUntil(lambda: feature.controller.state in states, timeout=timeout)
