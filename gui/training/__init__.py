"""Live training in the editor: the training panel, curves, views that teach, and seeing inside.

`install_training(window)` (install.py) adds it all to the main window.
"""
