"""Loom's entry point: the editor by default, and headless sub-commands.

    python main.py [GRAPH.json]            open the editor (the lecture's MLP when no file is given)
    python main.py --screenshot OUT.png    render the main window offscreen and exit
    python main.py check GRAPH.json        print shapes and diagnostics (exit 0 valid, 1 invalid, 2 unreadable)
    python main.py ops                     list the op registry
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
EXAMPLES = ROOT / "resources" / "examples"

# Sub-command name -> "module:function"; each function takes argv (list of str) and returns an exit code.
COMMANDS = {
    "check": "core.graph.cli:check_command",
    "ops": "core.graph.cli:ops_command",
    "export": "core.export.cli:export_command",
    "import": "core.export.cli:import_command",
    "train": "core.export.torch_job:train_command",   # Loom's loop, or --engine torch (docs/scale-out.md)
    "bench": "bench.run:main",
}


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a sub-command, or start the editor."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        module, function = COMMANDS[argv[0]].split(":")
        return getattr(importlib.import_module(module), function)(argv[1:])
    from gui.app import run_editor

    return run_editor(argv)


if __name__ == "__main__":
    sys.exit(main())
