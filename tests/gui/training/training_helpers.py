"""Helpers for the live-training tests: example graphs, a recording canvas, waiting for a run state."""
from __future__ import annotations

from pathlib import Path

from core.graph import graph_document, load_graph

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


def steps(feature) -> int:
    """The steps the feature's run has trained, as last reported by the training process."""
    status = feature.controller.status
    return status.step_count if status is not None else 0


def ask(qtbot, feature, fn, timeout: int = 60000):
    """`fn(run)` evaluated in the training process (fn must be module-level); its result."""
    answers = []
    assert feature.controller.submit(fn, answers.append), "there is no run to ask"
    qtbot.waitUntil(lambda: bool(answers), timeout=timeout)
    if isinstance(answers[0], Exception):
        raise answers[0]
    return answers[0]


def train_graph_document(run) -> dict:
    """The run's training graph (forward, gradient, updates) as its file-format document."""
    return graph_document(run.train_graph)


def first_batch(run):
    """The run's weights and the features of its first training batch."""
    return run.weights(), run.data.x_train[:run.config.batch_size]
