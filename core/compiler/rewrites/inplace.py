"""In-place reuse: an elementwise kernel may write its result over an operand that dies with it.

The pass marks such nodes (ui "inplace" = the input port whose buffer is reused); the buffer
planner in schedule.py honours the mark, and reuses any other dead buffer by liveness.
"""
from __future__ import annotations

from .base import Rewriter, graph_pass

NOT_BUFFERS = ("Input", "Parameter", "Constant", "Size", "Reshape", "ReshapeLike", "Flatten", "Transpose",
               "BroadcastLike")


@graph_pass("inplace", tags=("inplace",))
def reuse_operand_buffers(rw: Rewriter) -> None:
    """y = f(x, ...) with x read only here -> y written over x"""
    for node in rw.graph.topological_order():
        if rw.graph.spec(node).expr is None and rw.op(node) != "Fused":
            continue
        out_type = rw.type((node, "y"))
        spec = rw.graph.spec(node)
        for port in spec.input_names(rw.attrs(node)):
            ref = rw.src(node, port)
            if rw.op(ref[0]) in NOT_BUFFERS or rw.is_output(ref[0]) or rw.graph.spec(ref[0]).expand:
                continue
            if rw.type(ref) != out_type or len(rw.graph.out_edges(ref[0])) != 1:
                continue
            rw.graph.set_ui(node, "inplace", port)
            rw.record(f"{node} writes over {ref[0]}", (node, ref[0]))
            break
