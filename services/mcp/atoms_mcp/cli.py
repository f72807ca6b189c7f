"""`atoms mcp serve`: load settings, configure logging, run the MCP service. Nothing else."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from atoms_grpc.listen_sockets import FACE_HTTP, FACE_METRICS, ListenError

_EXIT_CANNOT_START, _EXIT_USAGE = 1, 2
# The `service.name` of its spans unless OTEL_SERVICE_NAME says otherwise.
SERVICE_NAME = "atoms-mcp"
_PORT_FLAGS = {FACE_HTTP: "--port", FACE_METRICS: "--metrics-port"}


def register(commands: Any) -> None:
    """Add `atoms mcp serve` to the umbrella parser."""
    mcp = commands.add_parser("mcp", help="the Atoms MCP service")
    mcp_commands = mcp.add_subparsers(dest="mcp_command", required=True, metavar="COMMAND")
    add_serve_command(mcp_commands)


def add_serve_command(commands: Any) -> None:
    """Add `serve` to a sub-command collection (`atoms mcp` or `python -m atoms_mcp`)."""
    serve_parser = commands.add_parser(
        "serve",
        help="run the Atoms MCP service (streamable HTTP)",
        description="Run the Atoms MCP service. Configuration comes from the environment "
        "(ATOMS_MCP_BASE_URL, AUTHKIT_DOMAIN, ATOMS_AUTH_ADDR, ATOMS_MCP_REQUIRED_SCOPES, "
        "ATOMS_MCP_DATABASE_URL, ATOMS_MCP_PATH, or FastMCP's FASTMCP_SERVER_AUTH_AUTHKITPROVIDER_* "
        "names); flags override it.",
    )
    serve_parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve_parser.add_argument("--port", type=int, help="HTTP port (default 8000; 0 picks a free port)")
    serve_parser.add_argument("--metrics-port", type=int, help="Prometheus /metrics port (default: off)")
    serve_parser.add_argument(
        "--insecure-dev",
        action="store_true",
        default=None,
        help="start even without authentication configured; every caller is then an admin "
        "(local development only)",
    )
    serve_parser.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR (default INFO)")
    serve_parser.set_defaults(handler=run_serve)


def run_serve(options: argparse.Namespace) -> int:
    """Validate the settings, then serve until SIGINT/SIGTERM.

    Exits 2 on a configuration error and 1 when the port cannot be bound, each with one line
    on standard error that says what to change.
    """
    # Imported here, not at the top: `atoms --help` must not load the service.
    import uvloop

    from atoms_grpc.log_format import configure_logging
    from atoms_grpc.settings_loading import SettingsError
    from atoms_grpc.tracing_setup import process_tracing, read_tracing_settings
    from atoms_mcp.server import route_fastmcp_logs, serve
    from atoms_mcp.settings import load_mcp_settings, require_authentication

    overrides = {
        "host": options.host,
        "port": options.port,
        "metrics_port": options.metrics_port,
        "insecure_dev": options.insecure_dev,
        "log_level": options.log_level,
    }
    try:
        settings = load_mcp_settings(overrides=overrides)
        require_authentication(settings)
        read_tracing_settings(SERVICE_NAME)
    except SettingsError as err:
        print(f"atoms mcp serve: configuration error: {err}", file=sys.stderr)
        return _EXIT_USAGE
    configure_logging(service="mcp", level=settings.log_level)
    route_fastmcp_logs()
    try:
        with process_tracing(SERVICE_NAME):
            uvloop.run(serve(settings))
    except ListenError as err:
        print(f"atoms mcp serve: {err.advice(_PORT_FLAGS)}", file=sys.stderr)
        return _EXIT_CANNOT_START
    return 0
