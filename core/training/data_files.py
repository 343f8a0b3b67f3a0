"""Reading the user's data files (CSV with a header row, NumPy ``.npz``) into arrays.

Every problem is a `DatasetError` whose message names the file and, where it applies, the row and column.
"""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.graph.errors import LoomError

CLASSIFICATION = "classification"
REGRESSION = "regression"


class DatasetError(LoomError):
    """A data set that cannot be loaded or does not fit the graph; the message says where."""


@dataclass(frozen=True)
class Samples:
    """All samples of a data set before the train/validation split.

    ``y`` holds int64 class indices when ``class_names`` is a tuple, float32 targets of shape (n, k) when
    ``class_names`` is None, and is None when the file was read without labels.
    """

    x: np.ndarray
    y: np.ndarray | None
    class_names: tuple[str, ...] | None


def resolve_path(path: str, base_dir: str | Path | None) -> Path:
    """Return ``path`` made absolute against ``base_dir`` (the graph file's folder), checking it is a file."""
    full = Path(base_dir or ".", path).expanduser().resolve()
    if not full.is_file():
        problem = "is a folder, not a file" if full.is_dir() else "file not found"
        raise DatasetError(f"{path}: {problem} (looked for {full})", file=str(full))
    return full


# ---- CSV


def load_csv(path: str, base_dir: str | Path | None, features: list[str] | None,
             label: list[str] | None, task: str) -> Samples:
    """Read feature and label columns of a CSV file whose first row names the columns.

    Parameters
    ----------
    path, base_dir
        The file as the user wrote it, and the folder it is relative to.
    features
        Feature columns in order; None takes every column that is not a label.
    label
        Label columns, or None to read features only. Classification takes exactly one column, whose values
        (numbers or words) become class indices 0..k-1 in sorted order.
    task
        ``"classification"`` or ``"regression"`` (float targets of shape (n, len(label))).

    Raises
    ------
    DatasetError
        On a missing file or column, a ragged row, or an empty, non-numeric or non-finite cell.
    """
    full = resolve_path(path, base_dir)
    header, rows = _read_rows(full, path)
    label = label or []
    features = features if features is not None else [c for c in header if c not in label]
    _check_columns(header, features + label, path, full)
    if not features:
        raise DatasetError(f"{path}: no feature columns left besides the label", file=str(full))
    x = np.stack([_number_column(rows, header.index(c), c, path, full) for c in features], axis=1)
    if not label:
        return Samples(x.astype(np.float32), None, None)
    if task == REGRESSION:
        y = np.stack([_number_column(rows, header.index(c), c, path, full) for c in label], axis=1)
        return Samples(x.astype(np.float32), y.astype(np.float32), None)
    if len(label) != 1:
        raise DatasetError(f"{path}: classification takes one label column, not {len(label)}", file=str(full))
    y, names = _class_column(rows, header.index(label[0]), label[0], path, full)
    return Samples(x.astype(np.float32), y, names)


