"""Errors a user can see: each carries where it happened (node, port, file, line)."""
from __future__ import annotations


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
            where.append(str(self.file) + (f":{self.line}" if self.line else ""))
        if self.node:
            where.append(f"node '{self.node}'" + (f", port '{self.port}'" if self.port else ""))
        return f"{', '.join(where)}: {self.message}" if where else self.message


class GraphError(LoomError):
    """An edit or a query that does not fit the graph (unknown node, port already fed, ...)."""


class ShapeError(LoomError):
    """Shape or dtype inference failed for a node; validate() turns it into a diagnostic."""


class GraphFileError(LoomError):
    """A graph or weights file that cannot be read; nothing was loaded."""
