"""`python -m aqtra_nb.cli ...`: `aqtra-nb` of this interpreter (tests and subprocesses use it)."""

import sys

from . import main

sys.exit(main())