def _read_rows(full: Path, shown: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Return the header and the non-blank data rows, each with its line number (the header is line 1)."""
    try:
        with open(full, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            rows = [(reader.line_num, cells) for cells in reader if cells]
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{shown}: not UTF-8 text ({exc.reason})", file=str(full)) from exc
    except csv.Error as exc:
        raise DatasetError(f"{shown}, row {reader.line_num}: {exc}", file=str(full), line=reader.line_num) from exc
    _check_header(header, shown, full)
    if not rows:
        raise DatasetError(f"{shown}: no data rows below the header", file=str(full))
    for line, cells in rows:
        if len(cells) != len(header):
            raise DatasetError(f"{shown}, row {line}: {len(cells)} cells but the header names {len(header)} "
                               f"columns", file=str(full), line=line)
    return header, rows


def _check_header(header: list[str], shown: str, full: Path) -> None:
    """Refuse a missing header, unnamed columns and repeated column names."""
    if not header:
        raise DatasetError(f"{shown}: the file is empty (a header row naming the columns is required)",
                           file=str(full))
    for index, name in enumerate(header):
        if not name:
            raise DatasetError(f"{shown}, row 1: column {index + 1} has no name", file=str(full), line=1)
        if name in header[:index]:
            raise DatasetError(f"{shown}, row 1: column '{name}' appears twice", file=str(full), line=1)


def _check_columns(header: list[str], wanted: list[str], shown: str, full: Path) -> None:
    """Raise when a column the configuration names is not in the header."""
    for name in wanted:
        if name not in header:
            available = ", ".join(f"'{c}'" for c in header)
            raise DatasetError(f"{shown}: no column '{name}' (columns: {available})", file=str(full))


def _number_column(rows: list[tuple[int, list[str]]], index: int, column: str, shown: str,
                   full: Path) -> np.ndarray:
    """Parse one column as finite float64 numbers, or raise naming the first bad cell."""
    try:
        values = np.array([float(cells[index]) for _, cells in rows], dtype=np.float64)
    except ValueError:
        values = None
    if values is None or not np.isfinite(values).all():
        for line, cells in rows:
            problem = _cell_problem(cells[index])
            if problem:
                raise DatasetError(f"{shown}, row {line}, column '{column}': {problem}", file=str(full), line=line)
    return values


def _cell_problem(text: str) -> str | None:
    """Say what keeps a cell from being a finite number, or None when it is one."""
    if not text.strip():
        return "empty cell"
    try:
        value = float(text)
    except ValueError:
        return f"'{text}' is not a number"
    if np.isnan(value):
        return "NaN (missing value)"
    return None if np.isfinite(value) else f"'{text}' is not finite"


def _class_column(rows: list[tuple[int, list[str]]], index: int, column: str, shown: str,
                  full: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map a label column to class indices 0..k-1, sorting numerically when every label is a number."""
    cells = [cells[index].strip() for _, cells in rows]
    for (line, _), cell in zip(rows, cells):
        if not cell:
            raise DatasetError(f"{shown}, row {line}, column '{column}': empty cell", file=str(full), line=line)
    names = tuple(_sorted_labels(set(cells)))
    lookup = {name: i for i, name in enumerate(names)}
    return np.array([lookup[cell] for cell in cells], dtype=np.int64), names


def _sorted_labels(labels: set[str]) -> list[str]:
    """Sort labels as numbers when all are numbers ("2" before "10"), else as text."""
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)


# ---- NPZ


def load_npz(path: str, base_dir: str | Path | None, features: str, label: str | None, task: str) -> Samples:
    """Read a features array and optionally a labels array from an ``.npz`` archive, never unpickling.

    Features must be numbers with the sample axis first; a 1-D array is read as one feature per sample.
    Classification labels (integers or strings, one per sample) become class indices 0..k-1 in sorted order;
    regression labels become float32 targets of shape (n, k).

    Raises
    ------
    DatasetError
        On a missing file or key, an object (pickled) array, non-numeric or non-finite values, or features
        and labels of different lengths.
    """
    full = resolve_path(path, base_dir)
    try:
        archive = np.load(full, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{path}: not a NumPy .npz archive ({exc})", file=str(full)) from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DatasetError(f"{path}: holds a single .npy array, not an .npz archive of named arrays",
                           file=str(full))
    with archive:
        x = _npz_features(_npz_array(archive, features, path, full), features, path, full)
        if label is None:
            return Samples(x, None, None)
        raw = _npz_array(archive, label, path, full)
    if len(raw) != len(x):
        raise DatasetError(f"{path}: features '{features}' have {len(x)} samples but labels '{label}' have "
                           f"{len(raw)}", file=str(full))
    if task == REGRESSION:
        return Samples(x, _npz_targets(raw, label, path, full), None)
    y, names = _npz_classes(raw, label, path, full)
    return Samples(x, y, names)


