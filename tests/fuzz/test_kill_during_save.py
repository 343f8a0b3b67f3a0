"""A kill during Save never tears a graph from its weights, and leaves nothing that lingers.

A child process saves graph+weights pairs in a loop (see save_loop_child.py); the test SIGKILLs
it at random moments and checks after each kill that the pair on disk loads and agrees with
itself: the graph's meta says which save it was, and its weights have that save's shape and
values. The next save removes every temporary the killed one left.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.graph import Graph, load_graph, save_graph
from fuzz_settings import cases

CHILD = Path(__file__).with_name("save_loop_child.py")
sys.path.insert(0, str(CHILD.parent))

from save_loop_child import version  # noqa: E402


def _check_pair(path: Path) -> int:
    """Load the pair and check it is one save's; returns that save's number."""
    graph, weights = load_graph(path)
    k = graph.meta["k"]
    if k % 4 == 3:
        assert weights == {}, f"save {k} had no weights, the reader got {list(weights)}"
    else:
        w = weights["W"]
        assert w.shape[1] == 500 + k % 2, f"torn pair: graph of save {k}, weights of shape {w.shape}"
        assert np.all(w == k), f"torn pair: graph of save {k}, weights of save {w.flat[0]}"
    return k


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in ("m.json", "m.npz"))


def test_kills_during_save_leave_the_old_pair_or_the_new(tmp_path):
    kills = cases(4, 50)
    rows = 2000
    path = tmp_path / "m.json"
    rng = random.Random(18)
    start, torn, seen = 0, 0, []
    for _ in range(kills):
        child = subprocess.Popen([sys.executable, str(CHILD), str(path), str(rows), str(start)],
                                 stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.0, 0.4))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        try:
            k = _check_pair(path)
        except AssertionError:
            torn += 1
            raise
        seen.append(k)
        start = k + 1
    assert torn == 0
    assert len(set(seen)) == kills
    graph, weights = version(start, rows)
    save_graph(path, graph, weights)
    assert _leftovers(tmp_path) == [], "the next save cleans what the kills left"
    assert _check_pair(path) == start


def _interrupt_replace(monkeypatch, call: int) -> None:
    """Make the `call`-th os.replace of the next save fail, as a kill at that moment would stop it."""
    real, count = os.replace, [0]

    def replace(src, dst):
        count[0] += 1
        if count[0] == call:
            raise KeyboardInterrupt("killed")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("call", [1, 2, 3, 4, 5])
def test_a_save_cut_at_any_rename_leaves_a_matching_pair(tmp_path, monkeypatch, call):
    path = tmp_path / "m.json"
    old, old_weights = version(0, 20)
    save_graph(path, old, old_weights)
    new, new_weights = version(1, 20)
    _interrupt_replace(monkeypatch, call)
    try:
        save_graph(path, new, new_weights)
    except KeyboardInterrupt:
        pass
    monkeypatch.undo()
    assert _check_pair(path) in (0, 1)
    save_graph(path, *version(2, 20))
    assert _check_pair(path) == 2 and _leftovers(tmp_path) == []


@pytest.mark.parametrize("call", [1, 2, 3])
def test_a_save_without_weights_cut_short_keeps_the_old_pair_readable(tmp_path, monkeypatch, call):
    path = tmp_path / "m.json"
    save_graph(path, *version(0, 20))
    bare = Graph()
    bare.meta["k"] = 3
    _interrupt_replace(monkeypatch, call)
    try:
        save_graph(path, bare)
    except KeyboardInterrupt:
        pass
    monkeypatch.undo()
    assert _check_pair(path) in (0, 3)
    save_graph(path, bare)
    assert _check_pair(path) == 3 and _leftovers(tmp_path) == [] and not (tmp_path / "m.npz").exists()


def test_weights_replaced_by_hand_are_still_read(tmp_path):
    """`train --save-weights m.npz` next to the graph: the digest differs, the shapes decide."""
    path = tmp_path / "m.json"
    save_graph(path, *version(0, 20))
    np.savez(tmp_path / "m.npz", W=np.full((20, 500), 7.0, dtype=np.float32))
    graph, weights = load_graph(path)
    assert np.all(weights["W"] == 7.0)


def test_kill_then_recover_never_loses_the_graph(tmp_path):
    """Autosave killed at random moments: the recovery loader always gives back a graph with its own weights."""
    from gui.document import load_recovered

    path = tmp_path / "recovered.json"
    rng = random.Random(7)
    start = 0
    for _ in range(cases(3, 20)):
        child = subprocess.Popen([sys.executable, str(CHILD), str(path), "300", str(start)],
                                 stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.0, 0.2))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        document, note = load_recovered(path)
        assert note is None, note
        k = document.graph.meta["k"]
        assert _check_pair(path) == k
        assert set(document.weights) == (set() if k % 4 == 3 else {"W"})
        start = k + 1


def test_the_cleaning_leaves_other_files_alone(tmp_path):
    path = tmp_path / "m.json"
    mine = [tmp_path / ".m.backup.npz", tmp_path / "m.old.npz", tmp_path / ".m.json.bak", tmp_path / "other.json"]
    for p in mine:
        p.write_bytes(b"user data")
    stale = [tmp_path / ".m.json.a1b2c3d4.tmp", tmp_path / ".m.0123456789abcdef.npz", tmp_path / ".m.new.npz",
             tmp_path / "..m.new.npz.x9y8z7.tmp", tmp_path / ".m.npz.q1w2e3.tmp"]
    for p in stale:
        p.write_bytes(b"half")
    save_graph(path, *version(0, 20))
    assert all(p.read_bytes() == b"user data" for p in mine)
    assert not any(p.exists() for p in stale)
