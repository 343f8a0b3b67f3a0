"""Parameter values: seeded, reproducible initialization of every array a graph owns."""
from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Optional

import numpy as np

from .errors import GraphError
from .spec import ParamDecl
from .validate import MAX_PARAM_SIZE

if TYPE_CHECKING:
    from .graph import Graph


def init_array(key: str, decl: ParamDecl, seed: int) -> np.ndarray:
    """Draw one parameter; the same key, declaration and seed always give the same values."""
    rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
    fan_in, fan_out = decl.fans
    if decl.init == "zeros":
        values = np.zeros(decl.shape)
    elif decl.init == "constant":
        values = np.full(decl.shape, decl.scale)
    elif decl.init == "uniform":
        values = rng.uniform(-decl.scale, decl.scale, decl.shape)
    elif decl.init == "normal":
        values = rng.normal(0.0, decl.scale, decl.shape)
    elif decl.init == "glorot_uniform":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        values = rng.uniform(-limit, limit, decl.shape)
    elif decl.init == "he_normal":
        values = rng.normal(0.0, np.sqrt(2.0 / fan_in), decl.shape)
    else:
        raise ValueError(f"unknown init {decl.init!r}")
    return values.astype(decl.dtype)


def init_params(graph: "Graph", seed: int = 0, given: Optional[dict] = None) -> dict[str, np.ndarray]:
    """Values for every parameter of `graph`: those in `given` (checked), the rest drawn.

    Raises GraphError naming the parameter when a given array has the wrong shape.
    """
    given = given or {}
    values = {}
    for key, (node, _, decl) in graph.analysis().params.items():
        if int(np.prod(decl.shape)) > MAX_PARAM_SIZE:
            raise GraphError(f"parameter '{key}' is too large to create", node=node)
        if key in given:
            array = np.asarray(given[key])
            if array.shape != tuple(decl.shape):
                raise GraphError(f"weights for '{key}' have shape {array.shape}, "
                                 f"the graph needs {tuple(decl.shape)}", node=node)
            values[key] = array.astype(decl.dtype, copy=True)
        else:
            values[key] = init_array(key, decl, seed)
    return values


def param_decls(graph: "Graph") -> dict[str, tuple[str, str, ParamDecl]]:
    """Every parameter of the graph: key -> (node id, name within the node, declaration)."""
    return dict(graph.analysis().params)
