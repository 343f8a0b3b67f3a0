"""What a data set is: its split arrays (`Dataset`), its options (`Option`) and its registry entry (`DatasetInfo`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from core.graph.errors import quoted
from core.training.data_files import DatasetError, Samples


@dataclass(frozen=True)
class Dataset:
    """Features and labels split into training and validation parts, ready for the training loop.

    `x_train`/`x_val` are one array, or a tuple of arrays (named by `feature_names`) for a data set that
    feeds several Inputs (`features: [...]`); `features(split)` gives both cases as a tuple.
    """

    name: str
    x_train: np.ndarray | tuple[np.ndarray, ...]
    y_train: np.ndarray
    x_val: np.ndarray | tuple[np.ndarray, ...]
    y_val: np.ndarray
    num_classes: int | None
    feature_shape: tuple[int, ...]
    description: str
    class_names: tuple[str, ...] = ()
    text: Any = None                     # a text set's TextInfo (vocabulary, tags, loaded vectors)
    feature_names: tuple[str, ...] = ()  # the arrays' names when x_train is a tuple

    def features(self, split: str = "train") -> tuple[np.ndarray, ...]:
        """The feature arrays of a split ("train" or "val"), one per feature Input, rows aligned."""
        x = self.x_train if split == "train" else self.x_val
        return x if isinstance(x, tuple) else (x,)

    def size(self, split: str = "train") -> int:
        """The number of samples (rows) in a split."""
        return len(self.features(split)[0])

    def feeds(self, inputs: tuple[str, ...], split: str = "train", rows: Any = slice(None)) -> dict[str, np.ndarray]:
        """{Input: rows of its array}: the i-th feature Input gets the i-th array (see `features`)."""
        return {name: part[rows] for name, part in zip(inputs, self.features(split))}


@dataclass(frozen=True)
class Option:
    """One setting of a data set: its default, its documentation and the values it accepts.

    ``kind`` is ``"int"``, ``"float"``, ``"choice"`` (one of ``choices``), ``"text"`` or ``"columns"`` (a
    column name or a list of them). ``low``/``high`` bound numbers, exclusively when ``exclusive`` is set.
    A default of None means "not set"; ``required`` marks an option the configuration must give.
    """

    name: str
    default: Any
    doc: str
    kind: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    exclusive: bool = False
    required: bool = False

    def read(self, config: dict[str, Any], dataset: str) -> Any:
        """Return this option's value from ``config`` (or its default), raising `DatasetError` if invalid."""
        if self.name not in config:
            if self.required:
                raise DatasetError(f"dataset '{dataset}': option '{self.name}' is required ({self.doc})")
            return self.default
        value = config[self.name]
        problem = self._problem(value)
        if problem:
            raise DatasetError(f"dataset '{dataset}', option '{self.name}': {quoted(value)} is not allowed ({problem})")
        return float(value) if self.kind == "float" else value

    def _problem(self, value: Any) -> str | None:
        """Say why ``value`` is not acceptable, or return None."""
        if self.kind in ("int", "float"):
            number_types = (int,) if self.kind == "int" else (int, float)
            if isinstance(value, bool) or not isinstance(value, number_types):
                return f"must be {'a whole number' if self.kind == 'int' else 'a number'}"
            return self._bounds_problem(value)
        if self.kind == "choice":
            return None if value in self.choices else "must be one of " + ", ".join(map(repr, self.choices))
        if self.kind == "columns" and isinstance(value, list):
            ok = bool(value) and all(isinstance(v, str) and v for v in value)
            return None if ok else "must be a column name or a non-empty list of column names"
        return None if isinstance(value, str) and value else "must be a non-empty text"

    def _bounds_problem(self, value: float) -> str | None:
        """Say which bound ``value`` breaks, or return None."""
        below = self.low is not None and (value <= self.low if self.exclusive else value < self.low)
        above = self.high is not None and (value >= self.high if self.exclusive else value > self.high)
        if not (below or above):
            return None
        if self.low is not None and self.high is not None:
            brackets = "()" if self.exclusive else "[]"
            return f"must lie in {brackets[0]}{self.low}, {self.high}{brackets[1]}"
        return f"must be {'>' if self.exclusive else '>='} {self.low}"


@dataclass(frozen=True)
class DatasetInfo:
    """A data set the chooser offers: its name, one line of documentation, options, and how to load it."""

    name: str
    doc: str
    options: tuple[Option, ...]
    loader: Callable[[dict[str, Any], Path | None], Samples] = field(repr=False)
    splits: bool = False                 # the loader makes the train/validation split itself
