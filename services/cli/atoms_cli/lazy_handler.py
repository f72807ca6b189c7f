"""A sub-command handler named by `module:function` and imported only when the command runs.

`atoms --help` builds every installed distribution's parsers; with handlers named this way,
that loads argparse definitions only, never a service, a client library or grpc.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int]


def lazy_handler(target: str) -> Handler:
    """Return a handler that imports `module` and calls `function` (from "module:function")."""
    module_name, _, function_name = target.partition(":")
    if not module_name or not function_name:
        raise ValueError(f"a lazy handler is named 'module:function', not {target!r}")

    def run(options: argparse.Namespace) -> int:
        function: Handler = getattr(importlib.import_module(module_name), function_name)
        return function(options)

    run.__qualname__ = f"lazy_handler({target!r})"
    return run
