"""What a compiled step did, told against the user's graph: which of the user's nodes each kernel
works for, and what each optimization pass changed (op and kernel counts before and after).

A node of the training graph belongs to a user's node by name (the node itself, or the layer whose
prefix it carries), by the forward node its gradient came from (ui "grad_of", set by autodiff),
or, for optimizer nodes, by the parameters whose update reads it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import networkx as nx

from core.graph import Graph, graph_document

from .autodiff import GRAD_OF
from .pipeline import stages


def user_node_of(node: str, user_nodes: set[str]) -> Optional[str]:
    """The user's node a training-graph node comes from: itself, or the layer whose prefix it carries."""
    if node in user_nodes:
        return node
    best = None
    for user in user_nodes:
        if node.startswith(user + "_") and (best is None or len(user) > len(best)):
            best = user
    return best


def owners(train_graph: Graph, updates: dict[str, tuple[str, str]], user_nodes: set[str]) -> dict[str, set[str]]:
    """For every node of the training graph, the user's nodes it works for."""
    owner: dict[str, set[str]] = {}
    for node in train_graph.nodes:
        role = train_graph.role(node)
        origin = train_graph.ui(node).get(GRAD_OF) if role == "grad" else node
        found = user_node_of(origin, user_nodes) if isinstance(origin, str) else None
        owner[node] = {found} if found and role != "update" else set()
    for key, (node, _) in updates.items():
        param = user_node_of(key, user_nodes)
        if param is None or node not in train_graph:
            continue
        for member in nx.ancestors(train_graph.nx, node) | {node}:
            if train_graph.role(member) == "update":
                owner[member].add(param)
    return owner


def credit(covers: list[str], owner: dict[str, set[str]]) -> list[str]:
    """The user's nodes a kernel covering `covers` works for: every one of them, not the first."""
    found: set[str] = set()
    for node in covers:
        found |= owner.get(node, set())
    return sorted(found)


@dataclass
class PassStory:
    """One optimization pass: what it did, in words, and the graph's size before and after."""

    phase: str
    ops_before: int
    ops_after: int
    kernels_before: int
    kernels_after: int
    changes: list[str] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)      # the user's nodes it touched
    nodes: list[str] = field(default_factory=list)        # the training-graph nodes it touched
    before: dict = field(default_factory=dict)            # the live graph before and after, as documents
    after: dict = field(default_factory=dict)


def pass_stories(train_graph: Graph, outputs: list, updates: dict, user_nodes: set[str],
                 options: Optional[dict] = None) -> list[PassStory]:
    """Run the optimization phases again on the training graph and tell each one's effect."""
    owner = owners(train_graph, updates, user_nodes)
    protected = list(outputs) + list(updates.values())
    before = train_graph.subgraph([r[0] for r in protected])
    stories = []
    for phase, after, refs, records in stages(train_graph, protected, (), options):
        live = after.subgraph([r[0] for r in refs]) if refs else after
        touched = credit([n for r in records for n in r.nodes], owner)
        stories.append(PassStory(phase, _ops(before), _ops(live), _kernels(before), _kernels(live),
                                 [f"{r.rewrite}: {r.reason}" for r in records], touched,
                                 sorted({n for r in records for n in r.nodes}),
                                 graph_document(before), graph_document(live)))
        before = live
    return stories


def _ops(graph: Graph) -> int:
    return sum(1 for n in graph.nodes if graph.op_name(n) not in ("Input", "Parameter", "Constant"))


def _kernels(graph: Graph) -> int:
    return sum(1 for n in graph.nodes if graph.op_name(n) == "Fused")


def annotate_kernel(source: str, covers: list[str], owner: dict[str, set[str]]) -> str:
    """The kernel's NumPy source with each op line followed by the node it computes and the user's node
    that node works for (`np.tanh(out, out)  # h1`). The generator writes one line per covered op, in
    order; a kernel run for several parameters at once repeats its lines for each of them."""
    lines = source.splitlines()
    ops = [i for i, line in enumerate(lines) if line.strip().startswith("np.")]
    if not ops or len(covers) % len(ops):
        return source
    for j, i in enumerate(ops):
        nodes = covers[j::len(ops)]
        users = sorted(set().union(*(owner.get(n, set()) for n in nodes)))
        where = ", ".join(nodes) if len(nodes) <= 2 else f"{nodes[0]} and {len(nodes) - 1} more"
        lines[i] += f"  # {where}" + (f" ← {', '.join(users)}" if users and users != nodes else "")
    return "\n".join(lines)
