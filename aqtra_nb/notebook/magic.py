"""`%%flow`: a cell of flow YAML, validated and run; frames for `from_frame` come from the notebook.

Imported when a `%%flow` cell first runs (`notebook/ipython.py` registers the magic on `import aqtra_nb`),
so pandas, Dask and the engine load then."""

from __future__ import annotations

import argparse
import inspect
import shlex
from collections.abc import Container
from pathlib import Path
from typing import Any, NoReturn

from IPython.display import display

from ..errors import AqtraError, did_you_mean

USAGE = """Run the flow written in the cell as YAML; `%%flow NAME` also binds the Flow to NAME.

Usage: %%flow [NAME] [--as RESULT] [-p PARAM=VALUE]... [--show STEP]... [--rows N] [--validate]

The run result is bound to RESULT (default `_flow_result`); `--show STEP` displays the first `--rows`
rows of that step; `--validate` prints the plan without running. Frames and functions of the notebook
are passed to `from_frame` and `script` steps by name. Errors are printed as one message.
"""


class _Parser(argparse.ArgumentParser):
    """Bad magic arguments are a user's mistake: an AqtraError (printed), not SystemExit."""

    def error(self, message: str) -> NoReturn:
        raise AqtraError(f"{message}\n{self.format_usage().strip()}")


def _arguments(line: str) -> argparse.Namespace:
    parser = _Parser(prog="%%flow", add_help=False)
    parser.add_argument("flow_name", nargs="?", metavar="NAME")
    parser.add_argument("-p", "--param", action="append", default=[])
    parser.add_argument("--show", action="append", default=[])
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--as", dest="name", default="_flow_result")
    parser.add_argument("--validate", action="store_true")
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise AqtraError(f"cannot read the %%flow arguments {line!r}: {exc}") from None
    return parser.parse_args(words)


def _notebook_objects(namespace: dict[str, Any], hidden: Container[str] = ()) -> dict[str, Any]:
    """What a flow may refer to by name: the notebook's frames (`from_frame`) and functions (`script`)."""
    import dask.dataframe as dd
    import pandas as pd

    return {
        name: value
        for name, value in namespace.items()
        if not name.startswith("_")
        and name not in hidden
        and (isinstance(value, pd.DataFrame | dd.DataFrame) or inspect.isfunction(value))
    }


def flow_magic(line: str, cell: str, namespace: dict[str, Any], hidden: Container[str] = ()) -> Any:
    """Run the flow in `cell` (see USAGE); the Flow is bound to NAME as soon as the cell reads as one."""
    from ..flow import Flow
    from ..spec import parse_assignments

    args = _arguments(line)
    if args.flow_name is not None and not args.flow_name.isidentifier():
        raise AqtraError(f"%%flow NAME: {args.flow_name!r} is not a Python name\n{USAGE.splitlines()[2]}")
    flow = Flow.from_yaml(cell, source="%%flow cell")
    flow.spec.located("%%flow cell", Path.cwd())  # relative paths: the notebook's working folder
    if args.flow_name is not None:
        namespace[args.flow_name] = flow
    ids = [s.id for s in flow.spec.steps]
    for step in args.show:
        if step not in ids:
            raise AqtraError(f"--show: no step {step!r}.{did_you_mean(step, ids)} Steps: {', '.join(ids)}")
    frames = _notebook_objects(namespace, hidden)
    params = parse_assignments(args.param)
    if args.validate:
        plan = flow.plan(params, frames=frames)
        print(plan.explain())
        return None
    result = flow.run(params, frames=frames, outputs=None)
    namespace[args.name] = result
    display(result)
    for step in args.show:
        display(result.show(step, args.rows))
    return None


def run_magic_cell(ipython: Any, line: str, cell: str) -> None:
    """A `%%flow` cell: its errors are printed as one message, not raised."""
    try:
        flow_magic(line, cell, ipython.user_ns, getattr(ipython, "user_ns_hidden", ()))
    except AqtraError as exc:
        print(f"error: {exc}")


def register(ipython: Any) -> None:
    from .ipython import register_magic

    register_magic(ipython)
