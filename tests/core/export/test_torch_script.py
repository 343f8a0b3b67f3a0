"""The exported PyTorch training script: data-parallel equals one process, it replays Loom's run, and it
runs with no argument."""
from __future__ import annotations

import copy
import runpy
import sys
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed")

from core.export.torch_export import export_torch  # noqa: E402
from core.graph import load_graph  # noqa: E402
from core.training.loop import Run  # noqa: E402
from export_cases import EXAMPLES  # noqa: E402
from torch_ranks import STEPS, load_script, rank_main, trail  # noqa: E402

SPAWN_TIMEOUT_S = 180  # two fresh processes import torch; a hang fails, it never blocks CI
EXAMPLE = {p.stem: p for p in EXAMPLES}
OPTIMIZERS = {"momentum": {"name": "sgd", "lr": 0.05, "momentum": 0.9}, "adam": {"name": "adam", "lr": 0.003}}
PER_RANK = {"seed_mlp": 16, "digits_cnn": 8}


def export_example(name, folder, **changes):
    graph, weights = load_graph(EXAMPLE[name])
    if changes:
        graph.set_training({**copy.deepcopy(graph.training), **changes})
    folder.mkdir(parents=True, exist_ok=True)
    return export_torch(graph, weights, folder / "model.py", base_dir=EXAMPLE[name].parent)


@pytest.fixture(scope="module")
def two_rank_trails(tmp_path_factory):
    """Both ranks of a gloo group (spawned processes, file rendezvous) train every case for STEPS steps."""
    import torch.multiprocessing as mp

    folder = tmp_path_factory.mktemp("ddp")
    cases = []
    for name in PER_RANK:
        script = export_example(name, folder / name)
        cases += [(f"{name}-{opt}", str(script), OPTIMIZERS[opt], PER_RANK[name]) for opt in OPTIMIZERS]
    context = mp.start_processes(rank_main, args=(2, str(folder), cases), nprocs=2, join=False,
                                 start_method="spawn")
    deadline = time.monotonic() + SPAWN_TIMEOUT_S
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail(f"the two ranks did not finish within {SPAWN_TIMEOUT_S} s")
    return folder, {case[0]: case for case in cases}


@pytest.mark.parametrize("name", list(PER_RANK))
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_two_ranks_equal_one_process_with_twice_the_batch(two_rank_trails, name, optimizer):
    """float64: after every step, both ranks hold the parameters one process holds with batch 2B."""
    folder, cases = two_rank_trails
    _, script, config, batch = cases[f"{name}-{optimizer}"]
    ranks = [np.load(folder / f"{name}-{optimizer}_rank{r}.npy") for r in (0, 1)]
    alone = trail(Path(script), config, 2 * batch, False)
    assert ranks[0].shape == alone.shape == (STEPS, alone.shape[1])
    np.testing.assert_array_equal(ranks[0], ranks[1])
    np.testing.assert_allclose(ranks[0], alone, rtol=1e-9, atol=1e-12)
    assert not np.allclose(alone[0], alone[-1])  # the parameters did move


@pytest.mark.parametrize("name", ["xor", "seed_mlp", "digits_cnn", "spirals"])
def test_one_process_replays_loom_loss_trajectory(name, tmp_path):
    """Same weights, same batches in the same order, same optimizer and schedule: Loom's losses, in float32."""
    graph, weights = load_graph(EXAMPLE[name])
    run = Run(graph, weights=weights, base_dir=EXAMPLE[name].parent, steps=12)
    loom = [m.loss for m in run.start()]
    script = export_torch(graph, weights, tmp_path / "model.py", base_dir=EXAMPLE[name].parent)
    module = load_script(script, f"replay_{name}")
    model = module.Model()
    model.load_loom_weights(str(script.with_suffix(".npz")))
    with np.load(tmp_path / "model_data.npz") as data:
        arrays = [data[key] for key in module.FEEDS]
    losses = module.train(model, arrays, steps=12)
    np.testing.assert_allclose(losses, loom, rtol=2e-4, atol=1e-5)
    trained = model.loom_weights()
    for key, value in run.weights().items():
        np.testing.assert_allclose(trained[key], value, rtol=1e-3, atol=1e-4, err_msg=key)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_runs_with_no_argument(path, tmp_path, monkeypatch, capsys):
    """`python model.py` with nothing else: weights and data were written beside it (one epoch each, for CI)."""
    graph, _ = load_graph(path)
    if graph.training:
        graph.set_training({**graph.training, "epochs": 1})
    script = export_torch(graph, None, tmp_path / "model.py", base_dir=path.parent)
    monkeypatch.setattr(sys, "argv", [str(script)])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    if not graph.training:
        assert done.value.code == 0 and "no training configuration" in out
        return
    if path.stem == "nan_demo":   # the example made to diverge: a clear message, exit status 3
        assert done.value.code == 3 and "the loss became -inf" in out
        return
    assert done.value.code == 0, out
    assert (tmp_path / "model_trained.npz").exists() and (tmp_path / "model_checkpoint.pt").exists()
    with np.load(tmp_path / "model.npz") as start, np.load(tmp_path / "model_trained.npz") as end:
        assert sorted(start.files) == sorted(end.files)
        assert all(np.any(start[k] != 0) for k in start.files if start[k].ndim == 2)  # drawn, never zeros
        assert any(not np.array_equal(start[k], end[k]) for k in start.files)
    assert "epoch 1 step" in out and "val_loss" in out


def test_resume_continues_where_the_checkpoint_was_taken(tmp_path):
    """Two epochs, then a third from the checkpoint, end where three epochs in one go end."""
    script = export_example("xor", tmp_path)
    module = load_script(script, "resume_xor")
    ck, a, b = (str(tmp_path / n) for n in ("ck.pt", "a.npz", "b.npz"))
    assert module.main(["--epochs", "2", "--checkpoint", ck, "--save", str(tmp_path / "half.npz")]) == 0
    assert module.main(["--epochs", "3", "--resume", ck, "--checkpoint", str(tmp_path / "ck2.pt"), "--save", a]) == 0
    assert module.main(["--epochs", "3", "--checkpoint", str(tmp_path / "ck3.pt"), "--save", b]) == 0
    with np.load(a) as resumed, np.load(b) as straight, np.load(tmp_path / "half.npz") as half:
        for key in straight.files:
            np.testing.assert_allclose(resumed[key], straight[key], rtol=1e-6, atol=1e-7, err_msg=key)
        assert any(not np.allclose(half[k], straight[k]) for k in straight.files)


def test_a_stop_request_ends_training_after_the_current_step(tmp_path):
    """SIGTERM's flag: the run saves its checkpoint at the step it stopped on."""
    script = export_example("xor", tmp_path)
    module = load_script(script, "stop_xor")
    module.STOP["asked"] = True
    model = module.Model()
    with np.load(tmp_path / "model_data.npz") as data:
        arrays = [data[key] for key in module.FEEDS]
    said = []
    losses = module.train(model, arrays, epochs=5, say=said.append, checkpoint=str(tmp_path / "ck.pt"))
    assert len(losses) == 1 and said[-1].startswith("stopped at step 1")
    assert torch.load(tmp_path / "ck.pt", weights_only=True)["step"] == 1
