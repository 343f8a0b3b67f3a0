"""Data sets to train on: TensorFlow-Playground-style 2-D sets, scikit-learn's 8x8 digits and the user's files.

`load_dataset` turns the dataset part of a graph's training configuration into a `Dataset` with a fixed,
seeded train/validation split; `DATASETS` describes every set and its options for the GUI chooser.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any, Callable

import numpy as np

from core.graph.errors import quoted
from core.training.data_files import CLASSIFICATION, REGRESSION, DatasetError, Samples, load_csv, load_npz
from core.training.dataset_types import Dataset, DatasetInfo, Option
from core.training.text_datasets import TEXT_DATASETS

__all__ = ["DATASETS", "Dataset", "DatasetError", "DatasetInfo", "LABEL_KINDS", "Option", "check_fits",
           "load_dataset"]

LABEL_KINDS = ("classes", "targets", "none")
MAX_SAMPLES = 1_000_000   # generated points: 1e6 take 16 MB; 1e8 would take 4.8 GB and minutes


# ---- the 2-D sets (TensorFlow Playground), coordinates roughly in [-1, 1]


def _xor(o: dict[str, Any]) -> Samples:
    """Uniform points in the square, pushed off the axes; class 1 where x and y have the same sign."""
    rng = np.random.default_rng(o["seed"])
    points = rng.uniform(-1.0, 1.0, size=(o["samples"], 2))
    points += np.where(points >= 0, 0.1, -0.1)
    labels = points[:, 0] * points[:, 1] > 0
    return _planar(points + rng.normal(0.0, o["noise"], points.shape), labels, 2)


def _blobs(o: dict[str, Any]) -> Samples:
    """Gaussian blobs, one per class, centred evenly on a circle of radius 0.6."""
    rng = np.random.default_rng(o["seed"])
    labels = np.arange(o["samples"]) % o["classes"]
    angles = 2 * np.pi * np.arange(o["classes"]) / o["classes"]
    centres = 0.6 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return _planar(centres[labels] + rng.normal(0.0, o["noise"], (len(labels), 2)), labels, o["classes"])


def _moons(o: dict[str, Any]) -> Samples:
    """Two interleaved half circles (class 0 on top), scaled to x in [-1, 1]."""
    rng = np.random.default_rng(o["seed"])
    labels = np.arange(o["samples"]) % 2
    t = rng.uniform(0.0, np.pi, len(labels))
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    points = (np.where(labels[:, None] == 0, upper, lower) - [0.5, 0.25]) * (2 / 3)
    return _planar(points + rng.normal(0.0, o["noise"], points.shape), labels, 2)


def _circles(o: dict[str, Any]) -> Samples:
    """A disc of radius 0.5 (class 1) inside a ring from radius 0.7 to 1 (class 0)."""
    rng = np.random.default_rng(o["seed"])
    labels = np.arange(o["samples"]) % 2
    inner_sq, outer_sq = np.where(labels == 1, 0.0, 0.49), np.where(labels == 1, 0.25, 1.0)
    radius = np.sqrt(rng.uniform(inner_sq, outer_sq))
    angle = rng.uniform(0.0, 2 * np.pi, len(labels))
    points = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return _planar(points + rng.normal(0.0, o["noise"], points.shape), labels, 2)


def _spirals(o: dict[str, Any]) -> Samples:
    """Two interleaved spirals of 1.75 turns from the centre out to radius 1, half a turn apart."""
    rng = np.random.default_rng(o["seed"])
    labels = np.arange(o["samples"]) % 2
    progress = (np.arange(o["samples"]) // 2) / ((o["samples"] + 1) // 2)
    angle = 1.75 * 2 * np.pi * progress + np.pi * labels
    points = progress[:, None] * np.stack([np.sin(angle), np.cos(angle)], axis=1)
    return _planar(points + rng.normal(0.0, o["noise"], points.shape), labels, 2)


def _planar(points: np.ndarray, labels: np.ndarray, classes: int) -> Samples:
    """Package 2-D points and class labels with the house dtypes."""
    return Samples(points.astype(np.float32), labels.astype(np.int64), tuple(str(c) for c in range(classes)))


# ---- digits and files


@functools.cache
def _digit_arrays() -> tuple[np.ndarray, np.ndarray]:
    """Return scikit-learn's bundled 8x8 digits, scaled to [0, 1], and their labels (read once).

    The CSV is read where scikit-learn keeps it, without importing scikit-learn: that import
    (SciPy's statistics come with it) takes 2 s here, longer than training the lecture's MLP.
    """
    path = _sklearn_digits_csv()
    if path is not None:
        table = np.loadtxt(path, delimiter=",")
        data, target = table[:, :-1], table[:, -1]
    else:                                  # a scikit-learn that keeps its data elsewhere
        from sklearn.datasets import load_digits

        bunch = load_digits()
        data, target = bunch.data, bunch.target
    return (data / 16.0).astype(np.float32), target.astype(np.int64)


def _sklearn_digits_csv() -> Path | None:
    spec = importlib.util.find_spec("sklearn")      # finds the package without running it
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    return path if path.is_file() else None


def _digits(o: dict[str, Any]) -> Samples:
    """The 1,797 handwritten 8x8 digits, flat (64 features) or as 1x8x8 images."""
    x, y = _digit_arrays()
    x = x.reshape(-1, 1, 8, 8) if o["layout"] == "image" else x
    return Samples(x, y, tuple(str(d) for d in range(10)))


def _csv(o: dict[str, Any], base_dir: Path | None) -> Samples:
    """Columns of a CSV file."""
    return load_csv(o["path"], base_dir, _as_list(o["features"]), _file_label(o, "csv"), o["task"])


def _npz(o: dict[str, Any], base_dir: Path | None) -> Samples:
    """Arrays of an .npz archive."""
    label = _file_label(o, "npz")
    return load_npz(o["path"], base_dir, o["features"], label[0] if label else None, o["task"])


def _file_label(o: dict[str, Any], dataset: str) -> list[str] | None:
    """Return the label column(s) to read, or None when the targets are the features."""
    if o["target"] == "features":
        return None
    if o["label"] is None:
        raise DatasetError(f"dataset '{dataset}': option 'label' is required unless target is 'features'")
    return _as_list(o["label"])


def _as_list(columns: str | list[str] | None) -> list[str] | None:
    """Return a column option as a list of names (None stays None)."""
    return [columns] if isinstance(columns, str) else columns


# ---- the registry


def _generated(loader: Callable[[dict[str, Any]], Samples]) -> Callable[[dict[str, Any], Path | None], Samples]:
    """Adapt a loader that reads no files to the registry's (options, base_dir) signature."""
    return lambda options, base_dir: loader(options)


def _samples(default: int) -> Option:
    return Option("samples", default, "number of points, before the train/validation split", "int", low=2,
                  high=MAX_SAMPLES)


def _noise(default: float) -> Option:
    return Option("noise", default, "standard deviation of the Gaussian jitter added to each coordinate",
                  "float", low=0.0)


def _file_options(features_default: str | None, label_default: str | None, what: str,
                  kind: str) -> tuple[Option, ...]:
    return (Option("path", None, "the file, relative to the graph file's folder", "text", required=True),
            Option("features", features_default, f"{what} holding the features", kind),
            Option("label", label_default, f"{what} holding the labels", kind),
            Option("task", CLASSIFICATION, "classification (class labels) or regression (float targets)",
                   "choice", choices=(CLASSIFICATION, REGRESSION)))


_COMMON = (Option("seed", 0, "seed of the random generator and of the train/validation split", "int", low=0),
           Option("val_fraction", 0.2, "share of the samples held out for validation", "float", low=0.0, high=1.0,
                  exclusive=True),
           Option("target", "labels", "what the network should output: the labels, or its own input "
                  "(autoencoder)", "choice", choices=("labels", "features")))

DATASETS: dict[str, DatasetInfo] = {info.name: info for info in (
    DatasetInfo("xor", "four squares, opposite corners share a class (2 classes)",
                (_samples(400), _noise(0.05)) + _COMMON, _generated(_xor)),
    DatasetInfo("blobs", "Gaussian clouds around a circle, one per class",
                (_samples(1000), _noise(0.15), Option("classes", 3, "number of blobs", "int", low=2, high=1000)) + _COMMON,
                _generated(_blobs)),
    DatasetInfo("moons", "two interleaved half circles (2 classes)",
                (_samples(1000), _noise(0.07)) + _COMMON, _generated(_moons)),
    DatasetInfo("circles", "a disc inside a ring (2 classes)",
                (_samples(1000), _noise(0.05)) + _COMMON, _generated(_circles)),
    DatasetInfo("spirals", "two interleaved spirals (2 classes), the hard one",
                (_samples(1000), _noise(0.03)) + _COMMON, _generated(_spirals)),
    DatasetInfo("digits", "1,797 handwritten 8x8 digits from scikit-learn (10 classes)",
                (Option("layout", "flat", "flat: 64 features in [0, 1]; image: 1x8x8", "choice",
                        choices=("flat", "image")),) + _COMMON, _generated(_digits)),
    DatasetInfo("csv", "columns of a CSV file with a header row",
                _file_options(None, None, "column(s)", "columns") + _COMMON, _csv),
    DatasetInfo("npz", "arrays of a NumPy .npz file", _file_options("x", "y", "array", "text") + _COMMON, _npz),
    *TEXT_DATASETS,
)}


# ---- loading


def load_dataset(config: dict[str, Any], base_dir: str | Path | None = None) -> Dataset:
    """Load the data set a training configuration names and split it into training and validation parts.

    Parameters
    ----------
    config
        The dataset part of a graph's training configuration, e.g. ``{"name": "spirals", "noise": 0.1}``;
        see `DATASETS` for each set's options and defaults.
    base_dir
        Folder that relative file paths start from (the graph file's folder); None means the working folder.

    Returns
    -------
    Dataset
        Float32 features; int64 class labels, or float32 targets when the task is regression or the
        target is the features. The same configuration always gives bit-identical arrays.

    Raises
    ------
    DatasetError
        On an unknown name or option, a bad option value, or a file that cannot be read.
    """
    info = _info_for(config)
    unknown = sorted(set(config) - {"name"} - {option.name for option in info.options})
    if unknown:
        known = ", ".join(option.name for option in info.options)
        raise DatasetError(f"dataset '{info.name}': unknown option '{unknown[0]}' (options: {known})")
    options = {option.name: option.read(config, info.name) for option in info.options}
    if info.splits:
        return info.loader(options, Path(base_dir) if base_dir is not None else None)
    samples = info.loader(options, Path(base_dir) if base_dir is not None else None)
    name = options.get("path") or info.name
    if options["target"] == "features":
        samples = Samples(samples.x, samples.x.astype(np.float32), None)
    return _split(name, samples, options["val_fraction"], options["seed"])


def _info_for(config: dict[str, Any]) -> DatasetInfo:
    """Return the registry entry a configuration names."""
    known = ", ".join(sorted(DATASETS))
    if not isinstance(config, dict) or "name" not in config:
        raise DatasetError(f"the dataset configuration must be a mapping with a 'name' (known: {known})")
    if not isinstance(config["name"], str) or config["name"] not in DATASETS:
        raise DatasetError(f"unknown dataset {quoted(config['name'])} (known: {known})")
    return DATASETS[config["name"]]


def _split(name: str, samples: Samples, val_fraction: float, seed: int) -> Dataset:
    """Split samples with a permutation seeded by ``seed`` into training and validation parts."""
    total = len(samples.x)
    n_val = round(total * val_fraction)
    if not 0 < n_val < total:
        raise DatasetError(f"dataset '{name}': val_fraction {val_fraction} of {total} samples leaves "
                           f"{n_val} for validation and {total - n_val} for training; each needs at least one")
    order = np.random.default_rng([seed, 1]).permutation(total)
    train, val = order[n_val:], order[:n_val]
    num_classes = len(samples.class_names) if samples.class_names is not None else None
    feature_shape = tuple(int(d) for d in samples.x.shape[1:])
    description = _describe(name, num_classes, samples.y.shape[1:], feature_shape, len(train), len(val))
    return Dataset(name, samples.x[train], samples.y[train], samples.x[val], samples.y[val], num_classes,
                   feature_shape, description, samples.class_names or ())


def _describe(name: str, num_classes: int | None, target_shape: tuple[int, ...], feature_shape: tuple[int, ...],
              n_train: int, n_val: int) -> str:
    """One line for the GUI, e.g. ``"spirals: 2 classes, 2 features, 800 train / 200 val"``."""
    if num_classes is not None:
        labels = f"{num_classes} classes"
    else:
        labels = "targets of shape " + _shape_text(target_shape)
    if len(feature_shape) == 1:
        features = f"{feature_shape[0]} features"
    else:
        features = "features of shape " + _shape_text(feature_shape)
    return f"{name}: {labels}, {features}, {n_train} train / {n_val} val"


def _shape_text(shape: tuple[int, ...]) -> str:
    """Write a shape as ``1x8x8``."""
    return "x".join(str(d) for d in shape)


# ---- fitting a graph


def check_fits(dataset: Dataset, feature_shape: tuple, label_kind: str, *, input_name: str | None = None,
               part: int = 0) -> None:
    """Raise `DatasetError` when a data set cannot feed a graph's Input and label.

    Parameters
    ----------
    dataset
        The loaded data set.
    feature_shape
        The Input's shape without the batch dimension; a dimension that is None or a string (symbolic)
        matches any size.
    label_kind
        What the graph's label port expects: ``"classes"`` (int class indices), ``"targets"`` (float
        targets) or ``"none"`` (no labels are used).
    input_name
        The Input node's id, named in the message and the error's ``node``.
    part
        Which of the data set's feature arrays feeds that Input (see `Dataset.features`).
    """
    if label_kind not in LABEL_KINDS:
        raise ValueError(f"label_kind must be one of {LABEL_KINDS}, not {label_kind!r}")
    where = f"Input '{input_name}'" if input_name else "the Input"
    wanted = tuple(feature_shape)
    given = dataset.feature_shape if part == 0 else tuple(dataset.features()[part].shape[1:])
    fits = len(wanted) == len(given) and all(w is None or isinstance(w, str) or w == d for w, d in zip(wanted, given))
    if not fits:
        what = f"features '{dataset.feature_names[part]}'" if dataset.feature_names else "features"
        raise DatasetError(f"dataset '{dataset.name}' gives {what} of shape {given} but {where} "
                           f"expects {wanted}", node=input_name)
    if label_kind == "classes" and dataset.num_classes is None:
        raise DatasetError(f"dataset '{dataset.name}' gives float targets but the graph expects class labels",
                           node=input_name)
    if label_kind == "targets" and dataset.num_classes is not None:
        raise DatasetError(f"dataset '{dataset.name}' gives class labels ({dataset.num_classes} classes) but the "
                           f"graph expects float targets", node=input_name)
