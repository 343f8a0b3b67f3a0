"""A run in its own process: every step's metrics arrive once and in order, equal to the same run in
this process; commands, tasks and failures cross the process boundary intact."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core.graph import load_graph
from core.training import NonFiniteError, Run
from core.training.remote import RunHost, RunRequest

EXAMPLES = Path(__file__).resolve().parents[3] / "resources" / "examples"


def example(name: str):
    return load_graph(EXAMPLES / f"{name}.json")[0]


def unpicklable(run):
    """A task whose answer cannot cross to the editor."""
    return threading.Lock()


def collect(host: RunHost, until, timeout: float = 60.0) -> list[tuple]:
    """Messages until `until(message)` holds for one of them."""
    messages, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in host.receive():
            messages.append(message)
            if until(message):
                return messages
        time.sleep(0.01)
    raise AssertionError(f"timed out; got {[m[1] for m in messages]}")


@pytest.fixture
def host():
    made = RunHost()
    yield made
    assert made.close(20), "the training process did not end"


def test_a_remote_run_reports_every_step_once_equal_to_the_same_run_here(host):
    graph = example("xor")
    host.send("build", RunRequest(graph))
    messages = collect(host, lambda m: m[1] == "state" and m[2].state == "finished")
    kinds = [m[1] for m in messages]
    assert kinds[0] == "ready" and messages[0][2].total_steps == 400
    steps = [item for m in messages if m[1] == "metrics" for item in m[2]]
    assert [s.step for s in steps] == list(range(1, 401))
    local = [m.loss for m in Run(graph).start()]
    np.testing.assert_array_equal([s.loss for s in steps], local)
    assert messages[-1][2].step_count == 400 and messages[-1][2].last.step == 400
    host.send("task", (7, Run.weights))
    (answer,) = [m for m in collect(host, lambda m: m[1] == "task") if m[1] == "task"]
    assert answer[2] == 7 and set(answer[3]) == {"hidden_W", "hidden_b", "logits_W", "logits_b"}


def test_pause_step_and_a_new_build_replace_what_the_process_does(host):
    graph = example("xor")
    host.send("build", RunRequest(graph, start_running=False))
    collect(host, lambda m: m[1] == "state" and m[2].state == "ready")
    for _ in range(3):
        host.send("step")
    messages = collect(host, lambda m: m[1] == "state" and m[2].step_count == 3)
    assert [s.step for m in messages if m[1] == "metrics" for s in m[2]] == [1, 2, 3]
    assert messages[-1][2].state == "paused"
    host.send("build", RunRequest(example("spirals"), start_running=False))
    ready = collect(host, lambda m: m[1] == "ready")[-1]
    assert ready[0] == 2 and "spiral" in ready[2].dataset.lower()


def test_failures_and_unsendable_answers_arrive_as_exceptions(host):
    host.send("build", RunRequest(example("nan_demo")))
    messages = collect(host, lambda m: m[1] == "failed")
    error = messages[-1][2]
    assert isinstance(error, NonFiniteError) and error.node == "log_h" and error.step >= 1
    host.send("task", (1, unpicklable))
    answer = collect(host, lambda m: m[1] == "task")[-1]
    assert isinstance(answer[3], RuntimeError) and "cannot be sent" in str(answer[3])
    graph = example("xor")
    graph.set_training({})
    host.send("build", RunRequest(graph))
    failed = collect(host, lambda m: m[1] == "failed")[-1]
    assert failed[0] == 2 and "training" in str(failed[2]).lower()
