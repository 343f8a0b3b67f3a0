"""Importing this package fills the op registry, one module per family of ops."""
from . import conv, elementwise, loss, network, reduce, sources, tensor  # noqa: F401
