"""The fuzz suite shares the GUI tests' window fixture (offscreen, dialogs that never block)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("gui_test_fixtures", Path(__file__).parents[1] / "gui" / "conftest.py")
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)
window = _fixtures.window
