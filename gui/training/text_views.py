"""The Embeddings view (nearest neighbours of a typed word, a PCA map of chosen words) and the Tagger view
(a typed sentence with each token's predicted tag, coloured by entity type), both following the run.

A view asks for its numbers through `sig_request(task)`, a picklable task the training process runs with
the current weights (text_probes.py); while a run trains it asks again every REFRESH_MS, one request at
a time, and draws each answer with `show_result`.
"""
from __future__ import annotations

import functools
import html
from typing import Any, Optional

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget, QVBoxLayout, QWidget)

from .curves import style_plot
from .digits_views import Label
from .text_probes import EmbeddingResult, TagResult, neighbours_task, tag_task

REFRESH_MS = 1500
ENTITY_COLOURS = {"PER": "#d62728", "LOC": "#2ca02c", "ORG": "#1f77b4", "OTH": "#9467bd"}
MAP_WORDS = "berlin, hamburg, münchen, deutschland, frankreich, montag, dienstag, mai, juni, peter, michael, " \
            "spd, cdu, fc"


def entity_colour(tag: str) -> Optional[str]:
    """The colour of a tag's entity type (PERderiv and PERpart share PER's), None for O."""
    if tag == "O":
        return None
    kind = tag[2:]
    return next((c for t, c in ENTITY_COLOURS.items() if kind.startswith(t)), "#8c564b")


class LiveQueryView(QWidget):
    """A view whose numbers come from a task run in the training process, asked again while it trains."""

    sig_request = Signal(object)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.waiting = False
        self.stale = False                   # the query changed while an answer was on its way
        self.running = False
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.caption = QLabel()
        self.caption.setWordWrap(True)

    def task(self) -> Any:
        """The picklable task for the current query (None: nothing to ask)."""
        return None

    def refresh(self) -> None:
        """Ask for the current query's answer unless one is on its way."""
        task = self.task()
        if task is not None and self.waiting:
            self.stale = True
        elif task is not None:
            self.waiting = True
            self.sig_request.emit(task)

    def answered(self) -> None:
        """An answer arrived: ask again at once if the query changed meanwhile."""
        self.waiting = False
        if self.stale:
            self.stale = False
            self.refresh()

    def set_state(self, state: str) -> None:
        """Follow the run: ask again every REFRESH_MS while it runs, once more when it stops."""
        self.running = state == "running"
        if self.running:
            self.timer.start()
        else:
            self.timer.stop()
            self.waiting = False
            if state in ("paused", "finished", "stopped"):
                self.refresh()

    def no_run(self) -> None:
        """The request found no run to ask."""
        self.waiting = False
        self.show_message("Start (or step) a run of a text graph to see this view.")

    def show_message(self, text: str) -> None:
        """Say what the view shows, or why it shows nothing."""
        self.caption.setText(text)


class EmbeddingsView(LiveQueryView):
    """Nearest neighbours by cosine of a typed word, and a 2-D PCA map of chosen words."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.word = QLineEdit("berlin")
        self.word.setPlaceholderText("a word of the vocabulary")
        self.chosen = QLineEdit(MAP_WORDS)
        self.chosen.setPlaceholderText("words for the map, separated by commas")
        self.neighbours = QListWidget()
        self.neighbours.setMinimumWidth(220)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMenuEnabled(False)
        style_plot(self.plot.getPlotItem())
        self.points = pg.ScatterPlotItem(size=8, brush=pg.mkBrush(31, 119, 180, 200), pen=None)
        self.plot.addItem(self.points)
        self.labels: list[Label] = []
        self.show_message("Train a graph with word embeddings (word2vec, ner_window) to explore them.")
        form = QFormLayout()
        form.addRow("Word", self.word)
        form.addRow("Map", self.chosen)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(QLabel("Nearest by cosine"))
        left.addWidget(self.neighbours, 1)
        row = QHBoxLayout()
        row.addLayout(left, 0)
        row.addWidget(self.plot, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(row, 1)
        layout.addWidget(self.caption)
        self.word.returnPressed.connect(self.refresh)
        self.chosen.returnPressed.connect(self.refresh)
        self.result: Optional[EmbeddingResult] = None

    def task(self) -> Any:
        chosen = tuple(w.strip() for w in self.chosen.text().split(",") if w.strip())
        return functools.partial(neighbours_task, word=self.word.text().strip(), chosen=chosen)

    def show_result(self, result: Any) -> None:
        """Draw an EmbeddingResult (or say what went wrong)."""
        self.answered()
        if isinstance(result, Exception):
            self.show_message(f"No word vectors to show: {result}")
            return
        self.result = result
        self.neighbours.clear()
        for word, cosine in result.neighbours:
            self.neighbours.addItem(f"{cosine:+.3f}  {word}")
        self.points.setData(pos=result.coords)
        while len(self.labels) < len(result.map_words):
            self.labels.append(Label(self.points, centred=False, size=9))
        for k, label in enumerate(self.labels):
            x, y = result.coords[k] if k < len(result.map_words) else (0.0, 0.0)
            label.set(float(x), float(y), result.map_words[k] if k < len(result.map_words) else "")
        if len(result.coords):
            self.plot.autoRange(padding=0.15)
        what = f"'{result.word}'" if result.known else f"'{result.word}' is not in the vocabulary;"
        self.show_message(f"Step {result.step}, table '{result.node}': {what} nearest words by cosine; right: "
                          f"the map words on the table's first two principal components.")


class TaggerView(LiveQueryView):
    """A typed sentence with the predicted tag under each token, coloured by entity type."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.sentence = QLineEdit("Angela Merkel besucht am Montag die Siemens AG in München .")
        self.sentence.setPlaceholderText("type a German sentence")
        self.tags = QLabel()
        self.tags.setWordWrap(True)
        self.tags.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.tags.setStyleSheet("font-size: 15px;")
        legend = "  ".join(f'<span style="color:{c}"><b>■ {t}</b></span>' for t, c in ENTITY_COLOURS.items())
        self.legend = QLabel(legend + "  (deriv/part: the same colour)")
        self.legend.setWordWrap(True)   # a long line would set the views dock's minimum width
        self.show_message("Train a window tagger (ner_window) and type a sentence.")
        form = QFormLayout()
        form.addRow("Sentence", self.sentence)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        layout.addWidget(self.tags)
        layout.addStretch(1)
        layout.addWidget(self.legend)
        layout.addWidget(self.caption)
        self.sentence.returnPressed.connect(self.refresh)
        self.sentence.textChanged.connect(lambda _: self.refresh())
        self.result: Optional[TagResult] = None

    def task(self) -> Any:
        return functools.partial(tag_task, sentence=self.sentence.text())

    def show_result(self, result: Any) -> None:
        """Draw a TagResult (or say what went wrong)."""
        self.answered()
        if isinstance(result, Exception):
            self.show_message(f"Cannot tag: {result}")
            return
        self.result = result
        cells = []
        for token, tag in zip(result.tokens, result.tags):
            colour = entity_colour(tag)
            style = f"color:{colour}; font-weight:bold" if colour else "color:#52606d"
            cells.append(f'<td align="center" style="padding:2px 6px"><span style="{style}">{html.escape(token)}'
                         f'</span><br><span style="font-size:11px; {style}">{html.escape(tag)}</span></td>')
        self.tags.setText(f"<table><tr>{''.join(cells)}</tr></table>" if cells else "")
        found = sum(tag.startswith("B-") or (tag.startswith("I-") and (k == 0 or result.tags[k - 1] == "O"))
                    for k, tag in enumerate(result.tags))
        self.show_message(f"Step {result.step}: {len(result.tokens)} tokens, {found} entities found.")
