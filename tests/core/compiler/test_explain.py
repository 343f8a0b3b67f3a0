"""Kernels credited to every user's node they work for; passes told with counts; sources annotated."""
from __future__ import annotations

import pytest

from core.compiler.explain import annotate_kernel, credit, owners, pass_stories
from core.training import Run

NUMPY_OF = {"Add": "np.add", "Mul": "np.multiply", "Sub": "np.subtract", "Tanh": "np.tanh"}


@pytest.fixture(scope="module")
def compiled(request):
    from core.graph import load_graph
    from tests.conftest import EXAMPLES

    graph = load_graph(EXAMPLES / "seed_mlp.json")[0]
    run = Run(graph, steps=1)
    return graph, run, run.train_function


def test_each_kernel_is_credited_to_every_node_it_covers(compiled):
    graph, run, step = compiled
    owner = owners(run.train_graph, step.updates, set(graph.nodes))
    params = {"W1", "b1", "W2", "b2", "W3", "b3"}
    seen_optimizer = []
    for name, covers in step.groups.items():
        users = set(credit(covers, owner))
        roles = {run.train_graph.role(n) for n in covers}
        if roles == {None}:                      # a forward kernel: exactly the user's nodes it fuses
            assert users == set(covers) & set(graph.nodes)
        elif roles == {"update"}:                # an optimizer kernel updating every parameter at once
            assert users == params
            seen_optimizer.append(name)
        else:                                    # a backward kernel: the forward node its rule came from
            assert users == {run.train_graph.ui(n)["grad_of"] for n in covers}
    assert len(seen_optimizer) == 2


def test_every_pass_is_told_with_counts_that_add_up(compiled):
    graph, run, step = compiled
    stories = pass_stories(run.train_graph, step.outputs, step.updates, set(graph.nodes),
                           {"max_operands": step.device.max_operands})
    assert [s.phase for s in stories] == ["fold", "merge", "simplify", "stabilize", "fuse", "inplace"]
    for before, after in zip(stories, stories[1:]):
        assert before.ops_after == after.ops_before
    fuse = stories[4]
    assert fuse.kernels_before == 0 and fuse.kernels_after == len(step.groups) + 10   # 12 updates in 2 kernels
    assert fuse.ops_after < fuse.ops_before and "h1" in fuse.touched
    assert stories[-1].ops_after == sum(1 for n in step.optimized.nodes
                                        if step.optimized.op_name(n) not in ("Input", "Parameter", "Constant"))
    assert sum(len(s.changes) for s in stories) == len(step.rewrites)


def test_kernel_source_lines_name_the_nodes_they_compute(compiled):
    graph, run, step = compiled
    owner = owners(run.train_graph, step.updates, set(graph.nodes))
    for name, covers in step.groups.items():
        text = annotate_kernel(step.kernels[name]["cpu"], covers, owner)
        op_lines = [line for line in text.splitlines() if line.strip().startswith("np.")]
        for j, line in enumerate(op_lines):
            node = covers[j]
            assert f"# {node}" in line
            assert line.strip().startswith(NUMPY_OF[run.train_graph.op_name(node)])
