"""Names a package exports, each loaded from its module on first use (PEP 562).

A package's `__init__` lists its public names and the module defining each, then installs
`__getattr__, __dir__ = lazy_exports(globals(), MODULE_OF)`: importing the package (or one
module of it, such as its command line) loads nothing else, and `from package import Name`
imports only Name's module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any


def lazy_exports(
    namespace: MutableMapping[str, Any], module_of: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return the package's `__getattr__` and `__dir__` for the names in `module_of`."""
    package = namespace["__name__"]

    def load(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # later lookups are plain attribute reads
        return value

    def names() -> list[str]:
        return sorted(set(namespace) | set(module_of))

    return load, names
