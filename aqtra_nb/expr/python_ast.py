"""`ast.parse` for the whole package, one thread at a time.

CPython 3.11 keeps the AST builder's recursion counter in one per-interpreter variable, so two threads in
`ast.parse` at once (a server validating flows in its thread pool, Dask tasks) can leave a call with "AST
constructor recursion depth mismatch". Every `ast.parse` of the package goes through `AST_LOCK`. A module
of its own, importing nothing (`aqtra_nb.expr` loads its names on first use): reading a notebook's
parameters cell (`jobs/notebook.py`) needs the lock but not the expression language and its pandas.
"""

from __future__ import annotations

import ast
import threading
from typing import Any

AST_LOCK = threading.Lock()


def python_ast(text: str, mode: str = "exec") -> Any:
    """`ast.parse`, one thread at a time (see AST_LOCK)."""
    with AST_LOCK:
        return ast.parse(text, mode=mode)
