"""The Device protocol: what a back end offers the compiler. Devices know nothing of graphs:
they allocate arrays, move them, and compile the kernels they are handed (as source text)."""
from __future__ import annotations

from typing import Any, Callable, Optional, Protocol, Sequence


class ElementwiseProgram(Protocol):
    """A compiled elementwise kernel; `bind` fixes the shapes and returns fn(*inputs, out)."""

    name: str

    def bind(self, out_shape: tuple, dtype: str, in_shapes: Sequence[tuple]) -> Callable: ...


class Device(Protocol):
    """A back end: its array module, transfers, and kernels compiled from source."""

    name: str
    xp: Any
    max_operands: int
    fallback_reason: Optional[str]

    def namespace(self) -> dict: ...

    def empty(self, shape: tuple, dtype: str) -> Any: ...

    def to_device(self, array: Any) -> Any: ...

    def to_host(self, array: Any) -> Any: ...

    def synchronize(self) -> None: ...

    def elementwise(self, name: str, cpu: Any, cuda: tuple[str, str, str]) -> ElementwiseProgram: ...

    def host_function(self, fn: Callable) -> Callable: ...


class DeviceError(RuntimeError):
    """A device that cannot be used (no driver, no GPU, out of memory); the message says which."""
