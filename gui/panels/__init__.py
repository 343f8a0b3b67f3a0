"""Dockable panels around the canvas; each takes the graph or undo stack and knows no other panel."""
