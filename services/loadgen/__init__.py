"""loadgen: the project's own gRPC load generator, the servers it compares with, and `make bench`.

`run_load(LoadSpec(...))` drives one method from several processes (closed loop at a fixed
concurrency, or open loop at a fixed rate), warms up, measures a window, and returns a
`LoadResult` (rps, p50/p90/p99/max, outcomes by expected and actual status).
"""

from services.loadgen.load_result import LoadResult
from services.loadgen.load_runner import LoadRunError, run_load
from services.loadgen.load_spec import LoadSpec, LoadSpecError, TokenPool

__all__ = ["LoadResult", "LoadRunError", "LoadSpec", "LoadSpecError", "TokenPool", "run_load"]
