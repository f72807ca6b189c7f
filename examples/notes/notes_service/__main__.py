"""`python -m notes_service serve`: read the settings, run the notes service. Nothing else."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from atoms_grpc import FACE_GRPC, FACE_METRICS, ListenError, run_grpc_service
from atoms_grpc.settings_loading import SettingsError, read_environment
from notes_service.server import NotesServer
from notes_service.settings import NotesSettings

_EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, validate the settings, serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m notes_service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run notes.v1.NotesService",
        description="Configuration comes from the environment (ATOMS_NOTES_*, ATOMS_AUTH_ADDR, "
        "ATOMS_AGENT_ADDR, ATOMS_LOG_LEVEL); flags override it.",
    )
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="gRPC port (default 50061; 0 picks a free port)")
    serve.add_argument("--metrics-port", type=int, help="Prometheus /metrics port (default: off)")
    serve.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR (default INFO)")
    options = parser.parse_args(argv)
    flags = {
        "host": options.host,
        "port": options.port,
        "metrics_port": options.metrics_port,
        "log_level": options.log_level,
    }
    try:
        settings = read_environment(NotesSettings, flags=flags)
    except SettingsError as err:
        print(f"notes: configuration error: {err}", file=sys.stderr)
        return _EXIT_USAGE
    try:
        return run_grpc_service(NotesServer(settings), log_level=settings.log_level)
    except ListenError as err:
        print(f"notes: {err.advice({FACE_GRPC: '--port', FACE_METRICS: '--metrics-port'})}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
