"""Jobs on PyTorch's distributed engine: torchrun on the exported script, a lost rank, `train --engine torch`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="torch is not installed")

from core.export.torch_job import prepare_job  # noqa: E402
from core.graph import load_graph  # noqa: E402
from core.training.config import ConfigError  # noqa: E402
from core.training.torch_engine import TorchJobError, run_job  # noqa: E402
from export_cases import EXAMPLES  # noqa: E402

EXAMPLE = {p.stem: p for p in EXAMPLES}
JOB_TIMEOUT_S = 180   # a hang fails the test; it never blocks CI
ROOT = Path(__file__).resolve().parents[3]


def job_for(name, folder, **options):
    graph, weights = load_graph(EXAMPLE[name])
    return prepare_job(graph, weights, folder, base_dir=EXAMPLE[name].parent, timeout_s=30, **options)


@pytest.mark.parametrize("name", ["xor", "seed_mlp"])
def test_torchrun_two_processes_on_the_exported_script(name, tmp_path):
    """Both ranks finish, rank 0 checkpoints and logs, the loss falls, both ranks end with the same weights."""
    job = job_for(name, tmp_path, nproc=2, steps=20)
    script = job.script
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           script.name, "--steps", "20", "--jsonl", "run.jsonl", "--save", "out.npz",
                           "--save-all-ranks", "--timeout", "30"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=JOB_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "model_checkpoint.pt").exists()
    records = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    steps = [r for r in records if "loss" in r]
    assert [r["step"] for r in steps] == list(range(1, 21))
    losses = [r["loss"] for r in steps]
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    with np.load(tmp_path / "out.npz") as rank0, np.load(tmp_path / "out.rank1.npz") as rank1, \
            np.load(tmp_path / "model.npz") as start:
        assert sorted(rank0.files) == sorted(rank1.files) == sorted(start.files)
        for key in rank0.files:
            np.testing.assert_array_equal(rank0[key], rank1[key])
        assert any(not np.array_equal(rank0[k], start[k]) for k in start.files)


def _worker_of_rank(parent: int, rank: int):
    """The pid of the worker process torchrun (`parent`) started for `rank`, or None (Linux /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            environ = (entry / "environ").read_bytes().split(b"\0") if ppid == parent else []
        except (OSError, IndexError, ValueError):
            continue
        if f"RANK={rank}".encode() in environ:
            return int(entry.name)
    return None


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finding a rank's process needs Linux's /proc")
def test_a_killed_rank_ends_the_job_with_a_clear_error(tmp_path):
    job = job_for("seed_mlp", tmp_path, nproc=2, steps=100000)
    pid, seen, killed = [], [], []

    def on_metrics(m):
        seen.append(m)
        if len(seen) == 3 and not killed:
            worker = _worker_of_rank(pid[0], 1)
            if worker is not None:
                os.kill(worker, 9)
                killed.append(worker)

    started = time.monotonic()
    with pytest.raises(TorchJobError) as failure:
        run_job(job, on_metrics, timeout_s=JOB_TIMEOUT_S, started=pid.append)
    assert killed, "rank 1's process was not found"
    assert time.monotonic() - started < JOB_TIMEOUT_S
    message = str(failure.value)
    assert "rank 1" in message and "SIGKILL" in message, message
    with pytest.raises(ProcessLookupError):   # nothing of the job is left
        os.killpg(pid[0], 0)


def test_train_command_with_the_torch_engine(tmp_path):
    """`main.py train --engine torch`: the progress, the JSON-lines log of Loom's schema, the weights back."""
    out, log = tmp_path / "w.npz", tmp_path / "log.jsonl"
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", str(EXAMPLE["xor"]), "--engine", "torch",
                           "--nproc", "2", "--epochs", "2", "--save-weights", str(out), "--log", str(log)],
                          capture_output=True, text=True, timeout=JOB_TIMEOUT_S, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "with PyTorch on 2 processes" in done.stdout
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["step"] for r in records if "loss" in r] == list(range(1, 21))   # 320 rows, batch 32: 10 a epoch
    assert [r["epoch"] for r in records if "val_loss" in r] == [1, 2]
    graph, _ = load_graph(EXAMPLE["xor"])
    with np.load(out) as weights:
        assert sorted(weights.files) == sorted(graph.analysis().params)


def test_a_graph_without_training_is_refused(tmp_path):
    graph, weights = load_graph(EXAMPLE["seed_vectors"])
    with pytest.raises(ConfigError, match="no training configuration"):
        prepare_job(graph, weights, tmp_path)



def test_engine_options_need_the_torch_engine(capsys):
    from main import main

    assert main(["train", str(EXAMPLE["xor"]), "--nproc", "2"]) == 1
    assert "--nproc and --per-rank-batch need --engine torch" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "--engine {loom,torch}" in capsys.readouterr().out
