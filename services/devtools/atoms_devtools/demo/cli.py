"""`atoms demo`: run the main job end to end and exit non-zero if any step fails."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    """Add `atoms demo` to the umbrella parser."""
    demo = commands.add_parser("demo", help="run the main job end to end on embedded defaults")
    demo.set_defaults(handler=run)


def run(options: argparse.Namespace) -> int:
    """Run the walk-through; return its exit code."""
    import uvloop

    from atoms_devtools.demo.walkthrough import run_demo

    return uvloop.run(run_demo())
