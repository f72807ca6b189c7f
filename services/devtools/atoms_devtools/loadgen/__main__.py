"""`python -m atoms_devtools.loadgen …`: the same commands as `atoms loadgen …`."""

from __future__ import annotations

import sys

from atoms_devtools.loadgen.cli import main

if __name__ == "__main__":
    sys.exit(main())
