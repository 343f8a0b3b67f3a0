"""Saved in a loop by a child process that the kill tests SIGKILL at random moments.

Save k writes a graph whose meta records k and whose Parameter W has shape (rows, 500 + k % 2),
filled with k: any pair a reader can see must agree on k. Every other save has no weights.
Prints "ready" after the first save and the mean seconds per save after every ten.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.graph import Graph, save_graph  # noqa: E402


def version(k: int, rows: int) -> tuple[Graph, dict]:
    graph = Graph()
    graph.meta["k"] = k
    graph.add_node("Parameter", {"shape": [rows, 500 + k % 2]}, node_id="W")
    weights = {} if k % 4 == 3 else {"W": np.full((rows, 500 + k % 2), k, dtype=np.float32)}
    return graph, weights


def main(path: str, rows: int, start: int) -> None:
    k = start
    began = time.perf_counter()
    while True:
        graph, weights = version(k, rows)
        save_graph(path, graph, weights)
        if k == start:
            print("ready", flush=True)
        if (k - start) % 10 == 9:
            print(f"{(time.perf_counter() - began) / (k - start + 1):.4f}", flush=True)
        k += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
