"""atoms_cli: the `atoms` program, which dispatches to the installed Atoms distributions' sub-commands."""

from atoms_cli.main import build_parser, installed_commands, main

__all__ = ["build_parser", "installed_commands", "main"]
