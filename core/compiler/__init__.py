"""Turns graphs into fast step functions: autodiff, rewrites, fusion, scheduling, code generation."""
