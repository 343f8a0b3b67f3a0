"""The compiled step on the canvas: kernel outlines over the user's nodes, passes and kernel sources."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from gui.training.compiled_view import PART_COLOURS


def test_kernel_groups_cover_exactly_the_nodes_each_fused_kernel_covers(qtbot, window):
    feature = window.training
    window.teaching.actions["compile"].trigger()
    qtbot.waitUntil(lambda: feature.compiled.info is not None, timeout=60000)
    info = feature.compiled.info
    items = {item.name: item for item in window.scene.overlays.group_items}
    assert set(items) == {f"{k.name} · {k.part}" for k in info.kernels}
    for kernel in info.kernels:
        item = items[f"{kernel.name} · {kernel.part}"]
        assert sorted(item.node_ids()) == kernel.user_nodes
        assert item.colour == QColor(PART_COLOURS[kernel.part])
    by_part = {}
    for kernel in info.kernels:
        by_part.setdefault(kernel.part, []).append(set(kernel.user_nodes))
    assert {"a1", "h1"} in by_part["forward"] and {"a2", "h2"} in by_part["forward"]
    assert by_part["optimizer"] == [{"W1", "b1", "W2", "b2", "W3", "b3"}] * 2     # not "W1" alone
    assert {"h1"} in by_part["backward"] and {"h2"} in by_part["backward"]


def test_clicking_a_pass_selects_what_it_touched_and_a_kernel_shows_its_mapped_source(qtbot, window):
    feature = window.training
    feature.show_compiled()
    qtbot.waitUntil(lambda: feature.compiled.info is not None, timeout=60000)
    view = feature.compiled
    tree = view.rewrites
    fuse = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount()) if tree.topLevelItem(i).text(0) == "fuse")
    assert fuse.childCount() and "→" in fuse.text(1)
    tree.setCurrentItem(fuse)
    assert "h1" in window.scene.selected_nodes() and "before" in view.pass_summary.text()
    assert window.statusBar().currentMessage().startswith("fuse: before")
    kernel = next(i for i, k in enumerate(view.info.kernels) if k.user_nodes == ["a1", "h1"])
    view.kernels.setCurrentItem(view.kernels.topLevelItem(len(view.info.kernels) - 1 - kernel))
    view.kernels.setCurrentItem(view.kernels.topLevelItem(kernel))
    text = view.cpu_code.toPlainText()
    assert "np.tanh(out, out)  # h1" in text and "# a1" in text
    assert sorted(window.scene.selected_nodes()) == ["a1", "h1"]


def test_a_pass_opens_as_before_and_after_canvases(qtbot, window):
    feature = window.training
    feature.show_compiled()
    qtbot.waitUntil(lambda: feature.compiled.info is not None, timeout=60000)
    view = feature.compiled
    tree = view.rewrites
    row = next(i for i in range(tree.topLevelItemCount()) if tree.topLevelItem(i).text(0) == "stabilize")
    tree.setCurrentItem(tree.topLevelItem(row))
    qtbot.mouseClick(view.compare_button, Qt.LeftButton)
    story = view.info.passes[row]
    before, after = view.comparison.scenes
    assert "d_softmax" in before.nodes and "d_softmax" not in after.nodes     # softmax - onehot became one op
    assert any(n.endswith("softmaxxentgrad") for n in after.nodes)
    assert set(before.graph.nodes) == {n["id"] for n in story.before["nodes"]}
    assert "d_softmax" in before.selected_nodes()
    assert view.comparison.titles[0].text().startswith(f"Before stabilize: {story.ops_before} ops")
