"""`grad(cost, wrt)`: Theano's T.grad; the gradient is built as nodes of the same graph
(core.compiler.autodiff), so it can be shown, optimized, compiled and differentiated again."""
from __future__ import annotations

from typing import Sequence, Union

from core.compiler.autodiff import add_gradients
from core.graph import LoomError

from .session import FrontEndTypeError, user_frame
from .variable import Variable


def grad(cost: Variable, wrt: Union[Variable, Sequence[Variable]]) -> Union[Variable, list[Variable]]:
    """d(cost)/d(w) for each w: a Variable for one, a list for a list.

    Raises FrontEndTypeError at the user's line when the cost is not a float scalar or does not
    depend on a w.
    """
    single = isinstance(wrt, Variable)
    targets = [wrt] if single else list(wrt)
    file, line = user_frame()
    if cost.shape != () or not cost.type.is_float:
        raise FrontEndTypeError(f"grad needs a float scalar cost; {cost.node} is {cost.type}", file=file, line=line)
    graph = cost.builder.graph
    try:
        found = add_gradients(graph, (cost.node, cost.port), [w.node for w in targets])
    except LoomError as error:
        error.file, error.line = error.file or file, error.line or line
        raise
    result = []
    for w in targets:
        if w.node not in found.grads:
            raise FrontEndTypeError(f"the cost {cost.node} does not depend on {w.node}: {w.type}",
                                    node=w.node, file=file, line=line)
        result.append(cost.builder.var(*found.grads[w.node]))
    return result[0] if single else result
