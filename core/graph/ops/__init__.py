"""Importing this package fills the op registry, one module per family of ops."""
from . import compiler_ops, conv, elementwise, loss, network, reduce, sources, tensor  # noqa: F401
from . import tagging  # noqa: F401
