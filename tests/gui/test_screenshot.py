"""The main window as `--screenshot` renders it, compared with a stored picture.

The comparison is on a small grayscale thumbnail with a generous tolerance, so font
differences between machines do not matter but a missing panel or a blank canvas does.
Regenerate the reference after an intended change of look:

    QT_QPA_PLATFORM=offscreen PYTHONPATH=. python tests/gui/test_screenshot.py
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402

REFERENCE = Path(__file__).with_name("editor_reference.png")
THUMB = (160, 100)
TOLERANCE = 2.0  # mean absolute gray-level difference (0-255); an empty canvas differs by about 4.7


def thumbnail(image: QImage) -> np.ndarray:
    small = image.scaled(*THUMB, Qt.IgnoreAspectRatio, Qt.SmoothTransformation)
    gray = small.convertToFormat(QImage.Format_Grayscale8)
    rows = [np.frombuffer(gray.constScanLine(y), dtype=np.uint8, count=THUMB[0]) for y in range(THUMB[1])]
    return np.array(rows, dtype=np.float64)


def render_main_window(path: Path) -> QImage:
    """What `python main.py --screenshot path` writes (the lecture's MLP at 1600x1000)."""
    from gui.app import make_application, open_window, render_screenshot

    make_application([])
    window, error = open_window(None)
    assert error is None
    try:
        assert render_screenshot(window, str(path))
    finally:
        window.document.undo_stack.setClean()
        window.close()
    return QImage(str(path))


def test_main_window_matches_the_stored_picture(tmp_path):
    image = render_main_window(tmp_path / "editor.png")
    assert (image.width(), image.height()) == (1600, 1000)
    got = thumbnail(image)
    want = thumbnail(QImage(str(REFERENCE)))
    blank = np.full_like(want, want.mean())
    assert np.abs(want - blank).mean() > 2 * TOLERANCE  # the tolerance can tell a featureless window apart
    difference = np.abs(got - want).mean()
    assert difference < TOLERANCE, f"the window looks different (mean gray difference {difference:.1f})"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    render_main_window(REFERENCE)
    print(f"wrote {REFERENCE}")


def test_the_screenshot_command_line(tmp_path, capsys):
    import main

    out = tmp_path / "shot.png"
    example = Path(main.EXAMPLES) / "seed_vectors.json"
    assert main.main(["--screenshot", str(out), str(example)]) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1600, 1000)
    assert main.main(["--screenshot", str(tmp_path / "x.png"), str(tmp_path / "missing.json")]) == 2
    assert "missing.json" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
