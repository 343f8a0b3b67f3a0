"""Steps per second of a training run with the live plots open, against the same run headless.

    python bench/bench_live_training.py [--example spirals] [--steps 3000] [--repeat 3]

Both train in a training process of their own (as the editor does), alternating, measured as wall-clock
time from the first metrics received to the last: headless, the metrics are read without drawing;
with plots, the editor's panel draws them (and, for "views", the process also computes the decision
boundary or digits views, histograms and gradient overlay). Prints the median steps/s of each, the ratio
(target: curves + views >= 0.85 x headless) and how often each live view refreshed during the run
(target: at least twice a second).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMainWindow  # noqa: E402

from core.graph import load_graph  # noqa: E402
from core.training.remote import RunHost, RunRequest  # noqa: E402
from gui.training.controller import REDRAW_MS  # noqa: E402
from gui.training.install import install_training  # noqa: E402


def headless(graph, steps: int) -> float:
    """Steps/s of the same run in a training process of its own, its metrics read without drawing:
    the editor's setting less the editor."""
    host = RunHost()
    host.send("build", RunRequest(graph.copy(), {**graph.training, "epochs": 10 ** 6}))
    marks: dict[str, float] = {}
    try:
        while marks.get("last_step", 0) < steps:
            for message in host.receive():
                if message[1] == "metrics":
                    now, step = time.perf_counter(), message[2][-1].step
                    marks.setdefault("first", now)
                    marks.setdefault("first_step", step)
                    marks["last"], marks["last_step"] = now, step
            time.sleep(REDRAW_MS / 1000)
    finally:
        host.close()
    return (marks["last_step"] - marks["first_step"]) / (marks["last"] - marks["first"])


def with_plots(app: QApplication, graph, steps: int, views: bool = True) -> tuple[float, int, float, dict]:
    """Steps/s of the same run driven from the training panel with the plots open and drawing.

    With `views` the training process also computes the boundary, histograms and gradient overlay. Returns
    (steps/s, redraws, share of the wall time the UI thread spent on the CPU, {view: refreshes per second}).
    """
    config = dict(graph.training)
    window = QMainWindow()
    window.graph = graph
    window.resize(1400, 900)
    feature = install_training(window)
    if not views:
        feature.panel.probe_factory = lambda graph: []
    window.show()
    marks: dict[str, float] = {}
    redraws = [0]

    def on_metrics(items) -> None:
        redraws[0] += 1
        if "first" not in marks:
            marks["first"] = time.perf_counter()
            marks["first_step"] = items[-1].step
        marks["last"] = time.perf_counter()
        marks["last_step"] = items[-1].step

    feature.controller.sig_metrics.connect(on_metrics)
    probes: dict[str, list[float]] = {}
    feature.controller.sig_probe.connect(
        lambda name, result: probes.setdefault(name, []).append(time.perf_counter()) if "first" in marks else None)
    loop = QEventLoop()

    def on_state(state: str) -> None:
        if state in ("stopped", "failed", "finished"):
            loop.quit()

    def check(items) -> None:
        if items[-1].step >= steps:
            feature.controller.stop()

    feature.controller.sig_metrics.connect(check)
    feature.controller.sig_state.connect(on_state)
    graph.set_training({**config, "epochs": 10 ** 6})
    QTimer.singleShot(600_000, loop.quit)
    feature.panel.start()
    cpu, wall = time.thread_time(), time.perf_counter()
    loop.exec()
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall                          # the real event loop: the UI thread sleeps in Qt between events
    if feature.controller.state != "stopped":
        raise SystemExit(f"the plotted run did not complete: {feature.panel.message.text()}")
    app.processEvents()
    graph.set_training(config)
    rate = (marks["last_step"] - marks["first_step"]) / (marks["last"] - marks["first"])
    refresh = {name: len([t for t in times if t <= marks["last"]]) / (marks["last"] - marks["first"])
               for name, times in probes.items()}
    feature.close()
    window.close()
    window.deleteLater()
    app.processEvents()
    return rate, redraws[0], cpu / wall, refresh


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="spirals")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication([])
    graph, _ = load_graph(ROOT / "resources" / "examples" / f"{args.example}.json")
    bare, plots_only, plotted, refreshes = [], [], [], []
    for _ in range(args.repeat):
        bare.append(headless(graph.copy(), args.steps))
        rate, redraws, ui, _ = with_plots(app, graph, args.steps, views=False)
        plots_only.append(rate)
        print(f"  headless {bare[-1]:8.1f} steps/s | curves only {rate:8.1f} steps/s ({redraws} redraws, "
              f"UI thread on CPU {100 * ui:.0f} % of the time)", end="")
        rate, redraws, ui, refresh = with_plots(app, graph, args.steps, views=True)
        plotted.append(rate)
        refreshes.append(refresh)
        print(f" | curves + views {rate:8.1f} steps/s (UI {100 * ui:.0f} %)")
    b, c, p = statistics.median(bare), statistics.median(plots_only), statistics.median(plotted)
    print(f"{args.example}, {args.steps} steps, median of {args.repeat}: headless {b:.1f} steps/s; "
          f"curves only {c:.1f} (ratio {c / b:.3f}); curves + boundary/histogram/overlay views {p:.1f} "
          f"(ratio {p / b:.3f}, {100 * (1 - p / b):+.1f} % slower)")
    names = sorted({name for refresh in refreshes for name in refresh})
    rates = ", ".join(f"{name} {statistics.median(r.get(name, 0.0) for r in refreshes):.1f}/s" for name in names)
    print(f"live view refresh rate during the run (median): {rates}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
