"""Loom's desktop editor (PySide6): the canvas, the panels and the main window that wires them."""
