"""Where a compiled step spends its time, node by node (Theano's ProfileMode, on the generated code).

The step's source is run again with a clock read at the start of each node's lines: generated code
opens every node's block with a comment naming it (`# hidden_tanh_fused: Fused`), so a fused kernel
is timed under its Fused node. Function.profile puts the state and the random generator back
afterwards, so profiling a live run changes nothing it computes.
"""
from __future__ import annotations

import re
import statistics
import time
from typing import Any, Optional

BLOCK = re.compile(r"^    # ([A-Za-z_][A-Za-z0-9_]*)(?::|$)")     # "# node: Op", or "# updates"


def timed_source(source: str) -> tuple[str, list[str]]:
    """The step's source with `_lap(k)` before the k-th block and `_lap(None)` before it returns,
    and the blocks' names in order."""
    lines, names = [], []
    for line in source.splitlines():
        match = BLOCK.match(line)
        if match:
            lines.append(f"    _lap({len(names)})")
            names.append(match.group(1))
        elif line.startswith("    return "):
            lines.append("    _lap(None)")
        lines.append(line)
    return "\n".join(lines) + "\n", names


class Laps:
    """Adds the time since the last lap to the block that was running (synchronizing a GPU first)."""

    def __init__(self, blocks: int, synchronize: Any) -> None:
        self.totals = [0.0] * blocks
        self.current: Optional[int] = None
        self.started = 0.0
        self.synchronize = synchronize

    def __call__(self, block: Optional[int]) -> None:
        self.synchronize()
        now = time.perf_counter()
        if self.current is not None:
            self.totals[self.current] += now - self.started
        self.current = block
        self.started = time.perf_counter()


def profile(program: Any, args: tuple, guard: Any, synchronize: Any, repeats: int = 20) -> dict[str, float]:
    """Median seconds per call of each node's lines of `program`'s step, run on `args` (I, S, B).

    Keys are node names of the optimized graph, plus "updates" for the state copies at the end; a
    fused kernel is under its Fused node. The caller puts the state back (Function.profile does).
    """
    source, names = timed_source(program.source)
    namespace = dict(program.step.__globals__)
    laps = Laps(len(names), synchronize)
    namespace["_lap"] = laps
    exec(compile(source, "<loom timed step>", "exec"), namespace)    # the generated source, re-run
    step, samples = namespace["step"], []
    if guard:
        guard[0]()
    try:
        for _ in range(repeats):
            laps.totals = [0.0] * len(names)
            step(*args)
            samples.append(laps.totals)
    finally:
        if guard:
            guard[1]()
    times: dict[str, float] = {}
    for k, name in enumerate(names):
        times[name] = times.get(name, 0.0) + statistics.median(sample[k] for sample in samples)
    return times
