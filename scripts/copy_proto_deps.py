"""Copy the googleapis protos the contracts import into a folder buf reads (`make lint`).

The contracts import `google/api/field_behavior.proto`. protoc finds it in the installed
googleapis-common-protos (scripts/generate_protos.py); buf only reads folders of its
workspace, so `make lint` copies the same file into `var/protodeps` (buf.yaml names it).

Usage: python scripts/copy_proto_deps.py DIR
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

IMPORTED = ("google/api/field_behavior.proto",)


def main(argv: list[str]) -> int:
    """Copy every imported googleapis file under argv[0]; return the exit code."""
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    from google.api import field_behavior_pb2

    source_root = Path(field_behavior_pb2.__file__).resolve().parent.parent.parent
    target_root = Path(argv[0])
    for name in IMPORTED:
        target = target_root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source_root / name, target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
