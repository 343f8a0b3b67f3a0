"""What the editor's Compiled view shows for a front-end function: its kernels over the user's
nodes, the rewrites that fired and the generated step (gathered here; no profiling run)."""
from __future__ import annotations

from gui.training.batch_tasks import CompiledInfo, KernelInfo, users_of

from .compiled import Function

PARTS = {"grad": "backward", "update": "optimizer"}


def compiled_info(fn: Function) -> CompiledInfo:
    """The CompiledInfo of `fn`'s step, for CompiledView.show_info."""
    step = fn.compiled
    user_nodes = set(fn.graph.nodes)
    info = CompiledInfo(rewrites=[str(r) for r in step.rewrites], step_source=step.source)
    for name, sources in step.kernels.items():
        covers = list(step.groups.get(name, []))
        users = users_of(step.optimized, step.kernel_nodes[name], covers, user_nodes)
        role = step.graph.role(covers[-1]) if covers and covers[-1] in step.graph else None
        info.kernels.append(KernelInfo(name, covers, users, PARTS.get(role or "", "forward"), "",
                                       str(sources.get("cpu", "")), str(sources.get("cuda", ""))))
    info.notes.append("Compiled from Python by loom.function; times appear for training runs started here.")
    return info
