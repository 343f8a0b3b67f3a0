"""A CuPy made of NumPy, for tests of the CUDA device's and the GPU benchmark's Python side where
no GPU is: CuPy mirrors NumPy's API for every call they make."""
from __future__ import annotations

import numpy as np

from core.devices import NumpyDevice
from core.devices.cupy_device import CupyDevice


class NumpyAsCupy:
    """NumPy under CuPy's few extra names; asnumpy copies, as CuPy's does."""

    ndarray = np.ndarray

    class cuda:
        @staticmethod
        def get_current_stream():
            return type("Stream", (), {"synchronize": staticmethod(lambda: None)})

    @staticmethod
    def asnumpy(array):
        return np.array(array)

    def __getattr__(self, name):
        return getattr(np, name)


class CupyOnNumpy(CupyDevice):
    """The CUDA device on NumPy; its elementwise kernels are NumPy's (CUDA source is nvcc's to check)."""

    def __init__(self):
        self.xp = NumpyAsCupy()

    def elementwise(self, name, cpu, cuda):
        return NumpyDevice().elementwise(name, cpu, cuda)
