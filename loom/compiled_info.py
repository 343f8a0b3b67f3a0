"""What the editor's Compiled view shows for a front-end function: its kernels over the user's
nodes, the rewrites that fired and the generated step (gathered here; no profiling run)."""
from __future__ import annotations

from gui.training.batch_tasks import CompiledInfo, KernelInfo, users_of

from .compiled import Function

PARTS = {"grad": "backward", "update": "optimizer"}


def compiled_info(fn: Function, user_nodes: set[str]) -> CompiledInfo:
    """The CompiledInfo of `fn`'s step, for CompiledView.show_info; kernels name the `user_nodes`
    (those on the canvas) they compute or read."""
    step = fn.compiled
    info = CompiledInfo(rewrites=[str(r) for r in step.rewrites], step_source=step.source)
    for name, sources in step.kernels.items():
        covers = list(step.groups.get(name, []))
        users = users_of(step.optimized, step.kernel_nodes[name], covers, user_nodes)
        last = covers[-1] if covers else ""
        role = next((g.role(last) for g in (step.optimized, step.graph) if last in g), None)
        info.kernels.append(KernelInfo(name, covers, users, PARTS.get(role or "", "forward"), "",
                                       str(sources.get("cpu", "")), str(sources.get("cuda", ""))))
    info.notes.append("Compiled from Python by loom.function; times appear for training runs started here.")
    return info
