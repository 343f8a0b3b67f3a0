"""The CUDA device: CuPy arrays; fused groups become cupy.ElementwiseKernels built from the ops'
scalar expressions, softmax and cross-entropy run as CuPy reductions, matrix products go to
cuBLAS through cupy.matmul. CuPy is imported here only, and only when the device is created.
"""
from __future__ import annotations

import hashlib
from typing import Any, Callable, Optional, Sequence

import numpy as np

from .base import DeviceError

_KERNELS: dict[str, Any] = {}


def _import_cupy() -> Any:
    try:
        import cupy
    except ImportError:
        raise DeviceError("CuPy is not installed (pip install loom-nn[gpu])") from None
    except Exception as e:  # a broken CUDA install can fail at import time
        raise DeviceError(f"CuPy failed to load: {e}") from None
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise DeviceError("no CUDA device found")
        int(cupy.arange(4).sum())  # compiles and runs a kernel: catches driver/toolkit mismatches
    except DeviceError:
        raise
    except Exception as e:
        raise DeviceError(f"CUDA is present but unusable: {e}") from None
    return cupy


class CupyElementwise:
    """One fused kernel on the GPU: a cupy.ElementwiseKernel (inputs broadcast), cached by source."""

    def __init__(self, cupy: Any, name: str, in_params: str, out_params: str, operation: str,
                 preamble: str) -> None:
        self.name = name
        key = hashlib.sha256("|".join((in_params, out_params, operation, preamble)).encode()).hexdigest()
        if key not in _KERNELS:
            _KERNELS[key] = cupy.ElementwiseKernel(in_params, out_params, operation, name, preamble=preamble)
        self.kernel = _KERNELS[key]

    def bind(self, out_shape: tuple, dtype: str, in_shapes: Sequence[tuple]) -> Callable:
        return self.kernel


class CupyDevice:
    """A CUDA GPU through CuPy. Creating it raises DeviceError when no usable GPU is present."""

    name = "cuda"
    max_operands = 64
    fallback_reason: Optional[str] = None

    def __init__(self) -> None:
        self.xp = _import_cupy()

    def __repr__(self) -> str:
        return "CupyDevice(cuda)"

    def namespace(self) -> dict:
        cp = self.xp
        return {"np": cp, "matmul": cp.matmul, "sum_reduce": cp.sum, "max_reduce": cp.amax,
                "broadcast_to": cp.broadcast_to, "expand_dims": cp.expand_dims, "take": cp.take,
                "concatenate": cp.concatenate, "softmax": self._softmax, "log_softmax": self._log_softmax,
                "softmax_xent": self._softmax_xent, "one_hot": self._one_hot, "softmax_rows": self._softmax_rows,
                "xent_grad_from": self._xent_grad_from, "softmax_xent_grad": self._softmax_xent_grad,
                "row_update": self._row_update}

    def empty(self, shape: tuple, dtype: str) -> Any:
        return self.xp.empty(shape, dtype)

    def arange(self, n: int) -> Any:
        return self.xp.arange(n)

    def to_device(self, array: Any) -> Any:
        return self.xp.asarray(array)

    def to_host(self, array: Any) -> np.ndarray:
        return self.xp.asnumpy(array)

    def synchronize(self) -> None:
        self.xp.cuda.get_current_stream().synchronize()

    def elementwise(self, name: str, cpu: Any, cuda: tuple[str, str, str]) -> CupyElementwise:
        in_params, out_params, operation = cuda
        return CupyElementwise(self.xp, name, in_params, out_params, operation, _PREAMBLE)

    def host_function(self, fn: Callable) -> Callable:
        """Run an op's NumPy reference on host copies (rare ops without a GPU kernel)."""
        cp = self.xp

        def run(ctx: Any, *arrays: Any) -> Any:
            return cp.asarray(fn(ctx, *(cp.asnumpy(a) if isinstance(a, cp.ndarray) else a for a in arrays)))
        return run

    # ---- Reductions (CuPy reduction kernels)

    def _softmax(self, x, axis, out, keep):
        cp = self.xp
        cp.amax(x, axis=axis, keepdims=True, out=keep)
        cp.subtract(x, keep, out=out)
        cp.exp(out, out=out)
        cp.sum(out, axis=axis, keepdims=True, out=keep)
        cp.divide(out, keep, out=out)

    def _softmax_rows(self, x, out, t, m, s):
        self._softmax(x, 1, out, m.reshape(-1, 1))

    def _log_softmax(self, x, axis, out, keep, full):
        cp = self.xp
        cp.amax(x, axis=axis, keepdims=True, out=keep)
        cp.subtract(x, keep, out=out)
        cp.exp(out, out=full)
        cp.sum(full, axis=axis, keepdims=True, out=keep)
        cp.log(keep, out=keep)
        cp.subtract(out, keep, out=out)

    def _check(self, labels, classes):
        if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= classes):
            raise ValueError(f"labels must lie in 0..{classes - 1}")

    def _shifted_columns(self, z, labels, t, m) -> int:
        """t = z.T minus each column's maximum (m), labels checked; returns the row count."""
        cp = self.xp
        n, classes = z.shape
        self._check(labels, classes)
        cp.copyto(t, z.T)
        cp.amax(t, axis=0, out=m)
        cp.subtract(t, m, out=t)
        return n

    def _softmax_xent(self, z, labels, out, t, m, s, picked, index, rows):
        cp = self.xp
        n = self._shifted_columns(z, labels, t, m)
        cp.multiply(labels, n, out=index)
        cp.add(index, rows, out=index)
        cp.take(t.reshape(-1), index, out=picked)
        cp.exp(t, out=t)
        cp.sum(t, axis=0, out=s)
        cp.subtract(picked, cp.log(s), out=picked)
        cp.sum(picked, out=out)
        cp.divide(out, -n, out=out)

    def _xent_grad_from(self, t, s, index, out):
        cp = self.xp
        cp.divide(t, s, out=t)
        flat = t.reshape(-1)
        flat[index] -= 1
        cp.copyto(out, t.T)

    def _softmax_xent_grad(self, z, labels, out, t, m, s, index, rows):
        cp = self.xp
        n = self._shifted_columns(z, labels, t, m)
        cp.exp(t, out=t)
        cp.sum(t, axis=0, out=s)
        cp.multiply(labels, n, out=index)
        cp.add(index, rows, out=index)
        self._xent_grad_from(t, s, index, out)

    def _row_update(self, table, ids, rows, lr):
        flat = ids.reshape(-1)
        self.xp.add.at(table, flat, rows.reshape(len(flat), -1) * -lr)   # atomics on the rows named

    def _one_hot(self, labels, out, rows):
        self._check(labels, out.shape[1])
        out.fill(0)
        out[rows, labels] = 1


# The helper functions the compiler's CUDA expressions call (core.devices knows no compiler:
# this text is the device's side of that contract, checked equal to expr.CUDA_PREAMBLE in tests).
_PREAMBLE = """\
template <typename T> __device__ __forceinline__ T loom_max(T a, T b) { return (a != a || a > b) ? a : b; }
template <typename T> __device__ __forceinline__ T loom_min(T a, T b) { return (a != a || a < b) ? a : b; }
template <typename T> __device__ __forceinline__ T loom_sign(T a) { return (T)((a > (T)0) - (a < (T)0)); }
"""
