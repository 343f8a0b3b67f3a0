"""Whether the graph can be trained now, said at the top of the training panel: why not and what to do, or
a configuration proposed from the graph with a one-click "Use these settings".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from core.graph import Graph, GraphError
from core.training import ConfigError, read_config
from core.training.propose import propose_training
from core.training.references import REFERENCE_KEYS

READY_STYLE = "QFrame#Readiness { background: #e8f5e9; border: 1px solid #81c784; border-radius: 4px; }"
BLOCKED_STYLE = "QFrame#Readiness { background: #fff4e5; border: 1px solid #f0a04b; border-radius: 4px; }"
WHAT_TO_DO = {
    "features": "Choose the Input that holds the features under Model ▸ Features.",
    "labels": "Choose the labels Input under Model ▸ Labels, or (none).",
    "loss": "Choose the loss under Model ▸ Loss (a node that gives a float scalar).",
    "metrics": "Untick it under Model ▸ Metrics.",
    "dataset": "Choose a data set under Data.",
}


@dataclass
class Readiness:
    """Can Start run? If not, why (`reason`) and what to do (`advice`); `proposal` is a configuration to offer."""

    ready: bool
    reason: str
    advice: str = ""
    proposal: Optional[dict] = None


def assess(graph: Optional[Graph]) -> Readiness:
    """Check graph.training as Start would, before Start."""
    if graph is None:
        return Readiness(False, "No graph is open.")
    if not graph.training:
        proposal = propose_training(graph)
        config = proposal.config
        found = [f"{key} {', '.join(config[key]) if key == 'metrics' else config[key]}"
                 for key in REFERENCE_KEYS if config.get(key)]
        reason = "This graph has no training set-up yet."
        if found:
            reason += f" Proposed from its structure: {'; '.join(found)}; data {config['dataset']['name']}."
        advice = " ".join(m[0].upper() + m[1:] + "." for m in proposal.missing) or \
            "Check the proposal below and press Use these settings."
        return Readiness(False, reason, advice, config if found else None)
    try:
        config = read_config(graph)
    except GraphError as e:
        return Readiness(False, f"Cannot start: {e.message}",
                         "Fix the graph first: the Problems panel lists it and the canvas marks the node.")
    except ConfigError as e:
        key = e.message.split(":")[0].removeprefix("training.").split(".")[0].split("[")[0]
        proposal = propose_training(graph)
        fix = {k: proposal.config[k] for k in REFERENCE_KEYS if k in proposal.config}
        offer = {**graph.training, **fix} if key in REFERENCE_KEYS and fix.get(key) is not None \
            and fix[key] != graph.training.get(key) else None
        return Readiness(False, f"Cannot start: {e.message}",
                         WHAT_TO_DO.get(key, "Correct it in the settings below."), offer)
    return Readiness(True, f"Ready: minimizes {config.loss} on {config.dataset['name']} for {config.epochs} "
                           f"epochs of batches of {config.batch_size}.")


class ReadinessBox(QFrame):
    """The panel's first line: green when Start can run, amber with the reason and the fix when not."""

    sig_use = Signal(dict)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("Readiness")
        self.state: Readiness = Readiness(False, "")
        self.text = QLabel(wordWrap=True)
        self.advice = QLabel(wordWrap=True)
        self.use_button = QPushButton("Use these settings")
        self.use_button.setToolTip("Store the proposed training set-up in the graph (Undo takes it back)")
        self.use_button.clicked.connect(lambda: self.state.proposal and self.sig_use.emit(self.state.proposal))
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.use_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.text)
        layout.addWidget(self.advice)
        layout.addLayout(row)

    def show_state(self, state: Readiness) -> None:
        self.state = state
        self.setStyleSheet(READY_STYLE if state.ready else BLOCKED_STYLE)
        self.text.setText(state.reason)
        self.advice.setText(state.advice)
        self.advice.setVisible(bool(state.advice))
        self.use_button.setVisible(state.proposal is not None)
