"""Random edit sequences through the real window (add, connect, delete, move, set an attribute through
the inspector, paste arbitrary text, expand and collapse, undo and redo): no exception escapes, and
after every undo or redo the model equals the state recorded at that place in the history.
A few sequences in CI; LOOM_FUZZ_LONG=1 runs 1,000."""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QPointF

from core.graph import Edge, all_ops, load_graph
from file_mutations import EXAMPLES, OUTCOMES, mutate
from fuzz_settings import cases, phases
from gui.canvas.commands import ConnectCommand, MoveNodeCommand
from gui.canvas.edits import copy_document
from gui.document import Document

OPS = [s.name for s in all_ops() if not s.hidden and s.category != "Internal"]
ACTIONS = ["add", "add", "connect", "connect", "delete", "move", "attr", "attr", "paste", "paste_mutated",
           "paste_text", "expand", "collapse", "undo", "undo", "redo"]
TEXTS = ["", "plain words", "[1, 2]", "{}", '{"format": "loom-graph", "version": 1, "nodes": []}',
         '{"format": "loom-graph", "version": 1, "nodes": [{"id": "a", "op": "Tanh", "ui": {"pos": "200,0"}}]}',
         '{"format": "loom-graph", "version": 1, "nodes": [{"id": "a", "op": "Dense", "ui": {"pos": [200]}}]}',
         '{"format": "loom-graph", "version": 1, "nodes": [{"id": "a", "op": "Tanh", "ui": {"pos": [null, null]}}]}',
         '{"format": "loom-graph", "version": 1, "nodes": [{"id": "a", "op": "Tanh", "ui": {"layer": {"id": 1}}}]}']
ATTR_VALUES = [0, 1, -1, 3, 2.5, 1e9, True, None, "N", "float64", "int64", "relu", [2], ["N", 3], ["N", 2, 2],
               [3, 3], [], "x1 + x2", 10 ** 30]
SEQUENCES = settings(max_examples=cases(6, 1000), deadline=None, database=None,
                     derandomize=not os.environ.get("LOOM_FUZZ_LONG"), suppress_health_check=list(HealthCheck),
                phases=phases())


class History:
    """The model's serialized state at each index of the undo stack."""

    def __init__(self, window) -> None:
        self.window = window
        self.states = {window.undo_stack.index(): self.now()}

    def now(self) -> str:
        graph = self.window.document.graph
        return json.dumps(graph.to_dict(), sort_keys=True)

    def after_edit(self, before: tuple[int, int], before_state: str) -> None:
        stack = self.window.undo_stack
        if (stack.index(), stack.count()) == before:
            assert self.now() == before_state, "a refused edit changed the model"
            return   # nothing pushed: the redo history stays as it was
        self.states = {i: s for i, s in self.states.items() if i < stack.index()}
        self.states[stack.index()] = self.now()

    def check(self) -> None:
        OUTCOMES["states checked after undo or redo"] += 1
        index = self.window.undo_stack.index()
        assert self.now() == self.states[index], f"the model differs from the state recorded at index {index}"


def _act(window, history: History, draw, rng: random.Random) -> None:
    graph, stack, scene = window.document.graph, window.undo_stack, window.scene
    nodes = list(graph.nodes)
    action = draw(st.sampled_from(ACTIONS))
    OUTCOMES[f"action {action}"] += 1
    index, state = (stack.index(), stack.count()), history.now()
    if action == "undo" and stack.canUndo():
        window.act_undo.trigger()
        history.check()
        return
    if action == "redo" and stack.canRedo():
        window.act_redo.trigger()
        history.check()
        return
    if action == "add":
        window.view.drop_op(draw(st.sampled_from(OPS)), QPointF(rng.uniform(-400, 400), rng.uniform(-300, 300)))
    elif action == "connect" and nodes:
        src, dst = rng.choice(nodes), rng.choice(nodes)
        port = rng.choice(list(graph.spec(dst).input_names(graph.attrs(dst))) or ["x"])
        ok, _ = graph.check_wire(src, graph.spec(src).output_names()[0], dst, port)
        if ok:   # as EdgeDrag does: a wire it refuses is never pushed
            stack.push(ConnectCommand(graph, Edge(src, graph.spec(src).output_names()[0], dst, port)))
    elif action == "delete" and nodes:
        scene.select_nodes(rng.sample(nodes, min(len(nodes), rng.randint(1, 3))))
        window.delete_selection()
    elif action == "move" and nodes:
        node = rng.choice(nodes)
        stack.push(MoveNodeCommand(graph, {node: (graph.ui(node).get("pos"), [rng.uniform(-500, 500), 0.0])},
                                   drag_id=rng.randint(1, 10 ** 9)))
    elif action == "attr" and nodes:
        node = rng.choice(nodes)
        names = [a.name for a in graph.spec(node).attrs]
        if names:
            window.scene.select_nodes([node])
            window.inspector.show_node(node, force=True)
            window.inspector._commit(rng.choice(names), draw(st.sampled_from(ATTR_VALUES)))
    elif action in ("paste", "paste_mutated") and nodes:
        text = copy_document(graph, rng.sample(nodes, min(len(nodes), rng.randint(1, 4))))
        if action == "paste_mutated":
            try:
                text = json.dumps(mutate(draw, st, json.loads(text)))
            except (ValueError, RecursionError):
                text = "{"
        window.paste(text)
    elif action == "paste_text":
        window.paste(draw(st.sampled_from(TEXTS) | st.text(max_size=40)))
    elif action in ("expand", "collapse") and nodes:
        scene.select_nodes([rng.choice(nodes)])
        (window.expand_selected if action == "expand" else window.collapse_selected)()
    history.after_edit(index, state)


@given(data=st.data())
@SEQUENCES
def test_random_edit_sequences_undo_to_the_recorded_states(window, data):
    example = data.draw(st.sampled_from(EXAMPLES))
    graph, weights = load_graph(example)
    window.set_document(Document(graph, weights, None, template=example.name))
    history = History(window)
    rng = random.Random(data.draw(st.integers(0, 2 ** 32)))
    for _ in range(data.draw(st.integers(5, 30))):
        _act(window, history, data.draw, rng)
    while window.undo_stack.canUndo():
        window.act_undo.trigger()
        history.check()
    assert history.now() == history.states[0]
    window.document.undo_stack.setClean()
    OUTCOMES["sequences"] += 1
    report = os.environ.get("LOOM_FUZZ_REPORT")
    if report:
        Path(report).write_text(json.dumps(dict(OUTCOMES), indent=1))
