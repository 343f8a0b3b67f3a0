"""Loom's engine: graphs, compiler, devices, training and export, free of Qt."""
