"""How much the fuzz suite runs: a bounded number of cases in CI, thousands with LOOM_FUZZ_LONG=1."""
from __future__ import annotations

import os

LONG = os.environ.get("LOOM_FUZZ_LONG") == "1"


def cases(ci: int, long: int) -> int:
    """`ci` cases normally, `long` in the long mode (LOOM_FUZZ_LONG_SCALE scales the long figure)."""
    if not LONG:
        return ci
    return max(1, int(long * float(os.environ.get("LOOM_FUZZ_LONG_SCALE", "1"))))


def phases() -> tuple:
    """Hypothesis phases: the long mode counts cases and skips shrinking (minutes on a GUI sequence)."""
    from hypothesis import Phase

    return (Phase.explicit, Phase.generate) if LONG else tuple(Phase)
