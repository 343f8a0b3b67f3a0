"""Mutated examples through load, validate, compile, one call and the exports: only LoomErrors, each
with a bounded message. A handful of cases in CI; LOOM_FUZZ_LONG=1 runs 10,000 (see docs/reliability.md)."""
from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.graph import LoomError, graph_from_dict
from file_mutations import OUTCOMES, corrupt_text, example_documents, mutate, run_case, weights_bytes
from fuzz_settings import cases, phases

DOCUMENTS = example_documents()
FUZZ = settings(max_examples=cases(40, 10_000), deadline=None, derandomize=not os.environ.get("LOOM_FUZZ_LONG"),
                suppress_health_check=list(HealthCheck), database=None,
                phases=phases())


@given(data=st.data())
@FUZZ
def test_mutated_examples_only_ever_fail_with_a_bounded_loom_error(data):
    document = mutate(data.draw, st, data.draw(st.sampled_from(DOCUMENTS)))
    try:
        text = json.dumps(document, allow_nan=True).encode()
    except (ValueError, RecursionError):
        text = b"{}"
    if data.draw(st.integers(0, 9)) == 0:
        text = corrupt_text(data.draw, st, text)
    try:
        graph = graph_from_dict(json.loads(text))
    except (LoomError, ValueError, RecursionError):
        graph = None
    weights = weights_bytes(data.draw, st, graph)
    target = data.draw(st.sampled_from(["numpy", "torch", "onnx", "none", "none", "none"]))
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        OUTCOMES[run_case(Path(folder), text, weights, target)] += 1
    report = os.environ.get("LOOM_FUZZ_REPORT")
    if report:
        Path(report).write_text(json.dumps(dict(OUTCOMES, total=sum(OUTCOMES.values())), indent=1))
