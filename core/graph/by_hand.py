"""Values by hand: typed values for Inputs, evaluation of the whole graph and each node's formula
with the numbers put in (`3 * x = 3 * 1 = 3`), as a teacher writes it on the board.

The typed text lives in the Input's ui dict under VALUE_KEY (presentation data the file keeps);
it is read as JSON numbers or the word "random", never evaluated.
"""
from __future__ import annotations

import json
import re
import zlib
from typing import TYPE_CHECKING, Optional

import numpy as np

from .errors import GraphError
from .executor import Evaluation, evaluate
from .params import init_params
from .types import BATCH, shape_str

if TYPE_CHECKING:
    from .graph import Graph

VALUE_KEY = "value"
RANDOM = "random"
FULL_SIZE = 6          # arrays up to this many numbers are shown in full
MAX_TEXT = 10_000      # a typed value longer than this is refused
NAME = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")


def parse_value(text: str, shape: tuple, dtype: str, node: Optional[str] = None) -> np.ndarray:
    """The array a typed value stands for: a number, nested lists of numbers, or "random".

    "random" draws normal numbers (seeded by the node id, so a rerun shows the same ones) of the
    declared shape, with the batch size N taken as 1. Raises GraphError naming the node when the
    text is no number list or its shape does not fit the declared one.
    """
    text = (text or "").strip()
    if text.lower() == RANDOM:
        concrete = tuple(1 if d == BATCH else d for d in shape)
        rng = np.random.default_rng(zlib.crc32((node or "").encode("utf-8")))
        return np.round(rng.normal(0.0, 1.0, concrete), 2).astype(dtype)
    if len(text) > MAX_TEXT:
        raise GraphError("the value is too long to type by hand", node=node)
    try:
        raw = json.loads(text, parse_constant=_refuse)
        if not _numbers_only(raw):
            raise ValueError("not numbers")
        array = np.asarray(raw, dtype=np.float64)
    except (ValueError, TypeError, RecursionError):
        raise GraphError(f"'{_clip(text)}' is not a number, a list of numbers or \"random\"", node=node) from None
    if not np.all(np.isfinite(array)):
        raise GraphError("the value must be finite numbers", node=node)
    if array.ndim != len(shape) or any(d != BATCH and d != n for d, n in zip(shape, array.shape)):
        raise GraphError(f"typed a value of shape {shape_str(array.shape)}, the input needs {shape_str(shape)}",
                         node=node)
    if dtype == "int64" and not np.all(array == np.round(array)):
        raise GraphError("an int64 input needs whole numbers", node=node)
    return array.astype(dtype)


def hand_feeds(graph: "Graph") -> dict[str, np.ndarray]:
    """The typed value of every Input that has one."""
    feeds = {}
    for node_id in graph.nodes:
        if graph.op_name(node_id) != "Input":
            continue
        text = graph.ui(node_id).get(VALUE_KEY)
        if isinstance(text, str) and text.strip():
            attrs = graph.attrs(node_id)
            feeds[node_id] = parse_value(text, tuple(attrs["shape"]), attrs["dtype"], node_id)
    return feeds


def missing_values(graph: "Graph") -> list[str]:
    """The Inputs with no typed value (evaluation by hand needs them all)."""
    return [n for n in graph.nodes if graph.op_name(n) == "Input"
            and not str(graph.ui(n).get(VALUE_KEY) or "").strip()]


def evaluate_by_hand(graph: "Graph", weights: Optional[dict] = None) -> tuple[Evaluation, dict]:
    """Evaluate every node with the typed values; returns (evaluation, weights used).

    Parameters without a value in `weights` are drawn as training would draw them (seed 0).
    Raises GraphError naming the first Input without a value, or what the executor raises.
    """
    missing = missing_values(graph)
    if missing:
        raise GraphError("type a value for this input first (Inspector ▸ value)", node=missing[0])
    used = init_params(graph, seed=0, given={k: v for k, v in (weights or {}).items()
                                              if k in graph.analysis().params})
    return evaluate(graph, hand_feeds(graph), used), used


def format_array(value: np.ndarray, digits: int = 4) -> str:
    """Numbers as a user reads them: 7, 0.2109, [0.21, 0.07], [[1, 2], [3, 4]]; a big array as its shape."""
    value = np.asarray(value)
    if value.size > FULL_SIZE:
        return f"<{'x'.join(str(d) for d in value.shape)} array>"
    if value.ndim == 0:
        return _number(value.item(), digits)
    return "[" + ", ".join(format_array(v, digits) for v in value) + "]"


def summarize(value: np.ndarray) -> str:
    """What the canvas shows under a node: small values in full, larger ones as shape and statistics."""
    value = np.asarray(value)
    if value.size <= FULL_SIZE:
        return "= " + format_array(value)
    data = value.astype(np.float64)
    shape = "(" + ", ".join(str(d) for d in value.shape) + ")"
    return (f"{shape} mean {_number(float(np.mean(data)), 3)}\n"
            f"min {_number(float(np.min(data)), 3)} max {_number(float(np.max(data)), 3)}")


def formula(graph: "Graph", node_id: str, evaluation: Evaluation) -> str:
    """The node's computation with names, then with numbers put in, then the result.

    From the op's declaration: an elementwise op's scalar expression (`a * b` -> `3 * x = 3 * 1 = 3`),
    any other op as a call over its input ports (`MatMul(a, b) = ...`).
    """
    spec = graph.spec(node_id)
    attrs = graph.attrs(node_id)
    ports = spec.input_names(attrs)
    names, numbers = {}, {}
    for port in ports:
        source = graph.source(node_id, port)
        value = evaluation.values.get(source) if source else None
        names[port] = _operand_name(graph, source, value)
        numbers[port] = format_array(value) if value is not None else names[port]
    result = evaluation.values.get((node_id, spec.output_names()[0]))
    result_text = format_array(result) if result is not None else "?"
    if not ports:
        return f"{node_id} = {result_text}"
    if spec.expr is not None:
        with_names = _substitute(spec.expr, names, attrs)
        with_numbers = _substitute(spec.expr, numbers, attrs)
    else:
        with_names = f"{spec.name}({', '.join(names[p] for p in ports)})"
        with_numbers = f"{spec.name}({', '.join(numbers[p] for p in ports)})"
    parts = [with_names] + ([with_numbers] if with_numbers != with_names else []) + [result_text]
    return " = ".join(parts)


def _operand_name(graph: "Graph", source: Optional[tuple[str, str]], value) -> str:
    if source is None:
        return "?"
    if graph.op_name(source[0]) == "Constant" and value is not None and np.size(value) == 1:
        return format_array(value)
    return source[0]


def _substitute(expr: str, values: dict, attrs: dict) -> str:
    def put(match: re.Match) -> str:
        word = match.group(0)
        if word in values:
            return values[word]
        if word in attrs and isinstance(attrs[word], (int, float)):
            return _number(float(attrs[word]), 4)
        return word

    return NAME.sub(put, expr)


def _number(x, digits: int) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(int(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.{digits}g}"


def _numbers_only(raw) -> bool:
    if isinstance(raw, list):
        return all(_numbers_only(item) for item in raw)
    return isinstance(raw, (int, float)) and not isinstance(raw, bool)


def _clip(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _refuse(name: str) -> None:
    raise ValueError(f"{name} is not a number")
