"""Weights files (.npz) read as data: every member's declared size, dtype and shape is checked
before a byte of it is inflated, so a bomb, a pickle or a lying header is refused, not run.

An .npz is a zip of .npy members; reading the zip and each .npy header by hand (never
np.load) keeps the caps ahead of the allocation.
"""
from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import IO, Optional, Union

import numpy as np

from .errors import GraphFileError, quoted

MAX_WEIGHT_BYTES = 1 << 30       # all members together, as inflated (the JSON is capped at 64 MiB)
MAX_MEMBERS = 10_000
PathLike = Union[str, Path]


def read_weights(path: PathLike, expected: Optional[dict[str, tuple]] = None) -> dict[str, np.ndarray]:
    """The arrays of a weights .npz, checked member by member before they are read.

    `expected` maps keys to shapes (the graph's parameters): a member it does not name, or of
    another shape, is refused from its header alone. Raises GraphFileError naming the file.
    """
    source = str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_directory(members, expected, source)
            return {info.filename[:-4]: _read_member(archive, info, expected, source) for info in members}
    except FileNotFoundError:
        raise GraphFileError("the weights file does not exist", file=source) from None
    except zipfile.BadZipFile:
        raise GraphFileError("not a readable weights file (not an .npz archive: a zip of .npy arrays)",
                             file=source) from None
    except (OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as e:
        raise GraphFileError(f"not a readable weights file ({quoted(str(e), 200, raw=True)})",
                             file=source) from None


def file_digest(path: PathLike) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_directory(members: list, expected: Optional[dict], source: str) -> None:
    if len(members) > MAX_MEMBERS:
        raise GraphFileError(f"the weights file holds {len(members):,} members; at most {MAX_MEMBERS:,}",
                             file=source)
    names = set()
    total = 0
    for info in members:
        name = info.filename
        if not name.endswith(".npy") or info.is_dir():
            raise GraphFileError(f"member {quoted(name)} is not an .npy array", file=source)
        if name in names:
            raise GraphFileError(f"member {quoted(name)} appears twice", file=source)
        names.add(name)
        key = name[:-4]
        if expected is not None and key not in expected:
            raise GraphFileError(f"array {quoted(key)} matches no parameter of the graph", file=source)
        total += info.file_size
    if total > MAX_WEIGHT_BYTES:
        raise GraphFileError(f"the weights would inflate to {total / 2**20:,.0f} MiB; "
                             f"weights files hold at most {MAX_WEIGHT_BYTES // 2**20} MiB", file=source)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, expected: Optional[dict],
                 source: str) -> np.ndarray:
    key = info.filename[:-4]
    with archive.open(info) as f:
        shape, fortran, dtype = _read_header(f, key, source)
        if expected is not None and shape != tuple(expected[key]):
            raise GraphFileError(f"array {quoted(key)} has shape {shape}, the graph needs "
                                 f"{tuple(expected[key])}", file=source)
        count = 1
        for d in shape:
            count *= d
        nbytes = count * dtype.itemsize
        if nbytes > info.file_size:
            raise GraphFileError(f"array {quoted(key)} declares {shape} {dtype} but the member holds "
                                 f"only {info.file_size:,} bytes", file=source)
        data = f.read(nbytes)
    if len(data) != nbytes:
        raise GraphFileError(f"array {quoted(key)} is truncated", file=source)
    array = np.frombuffer(data, dtype=dtype)
    return array.reshape(shape, order="F" if fortran else "C").copy()


def _read_header(f: IO[bytes], key: str, source: str) -> tuple[tuple, bool, np.dtype]:
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=10_000)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=10_000)
        else:
            raise ValueError(f"unknown .npy version {version}")
    except (ValueError, SyntaxError, TypeError, EOFError) as e:
        raise GraphFileError(f"array {quoted(key)} has no readable .npy header "
                             f"({quoted(str(e), 120, raw=True)})", file=source) from None
    if dtype.hasobject or dtype.kind not in "fiu" or dtype.fields is not None or dtype.subdtype is not None:
        raise GraphFileError(f"array {quoted(key)} holds {quoted(str(dtype), 40, raw=True)}, not numbers",
                             file=source)
    if len(shape) > 8 or any(not isinstance(d, int) or d < 0 for d in shape):
        raise GraphFileError(f"array {quoted(key)} declares an impossible shape", file=source)
    return tuple(shape), bool(fortran), dtype
