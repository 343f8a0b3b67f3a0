"""What the training process computes for the views between batches, at a low rate: the decision
boundary of a 2-D classifier, the digits' confusion matrix and misclassified samples, and the weight
and gradient histograms with the gradient on every wire.

Qt-free on purpose: these run in the training process (core/training/remote.py), which must not load
Qt. Each probe is pickled there by reference and returns a plain result the views draw.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from core.compiler import compile
from core.compiler.autodiff import differentiate
from core.graph import Graph
from core.training import Run

# Class colours (Tableau 10): class k is drawn in CLASS_COLOURS[k % 10] in every view.
CLASS_COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
                 (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


class Probe:
    """Something computed from a run in the training process at a low rate (a view's numbers).

    Subclasses set `name` and `interval` (seconds between computations while training runs: views
refresh at least twice a second; the training process stretches it for a probe too costly) and
    implement `compute(run)`, returning a picklable result the UI draws. `prepare(run)` runs once
    after the run is built.
    """

    name = "probe"
    interval = 0.5

    def prepare(self, run: Run) -> None:
        """Build what `compute` needs (compiled functions, fixed grids)."""

    def compute(self, run: Run) -> Any:
        """Return this probe's result for the run's current weights."""
        raise LookupError(self.name)


def image_side(feature_shape: tuple) -> Optional[tuple[int, int]]:
    """(height, width) when samples are square grey images (64 flat features, 1x8x8, 8x8), else None."""
    shape = tuple(feature_shape)
    if len(shape) == 3 and shape[0] == 1:
        shape = shape[1:]
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) == 1 and shape[0] >= 16:
        side = int(round(shape[0] ** 0.5))
        if side * side == shape[0]:
            return side, side
    return None


def mosaic(images: np.ndarray, side: tuple[int, int], cols: int, gap: int = 1) -> np.ndarray:
    """Tile images (n, h*w or n, 1, h, w) into one float array, rows of `cols`, with a `gap` of NaN."""
    h, w = side
    images = images.reshape(len(images), h, w)
    rows = max(1, -(-len(images) // cols))
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, dtype=np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = image
    return out


# ---- The decision boundary

GRID = 64          # 72 x 72 crossed a BLAS threading threshold: 7x the time of 64 x 64
SCORE_PORTS = ("logits", "scores", "x")


def score_source(graph: Graph, labels: Optional[str], loss: str) -> Optional[tuple[str, str]]:
    """The (node, port) holding per-class scores: what the loss or a metric compares with the labels.

    Looks at the ops reading the labels Input for a (N, classes) float input; None when there is none.
    """
    types = graph.types()
    readers = [e.dst for e in graph.out_edges(labels)] if labels else []
    for node in [loss] + readers:
        for port in SCORE_PORTS:
            source = graph.source(node, port) if port in graph.in_edges(node) else None
            kind = types.get(source) if source else None
            if kind is not None and kind.is_float and len(kind.shape) == 2 and kind.shape[0] == "N":
                return source
    return None


def probabilities_function(run: Run):
    """Compile features -> class probabilities (a Softmax pinned on the score source of a graph copy)."""
    cfg = run.config
    source = score_source(run.graph, cfg.labels, cfg.loss)
    if source is None:
        raise LookupError("nothing in this graph scores classes")
    graph = run.graph.copy()
    pin = graph.add_node("Softmax", {"axis": -1}, node_id=graph.unique_id("loom_view_probabilities"))
    graph.connect(source[0], source[1], pin, "x")
    return compile(graph, [*cfg.feature_inputs], [pin], weights=run.weights(), training=False)


def paint_classes(probabilities: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """An RGBA image: each pixel the colour of its likeliest class, paler the less sure the model is."""
    classes = probabilities.shape[1]
    best = probabilities.argmax(axis=1)
    confidence = (probabilities.max(axis=1) - 1.0 / classes) / (1.0 - 1.0 / classes)
    colours = np.array(CLASS_COLOURS, dtype=np.float32)[best % len(CLASS_COLOURS)]
    strength = 0.15 + 0.55 * np.clip(confidence, 0.0, 1.0)[:, None]
    rgb = 255.0 * (1.0 - strength) + colours * strength
    rgba = np.concatenate([rgb, np.full((len(rgb), 1), 255.0)], axis=1)
    return rgba.reshape(*shape, 4).astype(np.uint8)


@dataclass(frozen=True)
class BoundaryResult:
    """A painted grid over `rect` (x0, y0, width, height), the training points, and the step it shows."""

    image: np.ndarray
    rect: tuple[float, float, float, float]
    points: np.ndarray
    labels: np.ndarray
    step: int


class BoundaryProbe(Probe):
    """Evaluates the classifier's scores on a grid covering the training points."""

    name = "boundary"
    interval = 0.45

    def __init__(self, resolution: int = GRID) -> None:
        self.resolution = resolution
        self._fn = None

    @staticmethod
    def applies(graph: Graph, config) -> bool:
        """Whether the run's features are 2-D points and something scores classes."""
        feature = graph.types().get((config.feature_inputs[0], "y")) if len(config.feature_inputs) == 1 else None
        return (feature is not None and tuple(feature.shape[1:]) == (2,)
                and score_source(graph, config.labels, config.loss) is not None)

    def prepare(self, run: Run) -> None:
        if tuple(run.data.feature_shape) != (2,):
            raise LookupError("the features are not 2-D points")
        self._fn = probabilities_function(run)
        x = run.data.x_train
        low, high = x.min(axis=0), x.max(axis=0)
        pad = 0.08 * (high - low) + 1e-6
        low, high = low - pad, high + pad
        n = self.resolution
        xs = np.linspace(low[0], high[0], n, dtype=np.float32)
        ys = np.linspace(low[1], high[1], n, dtype=np.float32)
        gx, gy = np.meshgrid(xs, ys)
        self._grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
        step = (high - low) / (n - 1)
        self._rect = (float(low[0] - step[0] / 2), float(low[1] - step[1] / 2),
                      float(high[0] - low[0] + step[0]), float(high[1] - low[1] + step[1]))

    def compute(self, run: Run) -> BoundaryResult:
        self._fn.set_weights(run.weights())
        with np.errstate(all="ignore"):
            probabilities = np.nan_to_num(np.asarray(self._fn(self._grid)[0], dtype=np.float64))
        image = paint_classes(probabilities, (self.resolution, self.resolution))
        return BoundaryResult(image, self._rect, run.data.x_train, run.data.y_train, run.step_count)



# ---- Digits: confusion matrix and misclassified samples

CHUNK = 256         # larger chunks crossed a BLAS threading threshold: 3x the time
SHOWN = 24
COLS = 6


@dataclass(frozen=True)
class DigitsResult:
    """Confusion counts [true, predicted] and the first misclassified validation samples."""

    step: int
    confusion: np.ndarray
    mosaic: np.ndarray
    captions: list[str]
    side: tuple[int, int]
    accuracy: float


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """Counts of (true class, predicted class) pairs."""
    return np.bincount(truth * classes + predicted, minlength=classes * classes).reshape(classes, classes)


class DigitsProbe(Probe):
    """Predicts the whole validation set and tabulates the confusion matrix."""

    name = "digits"
    interval = 0.45

    @staticmethod
    def applies(graph: Graph, config) -> bool:
        """Whether the features are images and something scores classes."""
        feature = graph.types().get((config.feature_inputs[0], "y")) if len(config.feature_inputs) == 1 else None
        return (feature is not None and image_side(tuple(feature.shape[1:])) is not None
                and config.labels is not None and score_source(graph, config.labels, config.loss) is not None)

    def prepare(self, run: Run) -> None:
        self._side = image_side(run.data.feature_shape)
        if self._side is None or not run.data.num_classes:
            raise LookupError("the data are not class-labelled images")
        self._fn = probabilities_function(run)

    def compute(self, run: Run) -> DigitsResult:
        self._fn.set_weights(run.weights())
        x, y = run.data.x_val, run.data.y_val
        with np.errstate(all="ignore"):
            parts = [np.asarray(self._fn(x[i:i + CHUNK])[0]) for i in range(0, len(x), CHUNK)]
        probabilities = np.concatenate(parts)
        classes = max(run.data.num_classes, probabilities.shape[1])
        predicted = np.nan_to_num(probabilities).argmax(axis=1)
        wrong = np.flatnonzero(predicted != y)[:SHOWN]
        names = run.data.class_names or tuple(str(c) for c in range(classes))
        captions = [f"{_name(names, y[i])}→{_name(names, predicted[i])}" for i in wrong]
        tiles = mosaic(x[wrong], self._side, COLS, gap=2) if len(wrong) else np.zeros((1, 1), np.float32)
        return DigitsResult(run.step_count, confusion_matrix(y, predicted, classes), tiles, captions,
                            self._side, float(np.mean(predicted == y)))


def _name(names: tuple, k: int) -> str:
    return names[k] if 0 <= k < len(names) else str(k)



# ---- Weight and gradient histograms, gradient per wire

BINS = 30
KEEP = 8
PROBE_PREFIX = "loom_probe"

Histogram = tuple[np.ndarray, np.ndarray]   # (counts, bin edges)


@dataclass(frozen=True)
class GradientSnapshot:
    """Weights and gradients of each parameter at one step, and gradient RMS per wire of the user's graph."""

    step: int
    weights: dict[str, Histogram]
    grads: dict[str, Histogram]
    grad_rms: dict[str, float]
    edges: dict[tuple[str, str, str], float]


def histogram(values: np.ndarray) -> Histogram:
    """Counts over BINS equal bins spanning the finite values."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    flat = flat[np.isfinite(flat)]
    if not flat.size:
        return np.zeros(BINS), np.linspace(-1, 1, BINS + 1)
    low, high = float(flat.min()), float(flat.max())
    if high <= low:
        low, high = low - 0.5, high + 0.5
    return np.histogram(flat, bins=BINS, range=(low, high))


def probed_graph(graph: Graph, batch: int) -> tuple[Graph, dict[tuple[str, str], str]]:
    """A copy with a concrete batch size where each float wire source feeds `source + probe` onwards.

    Returns the copy and {(node, port): probe Parameter id}.
    """
    probed = graph.copy()
    for node in list(probed.nodes):
        if probed.op_name(node) == "Input":
            shape = list(probed.attrs(node)["shape"])
            if shape and shape[0] == "N":
                probed.set_attr(node, "shape", [batch] + shape[1:])
    types = probed.types()
    probes: dict[tuple[str, str], str] = {}
    for edge in graph.edges():
        source = (edge.src, edge.src_port)
        kind = types.get(source)
        if source in probes or kind is None or not kind.is_float or not kind.shape:
            continue
        if not all(isinstance(d, int) for d in kind.shape):
            continue
        probe = probed.add_node("Parameter", {"shape": list(kind.shape), "dtype": kind.dtype, "init": "zeros",
                                              "trainable": True}, node_id=probed.unique_id(PROBE_PREFIX))
        add = probed.add_node("Add", node_id=probed.unique_id(PROBE_PREFIX + "_add"))
        consumers = [e for e in probed.out_edges(edge.src) if e.src_port == edge.src_port]
        for e in consumers:
            probed.disconnect(e)
        probed.connect(edge.src, edge.src_port, add, "a")
        probed.connect(probe, "y", add, "b")
        for e in consumers:
            probed.connect(add, "y", e.dst, e.dst_port)
        probes[source] = probe
    return probed, probes


class GradientProbe(Probe):
    """Weight and gradient histograms per parameter, and gradient RMS per wire, on a fixed batch."""

    name = "gradients"
    interval = 0.45

    def prepare(self, run: Run) -> None:
        cfg = run.config
        size = min(cfg.batch_size, run.data.size())
        self._feeds = run.data.feeds(cfg.feature_inputs, "train", slice(0, size))
        if cfg.labels:
            self._feeds[cfg.labels] = run.data.y_train[:size]
        graph, self._probes = probed_graph(run.graph, size)
        self._graph, grads = differentiate(graph, cfg.loss)
        self._grads = grads.grads
        types = self._graph.types()
        self._zeros = {p: np.zeros(types[(p, "y")].shape, dtype=types[(p, "y")].dtype) for p in self._probes.values()}
        self._edges = [(e.src, e.src_port, e.dst, e.dst_port) for e in run.graph.edges()]
        # Compiled once: evaluating op by op cost ten times as much, too slow to refresh twice a second.
        self._fn = compile(self._graph, list(self._feeds), list(self._grads.values()),
                           weights={**run.weights(), **self._zeros}, training=False)

    def compute(self, run: Run) -> GradientSnapshot:
        weights = run.weights()
        self._fn.set_weights({**weights, **self._zeros})
        with np.errstate(all="ignore"):
            values = self._fn(*self._feeds.values())
        grads = {key: np.asarray(value) for key, value in zip(self._grads, values)}
        wire_rms = {source: float(np.sqrt(np.mean(np.square(grads[probe], dtype=np.float64))))
                    for source, probe in self._probes.items() if probe in grads}
        edges = {(src, dst, dport): wire_rms[(src, sport)] for src, sport, dst, dport in self._edges
                 if (src, sport) in wire_rms}
        params = {k: v for k, v in grads.items() if not k.startswith(PROBE_PREFIX)}
        return GradientSnapshot(run.step_count, {k: histogram(weights[k]) for k in params if k in weights},
                                {k: histogram(v) for k, v in params.items()},
                                {k: float(np.sqrt(np.mean(np.square(v, dtype=np.float64)))) for k, v in params.items()},
                                edges)

