"""loadgen: the project's own gRPC load generator, the servers it compares with, and `make bench`.

`run_load(LoadSpec(...))` drives one method from several processes (closed loop at a fixed
concurrency, or open loop at a fixed rate), warms up, measures a window, and returns a
`LoadResult` (rps, p50/p90/p99/max, outcomes by expected and actual status).

The names below load their module on first use (PEP 562): importing one module of the
package (its command line, say) does not load them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atoms_grpc.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from atoms_devtools.loadgen.load_result import LoadResult
    from atoms_devtools.loadgen.load_runner import LoadRunError, run_load
    from atoms_devtools.loadgen.load_spec import LoadSpec, LoadSpecError, TokenPool

# Each public name and the module that defines it.
_MODULE_OF = {
    "LoadResult": "atoms_devtools.loadgen.load_result",
    "LoadRunError": "atoms_devtools.loadgen.load_runner",
    "LoadSpec": "atoms_devtools.loadgen.load_spec",
    "LoadSpecError": "atoms_devtools.loadgen.load_spec",
    "TokenPool": "atoms_devtools.loadgen.load_spec",
    "run_load": "atoms_devtools.loadgen.load_runner",
}

__all__ = [
    "LoadResult",
    "LoadRunError",
    "LoadSpec",
    "LoadSpecError",
    "TokenPool",
    "run_load",
]

__getattr__, __dir__ = lazy_exports(globals(), _MODULE_OF)
