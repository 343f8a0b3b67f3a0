"""Back ends behind one small interface: NumPy on the CPU, CuPy on a CUDA GPU.

`get_device("auto")` takes a working CUDA GPU, else the CPU, and says which; a CUDA failure
falls back to the CPU with one clear message (`device.fallback_reason`), never a crash.
"""
from __future__ import annotations

import warnings
from typing import Optional

from .base import Device, DeviceError
from .numpy_device import NumpyDevice

_CUDA: Optional[object] = None
_CUDA_ERROR: Optional[str] = None
_WARNED: set[str] = set()


def _cuda() -> Optional[object]:
    """The CUDA device if one works here (probed once), else None with the reason kept."""
    global _CUDA, _CUDA_ERROR
    if _CUDA is None and _CUDA_ERROR is None:
        try:
            from .cupy_device import CupyDevice

            _CUDA = CupyDevice()
        except DeviceError as e:
            _CUDA_ERROR = str(e)
    return _CUDA


def cuda_unavailable_reason() -> Optional[str]:
    """Why CUDA cannot be used here, or None when it can."""
    _cuda()
    return _CUDA_ERROR


def available_devices() -> list[str]:
    """The devices this machine can run: always "cpu", and "cuda" when a GPU works."""
    return ["cpu"] + (["cuda"] if _cuda() is not None else [])


def get_device(name: str = "auto") -> Device:
    """The device for `name` ("auto", "cpu" or "cuda"); CUDA trouble falls back to the CPU, said once."""
    if name == "cpu":
        return NumpyDevice()
    if name not in ("auto", "cuda"):
        raise ValueError(f"unknown device {name!r}; use auto, cpu or cuda")
    device = _cuda()
    if device is not None:
        return device
    reason = f"CUDA is not available ({_CUDA_ERROR}); running on the CPU"
    if name == "cuda" and reason not in _WARNED:
        _WARNED.add(reason)
        warnings.warn(reason, RuntimeWarning, stacklevel=2)
    return NumpyDevice(fallback_reason=reason)


__all__ = ["Device", "DeviceError", "NumpyDevice", "available_devices", "cuda_unavailable_reason", "get_device"]
