"""Generate the Python stubs and the ghz protoset from `protos/`.

`make protos` runs this; the stubs under `gen/python/` and `loadtest/atoms.protoset`
are committed and never edited by hand. `tests/test_generated_protos.py` runs it into a
temporary folder and fails when the committed files differ.

Usage: python scripts/generate_protos.py [--out-dir DIR] [--protoset FILE]
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

REPO_ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = REPO_ROOT / "protos"
DEFAULT_OUT_DIR = REPO_ROOT / "gen" / "python"
DEFAULT_PROTOSET = REPO_ROOT / "loadtest" / "atoms.protoset"


def find_proto_files() -> list[Path]:
    """Return every `.proto` file under `protos/`, sorted for a stable output."""
    return sorted(PROTO_ROOT.rglob("*.proto"))


def generate(out_dir: Path, protoset: Path) -> None:
    """Write stubs (`_pb2`, `_pb2_grpc`, `.pyi`) into out_dir and the protoset file.

    Raises:
        RuntimeError: protoc reported an error.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    protoset.parent.mkdir(parents=True, exist_ok=True)
    well_known = resources.files("grpc_tools") / "_proto"
    googleapis = googleapis_include_dir()
    sources = [str(path.relative_to(PROTO_ROOT)) for path in find_proto_files()]
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"-I{googleapis}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        f"--descriptor_set_out={protoset}",
        "--include_imports",
        "--include_source_info",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed; see its message above")
    _add_package_markers(out_dir)


def googleapis_include_dir() -> Path:
    """The folder holding `google/api/field_behavior.proto`: googleapis-common-protos ships it.

    The generated stubs import `google.api.field_behavior_pb2` from that same package at run time.

    Raises:
        RuntimeError: googleapis-common-protos is not installed or lacks the file.
    """
    from google.api import field_behavior_pb2

    root = Path(field_behavior_pb2.__file__).resolve().parent.parent.parent
    if not (root / "google" / "api" / "field_behavior.proto").is_file():
        raise RuntimeError(f"google/api/field_behavior.proto is not under {root}")
    return root


def _add_package_markers(out_dir: Path) -> None:
    """Make every generated folder a regular package so setuptools installs it."""
    for folder in [out_dir / "atoms", *sorted((out_dir / "atoms").rglob("*"))]:
        if folder.is_dir() and folder.name != "__pycache__":
            (folder / "__init__.py").touch()
    (out_dir / "atoms" / "py.typed").touch()


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--protoset", type=Path, default=DEFAULT_PROTOSET)
    options = parser.parse_args()
    generate(options.out_dir, options.protoset)
    return 0


if __name__ == "__main__":
    sys.exit(main())
