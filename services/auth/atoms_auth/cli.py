"""`atoms auth serve`: load settings, configure logging, run the auth service. Nothing else."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from atoms_grpc.listen_sockets import FACE_GRPC, FACE_METRICS

EXIT_CANNOT_START, EXIT_USAGE = 1, 2
# The `service.name` of its spans unless OTEL_SERVICE_NAME says otherwise.
SERVICE_NAME = "atoms-auth"
_PORT_FLAGS = {FACE_GRPC: "--port", FACE_METRICS: "--metrics-port"}


def register(commands: Any) -> None:
    """Add `atoms auth serve` to the umbrella parser."""
    auth = commands.add_parser("auth", help="the central auth service")
    auth_commands = auth.add_subparsers(dest="auth_command", required=True, metavar="COMMAND")
    serve_parser = auth_commands.add_parser(
        "serve",
        help="run the auth service",
        description="Run atoms.auth.v1.AuthService. Configuration comes from the environment "
        "(WORKOS_CLIENT_ID, WORKOS_API_BASE_URL, AUTHKIT_DOMAIN, ATOMS_INTERNAL_TOKEN, "
        "ATOMS_INTERNAL_TOKENS_FILE, ATOMS_AUTH_CONFIG); flags override it.",
    )
    serve_parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve_parser.add_argument("--port", type=int, help="gRPC port (default 50051; 0 picks a free port)")
    serve_parser.add_argument("--metrics-host", help="address of the /metrics endpoint (default 127.0.0.1)")
    serve_parser.add_argument("--metrics-port", type=int, help="Prometheus /metrics port (default 9464)")
    serve_parser.add_argument("--no-metrics", action="store_true", help="do not serve /metrics")
    serve_parser.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR (default INFO)")
    serve_parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes sharing the port through SO_REUSEPORT (default 1); worker i serves "
        "metrics on the metrics port + i",
    )
    serve_parser.set_defaults(handler=run_serve)


def run_serve(options: argparse.Namespace) -> int:
    """Validate the settings, then serve until SIGINT/SIGTERM.

    Exits 2 on a configuration error and 1 when a port cannot be bound, each with one line
    on standard error that says what to change.
    """
    # Imported here, not at the top: `atoms --help` must not load the service.
    import uvloop

    from atoms_auth.server import serve
    from atoms_auth.settings import load_auth_settings
    from atoms_auth.worker_pool import WorkerPoolError, run_worker_pool
    from atoms_grpc.listen_sockets import ListenError
    from atoms_grpc.log_format import configure_logging
    from atoms_grpc.settings_loading import SettingsError
    from atoms_grpc.tracing_setup import process_tracing, read_tracing_settings

    overrides = {
        "host": options.host,
        "port": options.port,
        "metrics_host": options.metrics_host,
        "metrics_port": options.metrics_port,
        "log_level": options.log_level,
    }
    try:
        settings = load_auth_settings(overrides=overrides)
        read_tracing_settings(SERVICE_NAME)
    except SettingsError as err:
        print(f"atoms auth serve: configuration error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if options.no_metrics:
        settings = dataclasses.replace(settings, metrics_port=None)
    configure_logging(service="auth", level=settings.log_level)
    if options.workers != 1:
        try:
            return run_worker_pool(settings, workers=options.workers)
        except WorkerPoolError as err:
            print(f"atoms auth serve: {err}", file=sys.stderr)
            return EXIT_CANNOT_START
    try:
        with process_tracing(SERVICE_NAME):
            uvloop.run(serve(settings))
    except ListenError as err:
        print(f"atoms auth serve: {err.advice(_PORT_FLAGS)}", file=sys.stderr)
        return EXIT_CANNOT_START
    return 0
