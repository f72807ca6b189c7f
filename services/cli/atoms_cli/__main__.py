"""`python -m atoms_cli ...`: the `atoms` program."""

import sys

from atoms_cli.main import main

sys.exit(main())
