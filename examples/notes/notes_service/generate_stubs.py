"""Generate the notes example's Python stubs and ghz protoset from `examples/notes/protos/`.

The output under `examples/notes/notes_service/gen/` is committed and never edited by hand;
`tests/examples/test_notes_stubs.py` regenerates it into a temporary folder and fails
when the committed files differ.

Usage: python -m notes_service.generate_stubs [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

NOTES_DIR = Path(__file__).resolve().parent
PROTO_ROOT = NOTES_DIR.parent / "protos"
DEFAULT_OUT_DIR = NOTES_DIR / "gen"
PROTOSET_NAME = "notes.protoset"


def generate(out_dir: Path) -> None:
    """Write `notes/v1/notes_pb2*.py(i)` and `notes.protoset` (imports included) into `out_dir`.

    Raises:
        RuntimeError: protoc reported an error.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    well_known = resources.files("grpc_tools") / "_proto"
    sources = sorted(str(path.relative_to(PROTO_ROOT)) for path in PROTO_ROOT.rglob("*.proto"))
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        f"--descriptor_set_out={out_dir / PROTOSET_NAME}",
        "--include_imports",
        "--include_source_info",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed; see its message above")
    for package in (out_dir / "notes", out_dir / "notes" / "v1"):
        (package / "__init__.py").touch()


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR, help="default %(default)s")
    generate(parser.parse_args().out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
