"""The CPU device: NumPy with preallocated out= buffers. A fused kernel is a ufunc chain; on
large tensors it runs over cache-sized chunks with small scratch buffers, spread over the cores.
"""
from __future__ import annotations

import functools
import hashlib
import itertools
import os
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional, Sequence

import numpy as np

CHUNK = 65536                 # elements per chunk: the scratch buffers of a chunk stay in L2
CHUNKED_MIN = 1 << 20         # below this many elements whole-array passes are faster (measured here:
                              # an SGD update of 1M floats 0.41 ms whole, 0.64 ms chunked)
PARALLEL_MIN = 1 << 21        # below this many elements one thread is faster (measured here)
_KERNELS: dict[str, Callable] = {}
_POOL: Optional[ThreadPoolExecutor] = None
_POOL_SIZE = 0
_POOL_LOCK = threading.Lock()


def cpu_threads(requested: Optional[int] = None) -> int:
    """Threads for the fused kernels: `requested`, else LOOM_NUM_THREADS, else the CPUs this
    process may run on (its affinity mask, so `taskset -c 0` means one), at most 8."""
    setting = os.environ.get("LOOM_NUM_THREADS", "").strip()
    if requested is None and setting:
        if setting.isdigit() and int(setting) >= 1:
            requested = int(setting)
        else:
            warnings.warn(f"LOOM_NUM_THREADS={setting!r} is not a whole number of at least 1; "
                          "using the CPUs this process may run on", RuntimeWarning, stacklevel=2)
    if requested is not None:
        if requested < 1:
            raise ValueError(f"the thread count must be at least 1, got {requested}")
        return int(requested)
    return max(1, min(usable_cpus(), 8))


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity mask where the system has one."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call: every core counts
        return os.cpu_count() or 1


def _pool(size: int) -> ThreadPoolExecutor:
    """The shared worker pool, replaced by a larger one when a device asks for more threads."""
    global _POOL, _POOL_SIZE
    with _POOL_LOCK:
        if _POOL is None or _POOL_SIZE < size:
            _POOL, _POOL_SIZE = ThreadPoolExecutor(size, thread_name_prefix="loom-cpu"), size
        return _POOL


def compile_source(name: str, source: str) -> Callable:
    """Exec a generated kernel (names were generated, never read from a file); cached by hash."""
    key = hashlib.sha256(source.encode()).hexdigest()
    if key not in _KERNELS:
        namespace: dict = {"np": np}
        exec(compile(source, f"<loom kernel {name}>", "exec"), namespace)
        _KERNELS[key] = namespace[name]
    return _KERNELS[key]


class NumpyElementwise:
    """One fused kernel on the CPU: plain (whole arrays) or chunked, chosen per shape."""

    def __init__(self, name: str, source: str, temps: int, bool_temps: int, threads: int = 1) -> None:
        self.name, self.source = name, source
        self.fn = compile_source(name, source)
        self.temps, self.bool_temps, self.threads = temps, bool_temps, threads

    def bind(self, out_shape: tuple, dtype: str, in_shapes: Sequence[tuple]) -> Callable:
        size = int(np.prod(out_shape))
        chunkable = all(s == tuple(out_shape) or int(np.prod(s)) == 1 for s in in_shapes)
        if size < CHUNKED_MIN or not chunkable:
            scratch = [np.empty(out_shape, dtype) for _ in range(self.temps)]
            scratch += [np.empty(out_shape, bool) for _ in range(self.bool_temps)]
            return _plain(self.fn, scratch)
        return ChunkedRun(self.fn, size, dtype, self.temps, self.bool_temps, [s == tuple(out_shape) for s in in_shapes],
                          self.threads)


def _plain(fn: Callable, scratch: list) -> Callable:
    return functools.partial(fn, *scratch) if scratch else fn


