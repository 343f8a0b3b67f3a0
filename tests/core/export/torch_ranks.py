"""What one rank of the two-process equivalence test runs (a module of its own, so spawned ranks import little)."""
from __future__ import annotations

import datetime
import importlib.util
from pathlib import Path

import numpy as np

STEPS = 20


def load_script(path: Path, name: str):
    """The exported script as a module (its main() is not run)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def trail(script: Path, optimizer: dict, batch_size: int, per_rank_batch: bool) -> np.ndarray:
    """Every parameter after each of STEPS steps (one row per step), training in float64."""
    import torch

    module = load_script(script, f"ranks_{script.parent.name}")
    module.TRAINING["optimizer"] = optimizer
    model = module.Model().double()
    model.load_loom_weights(str(script.with_suffix(".npz")))
    with np.load(script.with_name(script.stem + "_data.npz")) as data:
        arrays = [data[key].astype(np.float64 if key == "x_train" else data[key].dtype) for key in module.FEEDS]
    rows = []

    def record(step, model):
        rows.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]).numpy().copy())

    module.train(model, arrays, steps=STEPS, batch_size=batch_size, per_rank_batch=per_rank_batch, on_step=record)
    return np.stack(rows)


def rank_main(rank: int, world: int, folder: str, cases: list) -> None:
    """Join a gloo group through a file, train every case with the per-rank batch, save the trails."""
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=60))
    try:
        for name, script, optimizer, batch in cases:
            np.save(Path(folder) / f"{name}_rank{rank}.npy", trail(Path(script), optimizer, batch, True))
    finally:
        dist.destroy_process_group()
