"""The training loop: a `Run` the GUI or the command line drives, yielding `StepMetrics` per batch.

No threads and no Qt here. The editor drives a Run in its training process (remote.py), the command
line iterates `run.start()`; `pause`, `resume`, `stop` and `step` may be called from another thread
at any time (they are thread-safe). The same graph, data and seed give a bit-identical loss
trajectory on the CPU, however the run is paused or resumed.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from core.compiler import compile
from core.compiler.autodiff import differentiate
from core.graph import Graph, GraphError, expand_layers, param_decls
from core.graph.fileformat import atomic_write
from core.training.config import ConfigError, TrainConfig, learning_rate
from core.training.datasets import Dataset, DatasetError
from core.training.nonfinite import NonFiniteError, first_nonfinite
from core.training.optimizers import add_updates
from core.training.preflight import check_training

STATES = ("ready", "running", "paused", "stopped", "finished", "failed")
EVAL_CHUNK = 1024
STEP_KEY = "loom_run_step"


@dataclass(frozen=True)
class StepMetrics:
    """What one training batch reports. Counts are 1-based: the first batch has step 1, epoch 1.

    `val_loss` and `val_metrics` are set on the last batch of each epoch (and on the run's last
    batch): the loss and metrics over the whole validation set after that batch's update.
    """

    step: int
    epoch: int
    batch: int
    steps_per_epoch: int
    total_steps: int
    loss: float
    metrics: dict[str, float] = field(default_factory=dict)
    lr: float = 0.0
    elapsed: float = 0.0
    val_loss: Optional[float] = None
    val_metrics: Optional[dict[str, float]] = None

    @property
    def epoch_end(self) -> bool:
        """Whether this batch closed an epoch (validation results are set)."""
        return self.val_loss is not None


class Run:
    """One training run of a graph on its configured data set.

    Parameters
    ----------
    graph: the user's graph; its `training` dict configures the run unless `config` is given.
    config: a training configuration dict (docs/training.md) overriding `graph.training`.
    weights: initial parameter values by key (missing ones are drawn with the seed).
    dataset: an already loaded Dataset (else it is loaded from the configuration).
    base_dir: the folder relative data file paths start from (the graph file's folder).
    seed, epochs, steps: override the configuration's seed and length; `steps` counts batches.
    device: passed to compile() ("cpu", "cuda" or "auto").

    Raises ConfigError, DatasetError or GraphError, each naming the key, file or node at fault.
    """

    def __init__(self, graph: Graph, config: Optional[dict] = None, *, weights: Optional[dict] = None,
                 dataset: Optional[Dataset] = None, base_dir: Optional[str | Path] = None,
                 seed: Optional[int] = None, epochs: Optional[int] = None, steps: Optional[int] = None,
                 device: str = "cpu") -> None:
        self.config: TrainConfig
        self.config, self.data = check_training(graph, config, base_dir=base_dir, dataset=dataset)
        self.seed = self.config.seed if seed is None else seed
        if self.data.text is not None and self.data.text.init_weights:   # word vectors the data set loaded
            weights = {**self.data.text.init_weights, **(weights or {})}
        self.graph = graph
        cfg = self.config
        self.steps_per_epoch = math.ceil(self.data.size() / cfg.batch_size)
        self.total_steps = steps if steps is not None else (epochs or cfg.epochs) * self.steps_per_epoch
        if self.total_steps < 1:
            raise ConfigError("the run must have at least one step")
        self.train_graph, grads = differentiate(graph, cfg.loss)
        if not grads.grads:
            raise ConfigError(f"training.loss: '{cfg.loss}' depends on no trainable parameter", node=cfg.loss)
        self.updates = add_updates(self.train_graph, grads.grads, cfg.optimizer)
        self.warnings = [d.message for d in grads.diagnostics]
        self.outputs = [cfg.loss, *cfg.metrics]
        self.data_inputs = [*cfg.feature_inputs] + ([cfg.labels] if cfg.labels else [])
        self.train_function = compile(self.train_graph, self.data_inputs + self.updates.inputs, self.outputs,
                                      self.updates.updates, weights=weights, training=True, seed=self.seed,
                                      device=device)
        self._eval = compile(expand_layers(graph), self.data_inputs, self.outputs,
                             weights=self.train_function.get_weights(), training=False, seed=self.seed, device=device)
        self.model_keys = list(param_decls(graph))
        # a metric such as SpanF1 is not a mean over rows: it is evaluated on a whole split at once
        self._whole_split = any(graph.spec(m).extra.get("whole_split") for m in cfg.metrics)
        self.step_count = 0
        self.elapsed = 0.0
        self.error: Optional[Exception] = None
        self.last: Optional[StepMetrics] = None
        self._state = "ready"
        self._lock = threading.RLock()  # held while a batch runs
        self._state_lock = threading.Lock()  # held briefly to change state; pause() never waits for a batch
        self._running = threading.Event()
        self._order: tuple[int, np.ndarray] = (-1, np.arange(0))
        size = min(cfg.batch_size, self.data.size())
        self._x_batches = [np.empty((size,) + x.shape[1:], x.dtype) for x in self.data.features()]
        self._y_batch = np.empty((size,) + self.data.y_train.shape[1:], self.data.y_train.dtype)
        self._snapshot = (0, self.train_function.get_weights())

    # ---- Public API

    @property
    def state(self) -> str:
        """One of ready, running, paused, stopped, finished, failed."""
        return self._state

    @property
    def done(self) -> bool:
        """Whether the run can take no more steps (finished, stopped or failed)."""
        return self._state in ("stopped", "finished", "failed")

    @property
    def epoch(self) -> int:
        """The 1-based epoch the next batch belongs to."""
        return self.step_count // self.steps_per_epoch + 1

    def start(self, block: bool = True) -> Iterator[StepMetrics]:
        """Mark the run running and return the iterator of its steps (see `iterate`)."""
        self.resume()
        return self.iterate(block)

    def __iter__(self) -> Iterator[StepMetrics]:
        return self.start()

    def iterate(self, block: bool = True) -> Iterator[StepMetrics]:
        """Yield one StepMetrics per batch until the run finishes or is stopped.

        While paused the iterator waits for `resume` or `stop` (or, with block=False, ends; iterate
        again after resuming). A NonFiniteError is raised from it, after the run's state became failed.
        """
        while not self.done:
            if not self._running.is_set():
                if not block:
                    return
                self._running.wait(0.1)
                continue
            metrics = self.step()
            if metrics is None:
                return
            yield metrics

    def pause(self) -> None:
        """Stop taking batches after the current one; `resume` or `step` continue."""
        if self._set_state("paused"):
            self._running.clear()

    def resume(self) -> None:
        """Continue (or begin) taking batches."""
        if self._set_state("running"):
            self._running.set()

    def stop(self) -> None:
        """End the run after the current batch; it cannot be resumed (weights stay available)."""
        self._set_state("stopped")
        self._running.set()

    def step(self) -> Optional[StepMetrics]:
        """Train exactly one batch and return its metrics; None when the run is over.

        Raises NonFiniteError (the run becomes failed) when the loss or a metric is NaN or Inf.
        """
        with self._lock:
            if self.done:
                return None
            if self._state == "ready":
                self._set_state("paused")
            started = time.perf_counter()
            k = self.step_count
            if k % self.steps_per_epoch == 0 and self._snapshot[0] != k:
                self._snapshot = (k, self.train_function.get_weights())
            lr = learning_rate(self.config, k, self.steps_per_epoch, self.total_steps)
            feeds = self._feeds(k, lr)
            with np.errstate(all="ignore"):    # positional arrays like the last step's: the fast call
                values = self.train_function(*[feeds[name] for name in self.train_function.inputs])
            numbers = [float(v) for v in values]
            if not all(math.isfinite(v) for v in numbers):
                self._set_state("failed")
                self.error = self._diagnose(k)
                raise self.error
            self.step_count = k + 1
            self.elapsed += time.perf_counter() - started
            val_loss = val_metrics = None
            if self.step_count % self.steps_per_epoch == 0 or self.step_count == self.total_steps:
                val_loss, val_metrics = self.evaluate()
            self.last = StepMetrics(
                self.step_count, k // self.steps_per_epoch + 1, k % self.steps_per_epoch + 1,
                self.steps_per_epoch, self.total_steps, numbers[0], dict(zip(self.config.metrics, numbers[1:])),
                lr, self.elapsed, val_loss, val_metrics)
            if self.step_count >= self.total_steps:
                self._set_state("finished")
            return self.last

    def profile(self, repeats: int = 20) -> dict[str, float]:
        """Seconds per call of each node of the compiled training step, on the next batch; the run is unchanged."""
        with self._lock:
            k = min(self.step_count, self.total_steps - 1)
            feeds = self._feeds(k, learning_rate(self.config, k, self.steps_per_epoch, self.total_steps))
            with np.errstate(all="ignore"):
                return self.train_function.profile(feeds, repeats)

    def evaluate(self, split: str = "val") -> tuple[float, dict[str, float]]:
        """Loss and metrics over the validation ("val") or training ("train") set with the current weights."""
        with self._lock:
            y = self.data.y_val if split == "val" else self.data.y_train
            count = self.data.size(split)
            self._eval.set_weights({k: v for k, v in self.train_function.get_weights().items() if k in self.model_keys})
            totals = np.zeros(len(self.outputs))
            chunk = count if self._whole_split else EVAL_CHUNK
            for start in range(0, count, chunk):
                rows = slice(start, start + chunk)
                feeds = self.data.feeds(self.config.feature_inputs, split, rows)
                if self.config.labels:
                    feeds[self.config.labels] = y[rows]
                with np.errstate(all="ignore"):
                    values = self._eval(**feeds)
                totals += [float(v) * (min(start + chunk, count) - start) for v in values]
            totals /= count
            return float(totals[0]), dict(zip(self.config.metrics, (float(v) for v in totals[1:])))

    def weights(self) -> dict[str, np.ndarray]:
        """Copies of the model's parameters (no optimizer state), by weights key."""
        with self._lock:
            return {k: v for k, v in self.train_function.get_weights().items() if k in self.model_keys}

    def save_weights(self, path: str | Path) -> None:
        """Write the model's parameters to an .npz file, atomically."""
        arrays = self.weights()
        atomic_write(Path(path), lambda f: np.savez(f, **arrays))

    def save_checkpoint(self, path: str | Path) -> None:
        """Write parameters, optimizer state and the step count to an .npz file, atomically."""
        with self._lock:
            arrays = {**self.train_function.get_weights(), STEP_KEY: np.asarray(self.step_count, dtype=np.int64)}
        atomic_write(Path(path), lambda f: np.savez(f, **arrays))

    def load_checkpoint(self, path: str | Path) -> None:
        """Continue from a checkpoint written by `save_checkpoint` for the same graph and configuration.

        Raises DatasetError naming the file when it is unreadable or does not match this run.
        """
        try:
            with np.load(path, allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
        except (OSError, ValueError, EOFError) as e:
            raise DatasetError(f"not a readable checkpoint ({e})", file=str(path)) from None
        with self._lock:
            state = self.train_function.get_weights()
            step = arrays.pop(STEP_KEY, None)
            if step is None or set(arrays) != set(state):
                raise DatasetError("the checkpoint does not match this graph and optimizer", file=str(path))
            try:
                self.train_function.set_weights(arrays)
            except GraphError as e:
                raise DatasetError(f"the checkpoint does not match this graph: {e}", file=str(path)) from None
            self.step_count = min(int(step), self.total_steps)
            self._snapshot = (self.step_count, self.train_function.get_weights())
            if self.step_count >= self.total_steps:
                self._set_state("finished")

    # ---- Internals

    def _set_state(self, state: str) -> bool:
        """Move to `state` unless the run is already over; returns whether it moved."""
        with self._state_lock:
            if self.done:
                return False
            self._state = state
            return True

    def _batch_indices(self, k: int) -> np.ndarray:
        epoch, batch = divmod(k, self.steps_per_epoch)
        if self._order[0] != epoch:
            n = self.data.size()
            order = np.random.default_rng([self.seed, epoch]).permutation(n) if self.config.shuffle \
                else np.arange(n)
            self._order = (epoch, order)
        size = self.config.batch_size
        return self._order[1][batch * size:(batch + 1) * size]

    def _feeds(self, k: int, lr: float) -> dict[str, np.ndarray]:
        """The batch of step k gathered into reused buffers, plus the optimizer's scalars."""
        rows = self._batch_indices(k)
        n = len(rows)
        feeds = {name: np.take(x, rows, axis=0, out=buffer[:n])   # every feature array in the same row order
                 for name, x, buffer in zip(self.config.feature_inputs, self.data.features(), self._x_batches)}
        if self.config.labels:
            feeds[self.config.labels] = np.take(self.data.y_train, rows, axis=0, out=self._y_batch[:n])
        feeds.update(self.updates.feeds(k, lr))
        return feeds

    def _replay_to(self, k: int) -> dict[str, np.ndarray]:
        """The full state before step k, replayed deterministically from the epoch's snapshot."""
        start, saved = self._snapshot
        self.train_function.set_weights(saved)
        with np.errstate(all="ignore"):
            for j in range(start, k):
                self.train_function(**self._feeds(j, learning_rate(self.config, j, self.steps_per_epoch, self.total_steps)))
        return self.train_function.get_weights()

    def _diagnose(self, k: int) -> NonFiniteError:
        """Name the first node that went non-finite at step k (or in the update before it)."""
        wanted = self.outputs + [ref for ref in self.updates.updates.values()]
        found, step = None, k
        for at in (k, k - 1):
            if at < self._snapshot[0]:
                break
            weights = self._replay_to(at)
            lr = learning_rate(self.config, at, self.steps_per_epoch, self.total_steps)
            result = first_nonfinite(self.train_graph, self._feeds(at, lr), weights, wanted, seed=self.seed)
            if result is None:
                break
            found, step = result, at
            if self.train_graph.op_name(result[0]) != "Parameter":
                break
        self._replay_to(k)
        epoch = step // self.steps_per_epoch + 1
        if found is None:
            return NonFiniteError(f"the loss became non-finite at step {k + 1} (epoch {epoch}), but the "
                                  "reference executor computes finite values for that batch: the compiled "
                                  "step and the reference disagree", step=k + 1, epoch=epoch)
        node, port, inputs, value = found
        op = self.train_graph.op_name(node)
        what = f"{op} produced {value} at step {step + 1} (epoch {epoch})"
        if self.train_graph.role(node):
            what += f" in the {self.train_graph.role(node)} part of the graph"
        detail = "; ".join(f"{p} = {text}" for p, text in inputs.items())
        return NonFiniteError(what + (f"; its inputs: {detail}" if detail else ""), node=node, step=step + 1,
                              epoch=epoch, value=value, inputs=inputs)
