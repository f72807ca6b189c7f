"""`atoms dev model [--host H] [--port P]`: run the dev model, a local stand-in for an LLM endpoint.

This module is the dev model's entry point; it reads no environment variable. It prints the
two settings that point an agent at it, `ATOMS_LLM_BASE_URL` and `ATOMS_LLM_MODEL`.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from atoms_devtools.authkit_emulator.cli_options import fail
from atoms_devtools.dev_model.model_card import DEFAULT_HOST, DEFAULT_PORT, DEV_MODEL_ID
from atoms_grpc.listen_sockets import FACE_HTTP, ListenError

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

MAX_PORT = 65535


def add_model_command(commands: SubParsers) -> None:
    """Add `model` to the `atoms dev` commands.

    Args:
        commands: the `atoms dev` sub-command collection.
    """
    parser = commands.add_parser(
        "model", help="run the dev model: a local OpenAI-compatible stand-in for an LLM (development only)"
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default %(default)s)")
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help="TCP port (default %(default)s); 0 picks a free one"
    )
    parser.set_defaults(handler=run_model)


def run_model(options: argparse.Namespace) -> int:
    """Run the dev model in the foreground until interrupted; return the exit code."""
    # Loaded when the command runs, not for `atoms --help`.
    from atoms_devtools.dev_model.server import run_dev_model
    from atoms_grpc.log_format import configure_logging

    configure_logging(service="dev-model")
    try:
        run_dev_model(host=options.host, port=options.port, on_ready=_announce)
    except ListenError as err:
        return fail(err.advice({FACE_HTTP: "--port"}))
    except KeyboardInterrupt:
        pass
    return 0


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to {MAX_PORT}, got {value!r}")
    return port


def _announce(base_url: str) -> None:
    print(
        f"dev model listening on {base_url}; configure the agent with "
        f"ATOMS_LLM_BASE_URL={base_url} ATOMS_LLM_MODEL={DEV_MODEL_ID}",
        flush=True,
    )
    print(
        "development only: a deterministic stand-in for a real model that understands a few fixed "
        'phrases ("who am I", "list my projects", "create a project called X", ...); see docs/dev-model.md',
        flush=True,
    )
