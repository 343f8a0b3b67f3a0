"""Mutated files through `check`, `train --steps 2` and `export`: every run ends in exit 0, 1 or 2 with a
bounded message and no traceback. In process for speed, plus real subprocesses; LOOM_FUZZ_LONG=1 runs 500."""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.graph import LoomError, graph_from_dict
from file_mutations import OUTCOMES, example_documents, mutate, weights_bytes
from fuzz_settings import cases, phases

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = example_documents()
MAX_OUTPUT = 10_000
RUNS = settings(max_examples=cases(6, 500), deadline=None, database=None,
                derandomize=not os.environ.get("LOOM_FUZZ_LONG"), suppress_health_check=list(HealthCheck),
                phases=phases())


def _case(data, folder: Path) -> Path:
    document = mutate(data.draw, st, data.draw(st.sampled_from(DOCUMENTS)))
    text = json.dumps(document, allow_nan=True)
    try:
        graph = graph_from_dict(json.loads(text))
    except (LoomError, ValueError, RecursionError):
        graph = None
    path = folder / "case.json"
    path.write_text(text)
    weights = weights_bytes(data.draw, st, graph)
    if weights is not None:
        (folder / "case.npz").write_bytes(weights)
    return path


def _command(data, path: Path) -> list[str]:
    kind = data.draw(st.sampled_from(["check", "train", "export"]))
    if kind == "check":
        return ["check", str(path)]
    if kind == "train":
        return ["train", str(path), "--steps", "2", "--quiet"]
    target = data.draw(st.sampled_from(["numpy", "torch", "onnx"]))
    return ["export", str(path), "--to", target, "-o", str(path.with_name(f"out.{target}"))]


def _checked(code: int, output: str, argv: list[str]) -> None:
    assert code in (0, 1, 2), f"{argv[0]} exited {code}"
    assert "Traceback" not in output, output[-2000:]
    assert len(output) <= MAX_OUTPUT, f"{argv[0]} printed {len(output):,} characters"
    OUTCOMES[f"{argv[0]} exit {code}"] += 1


@given(data=st.data())
@RUNS
def test_commands_on_mutated_files_exit_0_1_or_2_with_a_bounded_message(data):
    from main import main

    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        path = _case(data, Path(folder))
        argv = _command(data, path)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    _checked(code, out.getvalue() + err.getvalue(), argv)
    report = os.environ.get("LOOM_FUZZ_REPORT")
    if report:
        Path(report).write_text(json.dumps(dict(OUTCOMES), indent=1))


@given(data=st.data())
@settings(max_examples=cases(2, 20), deadline=None, database=None, derandomize=not os.environ.get("LOOM_FUZZ_LONG"),
          suppress_health_check=list(HealthCheck), phases=phases())
def test_real_processes_on_mutated_files(data):
    with tempfile.TemporaryDirectory() as folder:
        path = _case(data, Path(folder))
        argv = _command(data, path)
        result = subprocess.run([sys.executable, str(ROOT / "main.py"), *argv], capture_output=True, text=True,
                                cwd=folder, timeout=300)
    _checked(result.returncode, result.stdout + result.stderr, argv)
