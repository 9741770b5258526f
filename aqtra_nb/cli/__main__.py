"""`python -m aqtra_nb.cli ...`: `aqtra-nb` of this interpreter (tests and subprocesses use it)."""

from . import console

console()