class ChunkedRun:
    """Runs a kernel over flat chunks, each worker with its own small scratch buffers.

    Workers take chunks from a shared counter, so a worker the OS pauses (another process on
    the core) does not hold the others up: they simply take more chunks.
    """

    def __init__(self, fn: Callable, size: int, dtype: str, temps: int, bool_temps: int,
                 full: list[bool], threads: int = 1) -> None:
        self.fn, self.size, self.full = fn, size, full
        self.workers = threads if size >= PARALLEL_MIN else 1
        self.scratch = [[np.empty(CHUNK, dtype) for _ in range(temps)] + [np.empty(CHUNK, bool) for _ in range(bool_temps)]
                        for _ in range(self.workers)]
        self.chunks = -(-size // CHUNK)

    def __call__(self, *arrays: Any) -> None:
        *inputs, out = arrays
        if not out.flags.c_contiguous or not all(a.flags.c_contiguous for a, f in zip(inputs, self.full) if f):
            _plain(self.fn, [np.empty(out.shape, t.dtype) for t in self.scratch[0]])(*arrays)
            return
        flat = [a.reshape(-1) if f else a.reshape(()) for a, f in zip(inputs, self.full)]
        flat_out = out.reshape(-1)
        counter = itertools.count()
        if self.workers == 1:
            self._work(0, counter, flat, flat_out)
            return
        futures = [_pool(self.workers).submit(self._work, i, counter, flat, flat_out) for i in range(1, self.workers)]
        self._work(0, counter, flat, flat_out)
        for f in futures:
            f.result()

    def _work(self, worker: int, counter: Any, flat: list, out: np.ndarray) -> None:
        scratch, fn, full, size, chunks = self.scratch[worker], self.fn, self.full, self.size, self.chunks
        for index in counter:
            if index >= chunks:
                return
            start = index * CHUNK
            stop = min(start + CHUNK, size)
            n = stop - start
            args = [a[start:stop] if f else a for a, f in zip(flat, full)]
            fn(*(t[:n] for t in scratch), *args, out[start:stop])


# ---- Kernels for the ops that are not elementwise (all write into out=)

def softmax(x: np.ndarray, axis: int, out: np.ndarray, keep: np.ndarray) -> None:
    """exp(x - max) / sum, as the reference computes it."""
    np.maximum.reduce(x, axis=axis, keepdims=True, out=keep)
    np.subtract(x, keep, out)
    np.exp(out, out)
    np.add.reduce(out, axis=axis, keepdims=True, out=keep)
    np.divide(out, keep, out)


def log_softmax(x: np.ndarray, axis: int, out: np.ndarray, keep: np.ndarray, full: np.ndarray) -> None:
    """(x - max) - log(sum(exp(x - max)))."""
    np.maximum.reduce(x, axis=axis, keepdims=True, out=keep)
    np.subtract(x, keep, out)
    np.exp(out, full)
    np.add.reduce(full, axis=axis, keepdims=True, out=keep)
    np.log(keep, keep)
    np.subtract(out, keep, out)


def check_labels(labels: np.ndarray, classes: int) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must lie in 0..{classes - 1}, got {labels.min()}..{labels.max()}")


def shifted_columns(x: np.ndarray, t: np.ndarray, m: np.ndarray) -> None:
    """t = x.T minus each column's maximum (m): the stable start of every softmax below."""
    np.copyto(t, x.T)
    np.maximum.reduce(t, axis=0, out=m)
    np.subtract(t, m, t)


def softmax_rows(x: np.ndarray, out: np.ndarray, t: np.ndarray, m: np.ndarray, s: np.ndarray) -> None:
    """Softmax over the last axis of a matrix, worked on its transpose t (classes, rows) so the
    reductions over a few classes run as vector sweeps instead of short row loops."""
    shifted_columns(x, t, m)
    np.exp(t, t)
    np.add.reduce(t, axis=0, out=s)
    np.divide(t, s, t)
    np.copyto(out, t.T)


def softmax_xent(z: np.ndarray, labels: np.ndarray, out: np.ndarray, t: np.ndarray, m: np.ndarray,
                 s: np.ndarray, picked: np.ndarray, index: np.ndarray, rows: np.ndarray) -> None:
    """-mean(log_softmax(z)[i, labels[i]]), worked on the transpose t (classes, rows).

    Leaves t = exp(z - max), s = its column sums and index = the flat position of each label in
    t, for xent_grad_from. A label past the last class makes the index run off the end (take
    raises); negative ones would wrap around, so they are checked.
    """
    n, classes = z.shape
    if labels.size and np.minimum.reduce(labels) < 0:
        check_labels(labels, classes)
    shifted_columns(z, t, m)
    np.multiply(labels, n, index)
    np.add(index, rows, index)
    t.reshape(-1).take(index, out=picked)
    np.exp(t, t)
    np.add.reduce(t, axis=0, out=s)
    np.log(s, m)
    np.subtract(picked, m, picked)
    np.add.reduce(picked, axis=None, out=out)
    np.divide(out, -n, out)


def xent_grad_from(t: np.ndarray, s: np.ndarray, index: np.ndarray, out: np.ndarray) -> None:
    """softmax - onehot from what softmax_xent left behind (it uses up t and s)."""
    np.divide(t, s, t)
    flat = t.reshape(-1)
    flat.take(index, out=s)
    np.subtract(s, 1, s)
    flat.put(index, s)
    np.copyto(out, t.T)


def softmax_xent_grad(z: np.ndarray, labels: np.ndarray, out: np.ndarray, t: np.ndarray, m: np.ndarray,
                      s: np.ndarray, index: np.ndarray, rows: np.ndarray) -> None:
    """softmax(z) - onehot(labels), standalone."""
    n, classes = z.shape
    check_labels(labels, classes)
    shifted_columns(z, t, m)
    np.exp(t, t)
    np.add.reduce(t, axis=0, out=s)
    np.multiply(labels, n, index)
    np.add(index, rows, index)
    xent_grad_from(t, s, index, out)


def one_hot(labels: np.ndarray, out: np.ndarray, rows: np.ndarray) -> None:
    check_labels(labels, out.shape[1])
    out.fill(0)
    out[rows, labels] = 1


def row_update(table: np.ndarray, ids: np.ndarray, rows: np.ndarray, lr: Any) -> None:
    """table[ids] -= lr * rows in place, repeated ids adding up; only the rows named are touched.

    Sorting the ids and summing each run of equal ids with add.reduceat is 2-3x faster than
    np.subtract.at for embedding batches (bench/bench_embedding.py); the sums go in with one fancy index.
    """
    flat = ids.reshape(-1)
    if not flat.size:
        return
    if flat.min() < 0 or flat.max() >= len(table):
        raise IndexError(f"ids must lie in 0..{len(table) - 1}")
    rows = rows.reshape(len(flat), -1)
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sums = np.add.reduceat(rows[order], starts, axis=0)
    sums *= lr
    table[ordered[starts]] -= sums


class BlasThreads:
    """NumPy's own BLAS thread count, driven through threadpoolctl's public API where installed.

    Small matrix products lose more to waking a second BLAS thread (and, on a busy machine,
    waiting for it) than they gain, so a step whose products are all small runs them on one.
    SciPy or scikit-learn load BLAS libraries of their own; only the one NumPy was built with
    (found by its file lying in NumPy's package or its bundled libraries) is the one that counts.
    """

    def __init__(self) -> None:
        self.libs: list = []      # at most one: NumPy's
        self.default = 1
        try:
            from threadpoolctl import ThreadpoolController

            blas = ThreadpoolController().select(user_api="blas").lib_controllers
        except Exception:  # no threadpoolctl, or a BLAS it cannot inspect: leave threads alone
            return
        mine = [lib for lib in blas if _belongs_to_numpy(lib.filepath)]
        self.libs = mine or (blas if len(blas) == 1 else [])  # several, none NumPy's: cannot tell
        self.default = max((lib.num_threads for lib in self.libs), default=1)

    def setter(self, n: int) -> Callable[[], None]:
        """A call that sets `n` threads, bound once: it runs twice per compiled step."""
        if not self.libs:
            return lambda: None
        return functools.partial(self.libs[0].set_num_threads, int(n))

    def measured_guard(self) -> tuple[Callable[[], None], Callable[[], None]]:
        """(enter, leave) for a step with large products: whether one BLAS thread or the default
        runs it faster is measured on the step itself (see MeasuredThreads)."""
        chooser = MeasuredThreads(self.setter(1), self.setter(self.default))
        return chooser.enter, chooser.leave


class MeasuredThreads:
    """Runs a step's products on one BLAS thread or on the default number, whichever its own
    calls measured faster.

    OpenBLAS's threads wait for each other by spinning; when more tasks want the cores than
    there are, a product waits until all its threads are scheduled (W2 measured 260-400 ms on two
    threads against 37 ms on one at load 10 on 2 CPUs), while on a quiet machine two threads are
    faster. Every `period_s` the next 2 * `probes` calls alternate between the two and are timed;
    the lower median is kept until the next probe.
    """

    def __init__(self, one: Callable[[], None], default: Callable[[], None], period_s: float = 2.0,
                 probes: int = 3) -> None:
        self.one, self.default, self.period_s, self.probes = one, default, period_s, probes
        self.single = False
        self.current = False
        self.started = 0.0
        self.next_probe = 0.0
        self.trials: Optional[list[tuple[bool, float]]] = None

    def enter(self) -> None:
        now = time.perf_counter()
        if self.trials is None and now >= self.next_probe:
            self.trials = []
        self.current = len(self.trials) % 2 == 0 if self.trials is not None else self.single
        if self.current:
            self.one()
        self.started = time.perf_counter()

    def leave(self) -> None:
        now = time.perf_counter()
        if self.current:
            self.default()
        if self.trials is None:
            return
        self.trials.append((self.current, now - self.started))
        if len(self.trials) >= 2 * self.probes:
            single = sorted(t for on_one, t in self.trials if on_one)
            several = sorted(t for on_one, t in self.trials if not on_one)
            self.single = single[len(single) // 2] < several[len(several) // 2]
            self.trials, self.next_probe = None, now + self.period_s


def _belongs_to_numpy(path: str) -> bool:
    """Whether a shared library was shipped inside NumPy's package or its wheel's numpy.libs."""
    home = os.path.dirname(os.path.realpath(np.__file__))
    real = os.path.realpath(path or "")
    return any(real.startswith(place + os.sep) for place in (home, home + ".libs"))


_BLAS: Optional[BlasThreads] = None


def blas_threads() -> BlasThreads:
    global _BLAS
    if _BLAS is None:
        _BLAS = BlasThreads()
    return _BLAS


class NumpyDevice:
    """The CPU: NumPy arrays, host memory, kernels as ufunc chains."""

    name = "cpu"
    xp = np
    max_operands = 32
    single_blas_macs = int(os.environ.get("LOOM_SINGLE_BLAS_MACS", 1 << 22))
    fallback_reason: Optional[str] = None

    def __init__(self, fallback_reason: Optional[str] = None, threads: Optional[int] = None) -> None:
        self.fallback_reason = fallback_reason
        self.threads = cpu_threads(threads)

    def __repr__(self) -> str:
        return f"NumpyDevice(cpu, threads={self.threads})"

    def namespace(self) -> dict:
        return {"np": np, "matmul": np.matmul, "sum_reduce": np.add.reduce, "max_reduce": np.maximum.reduce,
                "broadcast_to": np.broadcast_to, "expand_dims": np.expand_dims, "take": np.take,
                "concatenate": np.concatenate, "softmax": softmax, "log_softmax": log_softmax,
                "softmax_xent": softmax_xent, "one_hot": one_hot, "softmax_rows": softmax_rows,
                "xent_grad_from": xent_grad_from, "softmax_xent_grad": softmax_xent_grad, "row_update": row_update}

    def empty(self, shape: tuple, dtype: str) -> np.ndarray:
        return np.empty(shape, dtype)

    def to_device(self, array: Any) -> np.ndarray:
        return np.asarray(array)

    def to_host(self, array: Any) -> np.ndarray:
        return np.asarray(array)

    def synchronize(self) -> None:
        return None

    def arange(self, n: int) -> np.ndarray:
        return np.arange(n)

    def elementwise(self, name: str, cpu: Any, cuda: tuple[str, str, str]) -> NumpyElementwise:
        return NumpyElementwise(name, cpu.source, cpu.temps, cpu.bool_temps, self.threads)

    def host_function(self, fn: Callable) -> Callable:
        return fn

    def blas_guard(self, largest_product: int) -> Optional[tuple[Callable, Callable]]:
        """(enter, leave) calls that run a step's products on one BLAS thread when all are small;
        with large ones, on one thread or the default, whichever the step's calls measure faster."""
        blas = blas_threads()
        if blas.default <= 1 or largest_product <= 0:
            return None  # no products: do not touch BLAS (setting threads wakes its workers)
        if largest_product > self.single_blas_macs:
            return blas.measured_guard()
        return blas.setter(1), blas.setter(blas.default)
