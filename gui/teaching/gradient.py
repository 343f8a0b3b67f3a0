"""Graph ▸ Show / Grow / Hide / Keep Gradient: the nodes symbolic differentiation adds, on the canvas.

Each is one undoable step over the user's graph. Shown nodes carry ui "gradient_view" and are left
out when the file is saved, until Keep makes them ordinary nodes. They sit as a mirror of the
forward graph: in the column of the forward node they came from, below the forward graph, so
the backward pass reads from right to left.
"""
from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtWidgets import QInputDialog

from core.compiler.autodiff import GRAD_OF
from core.compiler.gradient_view import (SHOWN, WRT, GradientNode, GradientView, gradient_view, scalar_costs,
                                         shown_gradient_nodes)
from core.graph import Graph, LoomError

from ..canvas.commands import AddNodeCommand, ConnectCommand, SetUiCommand
from ..canvas.edits import delete_items, macro
from .values import COST

ROW, GAP = 150.0, 190.0        # model units between stacked gradient nodes; below the forward graph


def ask_cost(parent, costs: list[str]) -> Optional[str]:
    """Which scalar to differentiate when the graph has several (tests replace `choose_cost`)."""
    name, ok = QInputDialog.getItem(parent, "Show gradient", "Gradient of which scalar cost?", costs, 0, False)
    return name if ok else None


def mirror_positions(graph: Graph, nodes: list[GradientNode]) -> dict[str, list[float]]:
    """A position for each gradient node: its forward node's column, stacked below the forward graph."""
    forward = [n for n in graph.nodes if not graph.ui(n).get(SHOWN)]
    points = {n: graph.ui(n).get("pos") or [0.0, 0.0] for n in forward}
    bottom = max((p[1] for p in points.values()), default=0.0) + GAP
    taken: dict[float, int] = {}
    for n in graph.nodes:
        if graph.ui(n).get(SHOWN) and graph.ui(n).get("pos"):
            x = float(graph.ui(n)["pos"][0])
            taken[x] = taken.get(x, 0) + 1
    out = {}
    for node in nodes:
        x = float(points.get(node.origin, [0.0, 0.0])[0])
        k = taken.get(x, 0)
        taken[x] = k + 1
        out[node.node_id] = [x, bottom + k * ROW]
    return out


class GradientController:
    """Shows, grows, hides and keeps the gradient graph of the window's graph."""

    def __init__(self, window, message: Callable[[str], None]) -> None:
        self.window = window
        self.message = message
        self.choose_cost: Callable = ask_cost
        self.cost: Optional[str] = None

    @property
    def graph(self) -> Graph:
        return self.window.graph

    # ---- Public API

    def show(self, cost: Optional[str] = None) -> bool:
        """Add every gradient node not shown yet (one undo step)."""
        view = self._view(cost)
        if view is None:
            return False
        missing = [n for n in view.nodes if n.node_id not in self.graph]
        self._add(view, missing, f"show gradient of {view.cost}")
        self.message(f"Gradient of '{view.cost}': {len(view.nodes)} nodes "
                     f"(d{view.cost}/d{', d'.join(view.wrt)} at {', '.join(view.grads.values())}).")
        return True

    def grow(self, cost: Optional[str] = None) -> Optional[str]:
        """Add the gradient nodes of the next forward node in reverse topological order; returns it."""
        view = self._view(cost)
        if view is None:
            return None
        for origin in view.growth_order():
            missing = [n for n in view.nodes_of({origin}) if n.node_id not in self.graph]
            if missing:
                self._add(view, missing, f"grow gradient at {origin}")
                self.window.scene.select_nodes([n.node_id for n in missing])
                self.message(f"Chain rule at '{origin}': {len(missing)} node(s) added "
                             f"({', '.join(n.op for n in missing)}).")
                return origin
        self.message("The gradient is complete.")
        return None

    def hide(self) -> bool:
        """Remove the shown gradient nodes (one undo step)."""
        shown = shown_gradient_nodes(self.graph)
        if not shown:
            return False
        with macro(self.window.undo_stack, "hide gradient"):
            delete_items(self.window.undo_stack, self.graph, shown)
        return True

    def keep(self) -> int:
        """Make the shown gradient nodes ordinary nodes of the graph, saved with it (one undo step)."""
        shown = shown_gradient_nodes(self.graph)
        if shown:
            with macro(self.window.undo_stack, "keep gradient"):
                for node_id in shown:
                    self.window.undo_stack.push(SetUiCommand(self.graph, node_id, SHOWN, None))
            self.message(f"Kept {len(shown)} gradient nodes: they are now part of the graph and its file.")
        return len(shown)

    # ---- Internals

    def _view(self, cost: Optional[str]) -> Optional[GradientView]:
        shown = self._shown_cost()
        if cost and shown and cost != shown:
            self.hide()                       # the gradient of another cost gives way
        cost = cost or shown or self._pick_cost()
        if cost is None:
            return None
        try:
            view = gradient_view(self.graph, cost)
        except LoomError as e:
            where = f"'{e.node}': " if getattr(e, "node", None) else ""
            self.message(f"Cannot show the gradient: {where}{e.message}")
            return None
        self.cost = cost
        return view

    def _shown_cost(self) -> Optional[str]:
        for node_id in shown_gradient_nodes(self.graph):
            cost = self.graph.ui(node_id).get(COST)
            if cost in self.graph:
                return cost
        return None

    def _pick_cost(self) -> Optional[str]:
        """The selected scalar, the training loss, the only scalar output; else the user chooses."""
        costs = scalar_costs(self.graph)
        if not costs:
            self.message("Cannot show a gradient: no node computes a float scalar to differentiate.")
            return None
        selected = [n for n in self.window.scene.selected_nodes() if n in costs]
        outputs = [n for n in costs if not self.graph.out_edges(n)]
        if len(selected) == 1:
            return selected[0]
        if len(costs) == 1 or self.graph.training.get("loss") == costs[0]:
            return costs[0]
        if len(outputs) == 1:
            return outputs[0]
        return self.choose_cost(self.window, costs)

    def _add(self, view: GradientView, nodes: list[GradientNode], text: str) -> None:
        had_values = bool(self.window.teaching.values.shown)
        stack = self.window.undo_stack
        places = mirror_positions(self.graph, nodes)
        ids = {n.node_id for n in nodes}
        with macro(stack, text):
            for node in nodes:
                ui = {"pos": places[node.node_id], GRAD_OF: node.origin, SHOWN: True, COST: view.cost}
                if node.wrt:
                    ui[WRT] = node.wrt
                stack.push(AddNodeCommand(self.graph, node.op, node.attrs, node_id=node.node_id, ui=ui,
                                          role="grad"))
            for edge in view.edges:
                if edge.dst in ids and edge.src in self.graph:
                    stack.push(ConnectCommand(self.graph, edge, typed=False))
        if had_values:
            self.window.teaching.values.run()
