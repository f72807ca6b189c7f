"""`atoms agent serve`: load settings, configure logging, run the agent service. Nothing else."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from atoms_grpc.listen_sockets import FACE_GRPC, FACE_HTTP, FACE_METRICS, ListenError

EXIT_CANNOT_START, EXIT_USAGE = 1, 2
# The `service.name` of its spans unless OTEL_SERVICE_NAME says otherwise.
SERVICE_NAME = "atoms-agent"
_PORT_FLAGS = {FACE_GRPC: "--port", FACE_HTTP: "--http-port", FACE_METRICS: "--metrics-port"}


def register(commands: Any) -> None:
    """Add `atoms agent serve` to the umbrella parser."""
    agent = commands.add_parser("agent", help="the agent service")
    agent_commands = agent.add_subparsers(dest="agent_command", required=True, metavar="COMMAND")
    serve_parser = agent_commands.add_parser(
        "serve",
        help="run the agent service",
        description="Run atoms.agent.v1.AgentService (gRPC) and its HTTP face. Configuration comes "
        "from the environment (ATOMS_AUTH_ADDR, ATOMS_AGENT_DATABASE_URL, ATOMS_MCP_URL, "
        "ATOMS_FIRST_PARTY_MCP_ORIGINS, ATOMS_LLM_*); flags override it.",
    )
    serve_parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve_parser.add_argument("--port", type=int, help="gRPC port (default 50052; 0 picks a free port)")
    serve_parser.add_argument("--http-port", type=int, help="HTTP port (default 3284; 0 picks a free port)")
    serve_parser.add_argument("--metrics-port", type=int, help="Prometheus /metrics port (default: off)")
    serve_parser.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR (default INFO)")
    serve_parser.set_defaults(handler=run_serve)


def run_serve(options: argparse.Namespace) -> int:
    """Validate the settings, then serve until SIGINT/SIGTERM.

    Exits 2 on a configuration error and 1 when a port cannot be bound, each with one line
    on standard error that says what to change.
    """
    # Imported here, not at the top: `atoms --help` must not load the service.
    import uvloop

    from atoms_agent.server import serve
    from atoms_agent.settings import load_agent_settings
    from atoms_grpc.log_format import UnknownLogLevelError, check_log_level, configure_logging
    from atoms_grpc.settings_loading import SettingsError
    from atoms_grpc.tracing_setup import process_tracing, read_tracing_settings

    overrides = {
        "host": options.host,
        "port": options.port,
        "http_port": options.http_port,
        "metrics_port": options.metrics_port,
        "log_level": options.log_level,
    }
    try:
        settings = load_agent_settings(overrides=overrides)
        check_log_level(settings.log_level)
        read_tracing_settings(SERVICE_NAME)
    except SettingsError as err:
        print(f"atoms agent serve: configuration error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except UnknownLogLevelError as err:
        print(
            f"atoms agent serve: configuration error: --log-level / ATOMS_LOG_LEVEL: {err}", file=sys.stderr
        )
        return EXIT_USAGE
    configure_logging(service="agent", level=settings.log_level)
    try:
        with process_tracing(SERVICE_NAME):
            uvloop.run(serve(settings))
    except ListenError as err:
        print(f"atoms agent serve: {err.advice(_PORT_FLAGS)}", file=sys.stderr)
        return EXIT_CANNOT_START
    return 0
