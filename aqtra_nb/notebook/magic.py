"""`%%flow`: a cell of flow YAML, validated and run; frames for `from_frame` come from the notebook."""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from IPython.display import display

from ..errors import AqtraError
from ..flow import Flow
from ..spec import parse_assignments


def _arguments(line: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="%%flow", add_help=False)
    parser.add_argument("-p", "--param", action="append", default=[])
    parser.add_argument("--show", action="append", default=[])
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--as", dest="name", default="_flow_result")
    parser.add_argument("--validate", action="store_true")
    return parser.parse_args(shlex.split(line))


def flow_magic(line: str, cell: str, namespace: dict[str, Any]) -> Any:
    """Run the flow in `cell`; the result is bound to `--as NAME` (default `_flow_result`)."""
    args = _arguments(line)
    flow = Flow.from_yaml(cell, source="%%flow cell")
    frames = {k: v for k, v in namespace.items() if not k.startswith("_")}
    params = parse_assignments(args.param)
    if args.validate:
        plan = flow.plan(params, frames=frames)
        print(plan.explain())
        return None
    result = flow.run(params, frames=frames, outputs=None)
    namespace[args.name] = result
    display(result)
    for step in args.show:
        display(result[step].head(args.rows))
    return None


def register(ipython: Any) -> None:
    def magic(line: str, cell: str) -> None:
        try:
            flow_magic(line, cell, ipython.user_ns)
        except AqtraError as exc:
            print(f"error: {exc}")

    magic.__doc__ = flow_magic.__doc__
    ipython.register_magic_function(magic, magic_kind="cell", magic_name="flow")
