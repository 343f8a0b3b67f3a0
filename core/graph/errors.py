"""Errors a user can see: each carries where it happened (node, port, file, line)."""
from __future__ import annotations

import reprlib


class LoomError(Exception):
    """A failure to show a user, tied to the place it happened."""

    def __init__(self, message: str, *, node: str | None = None, port: str | None = None,
                 file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
        self.port = port
        self.file = file
        self.line = line

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(quoted(self.file, 240, raw=True) + (f":{self.line}" if self.line else ""))
        if self.node:
            where.append(f"node {quoted(self.node)}" + (f", port {quoted(self.port)}" if self.port else ""))
        return f"{', '.join(where)}: {self.message}" if where else self.message


class GraphError(LoomError):
    """An edit or a query that does not fit the graph (unknown node, port already fed, ...)."""


class ShapeError(LoomError):
    """Shape or dtype inference failed for a node; validate() turns it into a diagnostic."""


class GraphFileError(LoomError):
    """A graph or weights file that cannot be read; nothing was loaded."""



MAX_QUOTE = 80
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict = 3, 8, 8, 8
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = MAX_QUOTE


def quoted(value: object, limit: int = MAX_QUOTE, *, raw: bool = False) -> str:
    """User data as an error message may quote it: repr'd (or as is, `raw`), cut to about `limit` characters.

    Every message that echoes something from a file, the clipboard or the command line goes
    through here, so a 50 MB node id cannot become a 50 MB message.
    """
    if isinstance(value, str):
        text = value[:limit] if raw else repr(value[:limit])
        return text if len(value) <= limit else f"{text}... ({len(value):,} characters)"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * limit:
        return f"an integer of about {int(value.bit_length() * 0.30103):,} digits"
    try:
        text = _REPR.repr(value)
    except (RecursionError, ValueError):
        return f"a deeply nested {type(value).__name__}"
    return text if len(text) <= limit else f"{text[:limit]}..."
