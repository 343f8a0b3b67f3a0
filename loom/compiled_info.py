"""What the editor's Compiled view shows for a front-end function: its kernels over the user's
nodes, the passes and rewrites that made them and the generated step (no profiling run)."""
from __future__ import annotations

from gui.training.batch_tasks import CompiledInfo, describe_step

from .compiled import Function


def compiled_info(fn: Function, user_nodes: set[str]) -> CompiledInfo:
    """The CompiledInfo of `fn`'s step, for CompiledView.show_info; kernels name the `user_nodes`
    (those on the canvas) they compute or read."""
    step = fn.compiled
    info = describe_step(step, step.graph, user_nodes)
    info.notes.append("Compiled from Python by loom.function; times appear for training runs started here.")
    return info
