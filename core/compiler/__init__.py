"""Turns graphs into fast step functions: autodiff, rewrites, fusion, scheduling, code generation."""
from .function import Function, clear_cache, compile  # noqa: E402,F401
