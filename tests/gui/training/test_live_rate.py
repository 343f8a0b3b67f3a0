"""The live views refresh at a steady rate during a run of ordinary length, not only at its ends."""
from __future__ import annotations

import time

from core.training.remote import PROBE_SHARE, RunServer
from training_helpers import example, wait_state

RUN_S = 5.0


def test_boundary_and_histograms_refresh_steadily_from_the_start_of_a_run(qtbot, make_feature):
    """A 5 s run shows new boundaries all along: several of them (the rate aimed at is 2 a second; the
    bound leaves room for a loaded machine), in each half of the run, none waiting for its end (the old
    budget, counted from the start, let nothing through for the first seconds)."""
    graph = example("spirals")
    graph.set_training({**graph.training, "epochs": 10 ** 5})        # far longer than we watch
    window, feature = make_feature(graph)
    shown: dict[str, list] = {"boundary": [], "gradients": []}
    feature.controller.sig_probe.connect(lambda name, result: shown.setdefault(name, []).append(
        (time.perf_counter(), getattr(result, "step", 0))))
    feature.panel.start()
    wait_state(qtbot, feature, "running")
    started = time.perf_counter()
    qtbot.wait(int(RUN_S * 1000))
    feature.controller.stop()
    wait_state(qtbot, feature, ("stopped", "finished"))
    during = [(t - started, step) for t, step in shown["boundary"] if step and t - started < RUN_S]
    assert len(during) >= 4, during
    assert {int(t // (RUN_S / 2)) for t, _ in during} == {0, 1}, during
    steps_shown = [step for _, step in during]
    assert steps_shown == sorted(set(steps_shown))                   # each one a later step
    assert len([1 for t, step in shown["gradients"] if step and t - started < RUN_S]) >= 4


def test_a_costly_probe_is_spaced_to_its_share_of_the_time():
    class Slow:
        name, interval = "slow", 0.1

    server = RunServer(conn=None)
    server.probes = [Slow(), Slow()]
    server.probe_cost["slow"] = 0.02
    assert server.probe_gap(Slow()) == 0.02 / (PROBE_SHARE / 2)
    server.probe_cost["slow"] = 0.001
    assert server.probe_gap(Slow()) == 0.1
