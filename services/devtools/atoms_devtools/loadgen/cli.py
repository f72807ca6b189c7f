"""`atoms loadgen …`: the load generator, the comparison servers, and `make bench`.

atoms loadgen run TARGET --call pkg.Service/Method [-d JSON] [--token T | --tokens-file F [--once]]
                 [--token-field token | --token-metadata authorization] [-m JSON] [--expect CODE]
                 [-c 50 | --rps 2000] [--processes 2] [--connections 1]
                 [--warmup 2] [--duration 10] [--timeout 10] [--name NAME] [--out-dir var/bench]
atoms loadgen serve-ceiling [--host H] [--port P]
atoms loadgen serve-reference --jwks-url URL [--host H] [--port P]
atoms loadgen bench [--quick] [--memory-tokens N] [--out-dir var/bench]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEFAULT_OUT_DIR = Path("var/bench")


def register(commands: Any) -> None:
    """Add `atoms loadgen` and its sub-commands to the umbrella parser."""
    loadgen = commands.add_parser("loadgen", help="load generator and benchmark (make bench)")
    add_loadgen_commands(loadgen.add_subparsers(dest="loadgen_command", required=True, metavar="COMMAND"))


def add_loadgen_commands(commands: Any) -> None:
    """Add `run`, `serve-ceiling`, `serve-reference` and `bench` to a sub-command collection."""
    _add_run(commands)
    ceiling = commands.add_parser("serve-ceiling", help="a bare grpc.aio ValidateToken server (fixed answer)")
    _add_listen_flags(ceiling)
    ceiling.set_defaults(handler=_serve_ceiling)
    reference = commands.add_parser(
        "serve-reference", help="a PyJWKClient + jwt.decode ValidateToken server (the common kind)"
    )
    _add_listen_flags(reference)
    reference.add_argument("--jwks-url", required=True, help="the issuer's JWKS URL")
    reference.set_defaults(handler=_serve_reference)
    bench = commands.add_parser("bench", help="run the whole benchmark and print the table (make bench)")
    bench.add_argument("--quick", action="store_true", help="short windows and small pools (a smoke run)")
    bench.add_argument("--memory-tokens", type=int, help="distinct tokens for the memory figure")
    bench.add_argument("--only", help="comma-separated sections to run (default: all)")
    bench.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    bench.set_defaults(handler=_bench)


def _add_run(commands: Any) -> None:
    run = commands.add_parser("run", help="send load to one gRPC method and report rps and latency")
    run.add_argument("target", help="host:port")
    run.add_argument("--call", required=True, help="package.Service/Method (or ghz's package.Service.Method)")
    run.add_argument("-d", "--data", default="{}", help="the request as JSON (default {})")
    tokens = run.add_mutually_exclusive_group()
    tokens.add_argument("--token", default="", help="one token for every call")
    tokens.add_argument("--tokens-file", type=Path, help="tokens, one a line (`TOKEN` or `CODE TOKEN`)")
    run.add_argument("--once", action="store_true", help="send each token of the file once (a cold pool)")
    run.add_argument("--token-field", default="", help="request field that carries the token")
    run.add_argument("--token-metadata", default="", help="metadata key that carries `Bearer <token>`")
    run.add_argument(
        "-m", "--metadata", default="{}", help='extra metadata as JSON, e.g. {"x-request-id":"a"}'
    )
    run.add_argument("--expect", default="OK", help="the status that counts as success (default OK)")
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("-c", "--concurrency", type=int, default=50, help="calls in flight (closed loop)")
    mode.add_argument("--rps", type=float, default=0.0, help="calls per second (open loop)")
    run.add_argument("--processes", type=int, default=1, help="client processes (default 1)")
    run.add_argument("--connections", type=int, default=1, help="connections per process (default 1)")
    run.add_argument("--warmup", type=float, default=2.0, help="seconds before the window (default 2)")
    run.add_argument(
        "--duration", type=float, default=10.0, help="measured seconds; 0 = until --once runs out"
    )
    run.add_argument("--timeout", type=float, default=10.0, help="deadline of each call in seconds")
    run.add_argument("--name", default="load", help="name of the run (and of its JSON file)")
    run.add_argument("--server-pid", type=int, default=0, help="also report this local server's CPU per call")
    run.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR, help="where the JSON goes")
    run.set_defaults(handler=_run)


def _add_listen_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed as grpc_port)")


def _run(options: argparse.Namespace) -> int:
    # Loaded when the command runs, not for `atoms --help`.
    from atoms_devtools.loadgen.load_runner import LoadRunError, run_load
    from atoms_devtools.loadgen.load_spec import LoadSpec, LoadSpecError, TokenPool

    try:
        metadata = json.loads(options.metadata)
        if not isinstance(metadata, dict):
            raise LoadSpecError("--metadata must be a JSON object")
        spec = LoadSpec(
            target=options.target,
            method=options.call,
            request_json=options.data,
            token=options.token,
            tokens=TokenPool(options.tokens_file, reuse=not options.once) if options.tokens_file else None,
            token_field=options.token_field,
            token_metadata=options.token_metadata,
            metadata=tuple((str(k), str(v)) for k, v in metadata.items()),
            expect=options.expect,
            concurrency=options.concurrency,
            rate=options.rps,
            processes=options.processes,
            connections=options.connections,
            warmup_s=options.warmup,
            duration_s=options.duration,
            timeout_s=options.timeout,
            name=options.name,
            server_pid=options.server_pid,
        )
        result = run_load(spec)
    except (LoadSpecError, json.JSONDecodeError) as err:
        print(f"atoms loadgen run: {err}", file=sys.stderr)
        return 2
    except (LoadRunError, OSError) as err:
        print(f"atoms loadgen run: {err}", file=sys.stderr)
        return 1
    print(result.summary_line())
    print(f"outcomes (expected -> got): {json.dumps(result.outcomes)}")
    print(f"written to {result.write(options.out_dir)}")
    return 0 if result.errors == 0 else 3


def _serve_ceiling(options: argparse.Namespace) -> int:
    from atoms_devtools.loadgen.ceiling_server import serve_ceiling

    serve_ceiling(host=options.host, port=options.port)
    return 0


def _serve_reference(options: argparse.Namespace) -> int:
    from atoms_devtools.loadgen.reference_validator import serve_reference

    serve_reference(host=options.host, port=options.port, jwks_url=options.jwks_url)
    return 0


def _bench(options: argparse.Namespace) -> int:
    from atoms_devtools.loadgen.bench.bench_main import run_bench

    return run_bench(
        quick=options.quick, memory_tokens=options.memory_tokens, only=options.only, out_dir=options.out_dir
    )


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m atoms_devtools.loadgen`: the same sub-commands without the umbrella program."""
    parser = argparse.ArgumentParser(
        prog="python -m atoms_devtools.loadgen", description=__doc__.splitlines()[0]
    )
    add_loadgen_commands(parser.add_subparsers(dest="loadgen_command", required=True, metavar="COMMAND"))
    options = parser.parse_args(argv)
    return int(options.handler(options) or 0)
