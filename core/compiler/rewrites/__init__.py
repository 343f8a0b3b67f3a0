"""Rewrite passes, one module per phase; importing this package registers them all."""
from . import fold, fuse, inplace, merge, simplify, stabilize  # noqa: F401
from .base import REWRITES, RewriteRecord, Rewriter, graph_pass, rewrite, run_phase  # noqa: F401
