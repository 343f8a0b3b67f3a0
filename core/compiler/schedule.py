"""Scheduling and memory: the order nodes run in, and which buffer each value lives in.

Values that are not buffers (feeds, state, bind-time statics, views, fresh arrays) are told
apart by the emitters' kinds; buffers are reused by liveness, in place where a node is marked.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Callable, Sequence

from core.graph import Graph

Ref = tuple[str, str]
SOURCES = ("Input", "Parameter")
ELEMENTWISE_SAFE = "elementwise"


@dataclass
class Slot:
    """One preallocated buffer: a symbolic shape (with N) and a dtype."""

    shape: tuple
    dtype: str


@dataclass
class Plan:
    """The schedule and the buffer assignment of one compiled step."""

    order: list[str]
    kinds: dict[Ref, str]
    statics: list[str]
    slots: list[Slot] = field(default_factory=list)
    slot_of: dict[Ref, int] = field(default_factory=dict)
    inplace_updates: dict[str, Ref] = field(default_factory=dict)
    copied_updates: dict[str, Ref] = field(default_factory=dict)
    reused: list[tuple[str, str]] = field(default_factory=list)
    fresh_outputs: set = field(default_factory=set)


def static_nodes(graph: Graph, needed: set[str]) -> list[str]:
    """Nodes whose value depends only on shapes and constants: computed once per batch size."""
    static: list[str] = []
    for node in graph.topological_order(needed):
        spec = graph.spec(node)
        if spec.name in ("Constant", "Size"):
            static.append(node)
        elif spec.name not in SOURCES and not spec.stochastic and (spec.expr or spec.name == "Fused"):
            sources = [graph.source(node, p) for p in spec.input_names(graph.attrs(node))]
            if sources and all(s[0] in static for s in sources):
                static.append(node)
    return static


def schedule(graph: Graph, needed: set[str], late: set[str]) -> list[str]:
    """Topological order of `needed`, keeping graph order, with the nodes in `late` as late as possible."""
    index = {n: i for i, n in enumerate(graph.nodes)}
    indegree = {n: sum(1 for e in graph.nx.in_edges(n) if e[0] in needed) for n in needed}
    ready = [((n in late), index[n], n) for n, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, _, node = heapq.heappop(ready)
        order.append(node)
        for _, dst in graph.nx.out_edges(node):
            if dst in needed:
                indegree[dst] -= 1
                if indegree[dst] == 0:
                    heapq.heappush(ready, ((dst in late), index[dst], dst))
    return order


def plan(graph: Graph, outputs: Sequence[Ref], updates: dict[str, Ref],
         kind_of: Callable[[Graph, str], str], types: dict, share: bool = True) -> Plan:
    """Order the nodes and give every buffer value a slot.

    kind_of(graph, node) says what a node's output is: "buffer" (written with out=), an
    "elementwise" buffer (safe to write over its operands), "view" (of its first input),
    or "fresh" (a new array each step). With share=False no two values share a slot (no
    reuse by liveness, no writing over an operand), so each slot holds one node's value;
    updates are still written into their state when nothing reads the old value later.
    """
    wanted = [r[0] for r in outputs] + [r[0] for r in updates.values()]
    needed = graph.required(wanted) if wanted else set()
    statics = static_nodes(graph, needed)
    kinds: dict[Ref, str] = {}
    for node in needed:
        op = graph.op_name(node)
        kind = ("feed" if op == "Input" else "state" if op == "Parameter"
                else "static" if node in statics else kind_of(graph, node))
        kinds[(node, "y")] = kind
    late = {r[0] for r in updates.values() if kinds[r] in ("buffer", ELEMENTWISE_SAFE)}
    order = [n for n in schedule(graph, needed, late) if kinds[(n, "y")] not in ("feed", "state", "static")]
    result = Plan(order, kinds, statics)
    position = {n: i for i, n in enumerate(order)}
    end = len(order)

    def storage(ref: Ref) -> Ref:
        while kinds.get(ref) == "view":
            ref = graph.source(ref[0], graph.spec(ref[0]).input_names(graph.attrs(ref[0]))[0])
        return ref

    last_use: dict[Ref, int] = {}
    for node in order:
        for port in graph.spec(node).input_names(graph.attrs(node)):
            src = storage(graph.source(node, port))
            last_use[src] = max(last_use.get(src, -1), position[node])
    for ref in list(outputs) + list(updates.values()):
        last_use[storage(ref)] = end
    _updates_in_place(graph, updates, kinds, position, last_use, storage, types, outputs, result)
    result.fresh_outputs = {r for r in outputs if kinds.get(r) in ("buffer", ELEMENTWISE_SAFE)
                            and r not in updates.values()}
    free: dict[tuple, list[int]] = {}
    dying: dict[int, list[Ref]] = {}
    for ref, pos in last_use.items():
        dying.setdefault(pos, []).append(ref)
    for pos, node in enumerate(order):
        ref = (node, "y")
        if kinds[ref] in ("buffer", ELEMENTWISE_SAFE) and ref not in result.inplace_updates.values() \
                and ref not in result.fresh_outputs:
            t = types[ref]
            key = (t.shape, t.dtype)
            mark = graph.ui(node).get("inplace")
            operand = storage(graph.source(node, mark)) if mark else None
            if share and operand is not None and operand in result.slot_of and last_use.get(operand) == pos \
                    and _slot_key(result, operand) == key and kinds[ref] == ELEMENTWISE_SAFE:
                result.slot_of[ref] = result.slot_of[operand]
                result.reused.append((node, operand[0]))
            elif share and free.get(key):
                result.slot_of[ref] = free[key].pop()
            else:
                result.slots.append(Slot(t.shape, t.dtype))
                result.slot_of[ref] = len(result.slots) - 1
            if ref not in last_use:
                last_use[ref] = pos
                dying.setdefault(pos, []).append(ref)
        for dead in dying.get(pos, ()):
            if dead in result.slot_of and result.slot_of[dead] not in _live_slots(result, last_use, pos, dead):
                free.setdefault(_slot_key(result, dead), []).append(result.slot_of[dead])
    return result


def _slot_key(plan_: Plan, ref: Ref) -> tuple:
    slot = plan_.slots[plan_.slot_of[ref]]
    return slot.shape, slot.dtype


def _live_slots(plan_: Plan, last_use: dict, pos: int, dead: Ref) -> set[int]:
    """Slots still held by values other than `dead` (an in-place chain shares one slot)."""
    return {s for r, s in plan_.slot_of.items() if r != dead and last_use.get(r, -1) > pos}


def _updates_in_place(graph: Graph, updates: dict[str, Ref], kinds: dict, position: dict,
                      last_use: dict, storage: Callable, types: dict, outputs: Sequence[Ref],
                      result: Plan) -> None:
    """Write an update straight into its state array when nothing reads the old value later."""
    claimed: set[Ref] = set(outputs)
    for key, ref in updates.items():
        param = (key, "y")
        ok = (kinds.get(ref) == ELEMENTWISE_SAFE and ref not in claimed and param in types
              and types[param] == types[ref] and ref[0] in position)
        if ok:
            readers_after = [n for n in position if position[n] > position[ref[0]]
                             and any(storage(graph.source(n, p)) in (param, ref)
                                     for p in graph.spec(n).input_names(graph.attrs(n)))]
            ok = not readers_after and last_use.get(param, -1) <= position[ref[0]]
        if ok:
            result.inplace_updates[key] = ref
        else:
            result.copied_updates[key] = ref
        claimed.add(ref)