def _npz_array(archive: np.lib.npyio.NpzFile, key: str, shown: str, full: Path) -> np.ndarray:
    """Return one array of the archive, refusing missing keys, object arrays and scalars."""
    if key not in archive.files:
        keys = ", ".join(f"'{k}'" for k in archive.files) or "none"
        raise DatasetError(f"{shown}: no array '{key}' (arrays: {keys})", file=str(full))
    try:
        array = archive[key]
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise DatasetError(f"{shown}, array '{key}': holds Python objects; Loom never unpickles data files, "
                               f"save plain numeric arrays instead", file=str(full)) from exc
        raise DatasetError(f"{shown}, array '{key}': cannot be read ({exc})", file=str(full)) from exc
    if array.ndim == 0 or len(array) == 0:
        raise DatasetError(f"{shown}, array '{key}': has no samples (shape {array.shape})", file=str(full))
    return array


def _npz_features(array: np.ndarray, key: str, shown: str, full: Path) -> np.ndarray:
    """Check a features array is finite numbers and return it as float32 with at least one feature axis."""
    _check_numeric(array, key, "features", shown, full)
    return (array if array.ndim > 1 else array[:, None]).astype(np.float32)


def _npz_targets(array: np.ndarray, key: str, shown: str, full: Path) -> np.ndarray:
    """Check a regression labels array and return it as float32 of shape (n, k)."""
    _check_numeric(array, key, "regression targets", shown, full)
    return array.reshape(len(array), -1).astype(np.float32)


def _check_numeric(array: np.ndarray, key: str, role: str, shown: str, full: Path) -> None:
    """Raise unless ``array`` holds real numbers, all finite, naming the first bad element."""
    if array.dtype.kind not in "biuf":
        raise DatasetError(f"{shown}, array '{key}': {role} must be numbers, not dtype {array.dtype}",
                           file=str(full))
    bad = np.argwhere(~np.isfinite(array))
    if len(bad):
        where = ", ".join(str(i) for i in bad[0])
        raise DatasetError(f"{shown}, array '{key}': element [{where}] (sample {bad[0][0]}) is "
                           f"{array[tuple(bad[0])]}", file=str(full))


def _npz_classes(array: np.ndarray, key: str, shown: str, full: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map integer, boolean or string labels, one per sample, to class indices 0..k-1 in sorted order."""
    if array.ndim > 2 or (array.ndim == 2 and array.shape[1] != 1):
        raise DatasetError(f"{shown}, array '{key}': class labels must be one per sample, got shape "
                           f"{array.shape}", file=str(full))
    labels = array.reshape(-1)
    if labels.dtype.kind == "f":
        _check_numeric(labels, key, "labels", shown, full)
        if not np.all(labels == np.round(labels)):
            raise DatasetError(f"{shown}, array '{key}': class labels must be whole numbers or strings; use "
                               f"task 'regression' for continuous targets", file=str(full))
    elif labels.dtype.kind not in "biuUS":
        raise DatasetError(f"{shown}, array '{key}': class labels must be integers or strings, not dtype "
                           f"{labels.dtype}", file=str(full))
    names, y = np.unique(labels, return_inverse=True)
    return y.astype(np.int64), tuple(str(name) for name in names)


def file_columns(path: str, base_dir: str | Path | None) -> list[str]:
    """The names a data file offers for features and labels: a CSV's header, an ``.npz``'s array keys."""
    full = resolve_path(path, base_dir)
    if full.suffix.lower() == ".npz":
        try:
            with np.load(full, allow_pickle=False) as archive:
                return list(archive.files)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise DatasetError(f"{path}: not a NumPy .npz archive ({exc})", file=str(full)) from exc
    try:
        with open(full, newline="", encoding="utf-8-sig") as handle:
            header = [name.strip() for name in next(csv.reader(handle), [])]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path}: cannot read its header row ({exc})", file=str(full)) from exc
    _check_header(header, path, full)
    return header
