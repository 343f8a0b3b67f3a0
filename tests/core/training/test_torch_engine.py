"""The PyTorch engine's reader: rank 0's JSON lines become Loom's StepMetrics; the job's sizes match the script's."""
from __future__ import annotations

import importlib.util
import itertools
import json
import math
from pathlib import Path

import pytest

from core.graph import load_graph
from core.training.config import learning_rate, read_config
from core.training.torch_engine import LogReader, TorchJob, job_error, steps_per_epoch

EXAMPLES = Path(__file__).resolve().parents[3] / "resources" / "examples"


def spirals_job(tmp_path) -> TorchJob:
    graph, _ = load_graph(EXAMPLES / "spirals.json")
    return TorchJob(tmp_path / "model.py", 2, read_config(graph), steps_per_epoch=5, total_steps=10)


def test_json_lines_become_step_metrics_in_any_pieces(tmp_path):
    """A step line and its epoch's validation line make one StepMetrics, however the output is cut."""
    job = spirals_job(tmp_path)
    lines = []
    for step in range(1, 11):
        lines.append(json.dumps({"step": step, "epoch": (step - 1) // 5 + 1, "loss": 1.0 / step,
                                 "accuracy": 0.1 * step}))
        if step % 5 == 0:
            lines.append(json.dumps({"epoch": step // 5, "step": step, "val_loss": 2.0 / step, "val_accuracy": 0.5}))
        lines.append("a line of torchrun's own")
    text = "\n".join(lines) + "\n"
    reader = LogReader(job)
    got = []
    for start in range(0, len(text), 7):       # pieces that cut lines anywhere
        got += reader.feed(text[start:start + 7])
    got += reader.finish()
    assert [m.step for m in got] == list(range(1, 11))
    assert [m.batch for m in got] == [1, 2, 3, 4, 5] * 2 and {m.total_steps for m in got} == {10}
    assert [m.epoch_end for m in got] == [s % 5 == 0 for s in range(1, 11)]
    assert got[4].val_loss == pytest.approx(0.4) and got[4].val_metrics == {"accuracy": 0.5}
    assert got[6].loss == pytest.approx(1 / 7) and got[6].metrics == {"accuracy": pytest.approx(0.7)}
    assert got[6].lr == pytest.approx(learning_rate(job.config, 6, 5, 10))   # the cosine schedule, as Loom's
    assert all(a.elapsed <= b.elapsed for a, b in zip(got, got[1:]))


def test_a_diverged_loss_is_named_in_the_error():
    error = job_error(1, ["noise", "step 4: the loss became -inf; stopping (Loom's own engine names the node)"])
    assert "step 4: the loss became -inf" in str(error)


def test_steps_per_epoch_is_what_the_script_and_its_sampler_take(tmp_path):
    """The launcher's count equals the exported script's, and the batches LoomOrder really gives each rank."""
    pytest.importorskip("torch", reason="torch is not installed")
    from core.export.torch_export import export_torch
    graph, weights = load_graph(EXAMPLES / "xor.json")
    spec = importlib.util.spec_from_file_location("spe_xor", export_torch(graph, weights, tmp_path / "model.py",
                                                                          base_dir=EXAMPLES))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for count, batch, world, per_rank in itertools.product((7, 320, 1437), (1, 5, 32), (1, 2, 3), (False, True)):
        expected = steps_per_epoch(count, batch, world, per_rank)
        rank_batch = batch if per_rank or world == 1 else math.ceil(batch / world)
        assert module.steps_per_epoch(count, rank_batch, world) == expected
        rows = [list(module.LoomOrder(count, world, r, 0, True)) for r in range(world)]
        assert {math.ceil(len(r) / rank_batch) for r in rows} == {expected}
        assert set(itertools.chain(*rows)) == set(range(count))
