"""The generated notes stubs (`gen/`, written by `generate_stubs.py`), importable from anywhere.

protoc writes imports that follow the proto tree (`from notes.v1 import notes_pb2`), so the
folder holding that tree must be on `sys.path`. A service that lives in this repository puts
its protos under `protos/atoms/<name>/v1/` instead: `make protos` generates them into the
installed `gen/python`, and nothing like this module is needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

GEN_DIR = Path(__file__).resolve().parent / "gen"
if str(GEN_DIR) not in sys.path:
    sys.path.append(str(GEN_DIR))

from notes.v1 import notes_pb2, notes_pb2_grpc  # noqa: E402

NOTES_SERVICE = notes_pb2.DESCRIPTOR.services_by_name["NotesService"]

__all__ = ["NOTES_SERVICE", "notes_pb2", "notes_pb2_grpc"]
