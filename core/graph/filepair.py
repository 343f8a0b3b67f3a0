"""A graph file and its weights saved as one pair: a reader sees the old pair or the new one, never a mix.

Two files cannot be renamed at once, so the graph records the SHA-256 of its weights
(`"weights": {"sha256": ...}`) and the weights wait under a staged name until the graph is in
place:

1. the new weights are written to `.model.<digest16>.npz` (the old `model.npz` is untouched);
2. the graph is renamed into place, naming that digest;
3. the staged weights are renamed over `model.npz`; leftovers of earlier saves are removed.

A kill between 2 and 3 leaves the new graph with the old `model.npz` and the staged file
beside it: the reader follows the digest to the staged file. A graph saved without weights
first moves the old `model.npz` aside under its own staged name, so the old graph still finds it.
"""
from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any, Callable, Optional

from .weights_file import file_digest

STAGED_DIGITS = 16


def weights_path(path: os.PathLike | str) -> Path:
    """The weights file that goes with a graph file: model.json -> model.npz."""
    return Path(path).with_suffix(".npz")


def staged_path(path: os.PathLike | str, digest: str) -> Path:
    """Where weights with this digest wait until their graph is in place."""
    companion = weights_path(path)
    return companion.with_name(f".{companion.stem}.{digest[:STAGED_DIGITS]}.npz")


def save_pair(path: Path, write_graph: Callable[[Optional[dict]], None],
              write_weights: Optional[Callable[[Path], None]]) -> None:
    """Save a graph and its weights (or none) so that every moment on disk is a readable pair.

    `write_weights(target)` writes the .npz atomically to `target`; `write_graph(record)` writes
    the graph atomically, recording `record` (None when there are no weights).
    """
    clean_stale(path)
    companion = weights_path(path)
    if write_weights is None:
        if companion.exists():
            os.replace(companion, staged_path(path, file_digest(companion)))
        write_graph(None)
    else:
        scratch = companion.with_name(f".{companion.stem}.new.npz")
        write_weights(scratch)
        digest = file_digest(scratch)
        staged = staged_path(path, digest)
        os.replace(scratch, staged)
        write_graph({"sha256": digest})
        os.replace(staged, companion)
    _sync_folder(path.parent)
    clean_stale(path)


def companion_to_read(path: Path, record: Any) -> Optional[Path]:
    """The weights file that belongs to the graph at `path`, given its `"weights"` record.

    No record (a file written by hand or by an older Loom): `model.npz` if present. A digest:
    `model.npz` if it matches, else the staged file of that digest (a save was cut short), else
    `model.npz` as it is (weights replaced by hand, say by `train --save-weights`), checked by shape.
    """
    companion = weights_path(path)
    digest = record.get("sha256") if isinstance(record, dict) else None
    if isinstance(digest, str) and len(digest) == 64:
        staged = staged_path(path, digest)
        if companion.exists() and file_digest(companion) == digest:
            return companion
        if staged.exists():
            return staged
    return companion if companion.exists() else None


def clean_stale(path: Path) -> None:
    """Remove what interrupted saves of this graph left: temporaries and staged weights not needed.

    Staged weights whose digest the graph on disk records are kept (they are its weights).
    """
    folder = path.parent if str(path.parent) else Path(".")
    companion = weights_path(path)
    needed = _recorded_digest(path)
    name, stem = glob.escape(path.name), glob.escape(companion.stem)
    digest = "[0-9a-f]" * STAGED_DIGITS
    patterns = (f".{name}.*.tmp", f".{stem}.npz.*.tmp", f".{stem}.{digest}.npz", f".{stem}.new.npz",
                f"..{stem}.new.npz.*.tmp")
    for pattern in patterns:
        for leftover in folder.glob(pattern):
            if needed and leftover == staged_path(path, needed) and not _matches(companion, needed):
                continue
            leftover.unlink(missing_ok=True)


def _recorded_digest(path: Path) -> Optional[str]:
    """The weights digest the graph file on disk records (None when it records none or is unreadable)."""
    import json

    try:
        if path.stat().st_size > 64 * 2**20:
            return None
        with open(path, "rb") as f:
            document = json.loads(f.read())
    except (OSError, ValueError, RecursionError):
        return None
    record = document.get("weights") if isinstance(document, dict) else None
    digest = record.get("sha256") if isinstance(record, dict) else None
    return digest if isinstance(digest, str) else None


def _matches(companion: Path, digest: str) -> bool:
    try:
        return file_digest(companion) == digest
    except OSError:
        return False


def _sync_folder(folder: Path) -> None:
    """Make the renames durable (best effort: not every file system allows opening a folder)."""
    try:
        fd = os.open(folder if str(folder) else ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
