"""`aqtra-nb run|validate|preview FLOW`, `components`, `schema`, `sample-data` and `demo`: flows from a shell."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import AqtraError
from .common import EXIT_OK


def register(sub: Any) -> None:
    """Add the flow commands to the `aqtra-nb` subcommands."""

    def flow_command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("flow", help="a *.flow.yaml or *.flow.json file")
        p.add_argument(
            "-p",
            "--param",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="set a flow parameter (repeatable)",
        )
        return p

    run = flow_command("run", "Run a flow.")
    run.add_argument(
        "--scheduler", help="Dask scheduler: threads (default), sync, processes or tcp://host:port"
    )
    run.add_argument("--show", action="append", default=[], metavar="STEP", help="print this step's output")
    run.add_argument("--rows", type=int, default=20, help="rows to print with --show")
    run.add_argument("--json", action="store_true", help="print the run record as JSON")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--no-record", action="store_true", help="do not record the run in the store")
    run.add_argument("--no-cache", action="store_true", help="compute every step (no step cache)")
    run.add_argument(
        "--mode",
        choices=["auto", "partitioned", "in_memory"],
        default="auto",
        help="partitioned Dask frames, one in-memory task per step, or auto (by input size)",
    )
    run.add_argument("-v", "--verbose", action="store_true", help="show the original error of a failed step")
    run.set_defaults(handler=_run)

    validate = flow_command("validate", "Check a flow without reading data; print each step's columns.")
    validate.add_argument("--json", action="store_true", help="print step schemas as JSON")
    validate.set_defaults(handler=_validate)

    preview = flow_command("preview", "Print the first rows of one step.")
    preview.add_argument("step", help="step id")
    preview.add_argument("--rows", type=int, default=20)
    preview.add_argument("--no-cache", action="store_true", help="compute every step (no step cache)")
    preview.set_defaults(handler=_preview)

    components = sub.add_parser("components", help="List components, or show one's parameters.")
    components.add_argument("name", nargs="?")
    components.set_defaults(handler=_components)

    schema = sub.add_parser("schema", help="Print the JSON Schema of flow files (or app files: --app).")
    schema.add_argument("--app", action="store_true", help="the schema of *.app.yaml files instead")
    schema.set_defaults(handler=_schema)

    sample = sub.add_parser("sample-data", help="Write the synthetic sales data set (parquet and CSV).")
    sample.add_argument("directory")
    sample.add_argument("--scale", type=float, default=1.0, help="1 = about one million orders")
    sample.add_argument("--format", default="parquet,csv", help="comma-separated: parquet, csv")
    sample.set_defaults(handler=_sample_data)

    demo = sub.add_parser("demo", help="Make sample data and run the example sales flow on it.")
    demo.add_argument("directory", nargs="?", default="aqtra-demo")
    demo.add_argument("--scale", type=float, default=0.1)
    demo.set_defaults(handler=_demo)


def _load(path: str):
    from ..spec import load_flow

    return load_flow(path)


def _params(pairs: list[str]) -> dict[str, str]:
    from ..spec import parse_assignments

    return parse_assignments(pairs)


def _run(args: argparse.Namespace) -> int:
    from ..runs import run_flow

    spec = _load(args.flow)
    progress = False if (args.no_progress or args.json) else None
    outputs = None
    if args.show:
        from ..engine import plan_flow
        from ..engine.run import default_outputs

        plan = plan_flow(spec, _params(args.param))
        outputs = list(dict.fromkeys([*default_outputs(plan), *args.show]))
        for step in args.show:
            if step not in plan.steps:
                raise AqtraError(f"--show: no step {step!r}; steps: {', '.join(plan.order)}", file=args.flow)
    result = run_flow(
        spec,
        _params(args.param),
        scheduler=args.scheduler,
        outputs=outputs,
        progress=progress,
        record=not args.no_record,
        mode=args.mode,
        cache=not args.no_cache,
    )
    if args.json:
        print(result.to_json())
    else:
        print(f"{spec.flow}: {result.status} in {result.seconds:.2f} s")
        sources = _source_rows(spec, _params(args.param))
        for step in result.steps.values():
            cached = " cached" if step.cached else ""
            print(
                f"  {step.id:<24} {step.component:<16} {_rows(step, sources):>27} {step.seconds or 0:8.3f} s{cached}"
            )
    from ..engine.number_format import frame_text

    for step in args.show:
        print(f"\n{step}:")
        print(frame_text(result[step], args.rows))
    return EXIT_OK


LOCAL_SOURCES = {"read_parquet", "read_csv", "read_json", "read_excel", "sample_data", "empty"}


def _source_rows(spec, parameters) -> dict[str, int]:
    """Rows in the source of each reader a filter was pushed into (Parquet: from the files' footers), so
    that a run's "53,367 rows" reads "53,367 of 100,000 rows" rather than as the size of the file."""
    import pyarrow.dataset as pads

    from ..engine import plan_flow

    sources = {step.component for step in spec.steps if not step.input and not step.inputs}
    if "read_parquet" not in sources or not sources <= LOCAL_SOURCES:
        return {}  # planning again would ask a database or a web service once more
    try:
        plan = plan_flow(spec, parameters)
    except AqtraError:
        return {}
    found = {}
    for step_id in plan.order:
        planned = plan.steps[step_id]
        dataset = getattr(planned.component, "dataset", None) if planned.read_filter is not None else None
        if isinstance(dataset, pads.Dataset):
            try:
                found[step_id] = dataset.count_rows()
            except (OSError, ValueError):
                pass  # the run said what it could read
    return found


def _rows(step, sources: dict[str, int]) -> str:
    if step.rows is None:
        return ""
    if step.id in sources and not step.cached:
        return f"{step.rows:,} of {sources[step.id]:,} rows"
    return f"{step.rows:,} rows"


def _validate(args: argparse.Namespace) -> int:
    from ..engine import plan_flow

    plan = plan_flow(_load(args.flow), _params(args.param))
    if args.json:
        print(json.dumps({sid: plan.steps[sid].columns for sid in plan.order}, indent=2))
    else:
        print(plan.explain())
        print(f"ok: {len(plan.order)} steps")
    return EXIT_OK


def _preview(args: argparse.Namespace) -> int:
    from ..engine import plan_flow, preview_plan

    plan = plan_flow(_load(args.flow), _params(args.param))
    from ..engine.number_format import frame_text

    print(frame_text(preview_plan(plan, args.step, args.rows, cache=not args.no_cache), args.rows))
    return EXIT_OK


def _components(args: argparse.Namespace) -> int:
    from ..components import registry
    from ..components.reference import type_name

    if args.name is None:
        for component in registry:
            print(f"{component.name:<16} {component.group:<10} {component.summary()}")
        return EXIT_OK
    component = registry.get(args.name)
    print(f"{component.name} ({component.group}): {component.summary()}")
    arity = (
        "no inputs"
        if component.max_inputs == 0
        else f"inputs: {component.min_inputs}"
        + ("" if component.max_inputs == component.min_inputs else f"..{component.max_inputs or 'n'}")
    )
    print(arity)
    for name, field in component.Params.model_fields.items():
        kind = type_name(field.annotation)
        required = (
            "required" if field.is_required() else f"default {field.get_default(call_default_factory=True)!r}"
        )
        print(f"  {name}: {kind} ({required}) {field.description or ''}".rstrip())
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    if getattr(args, "app", False):
        from ..ui.spec import app_json_schema

        print(json.dumps(app_json_schema(), indent=2))
        return EXIT_OK
    from ..components.schema import flow_json_schema

    print(json.dumps(flow_json_schema(), indent=2))
    return EXIT_OK


def _sample_data(args: argparse.Namespace) -> int:
    from .. import datasets

    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    try:
        paths = datasets.write_sales(Path(args.directory), scale=args.scale, formats=formats)
    except (ValueError, TypeError) as exc:
        raise AqtraError(f"sample-data: {exc}") from None
    for table, files in paths.items():
        for fmt, path in files.items():
            print(f"{table:<10} {fmt:<8} {path}")
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from importlib import resources

    from ..runs import run_flow
    from ..spec import parse_flow

    directory = Path(args.directory)
    data = directory / "data"
    _sample_data(argparse.Namespace(directory=str(data), scale=args.scale, format="parquet,csv"))
    text = resources.files("aqtra_nb").joinpath("examples/sales_report.flow.yaml").read_text()
    flow_path = directory / "sales_report.flow.yaml"
    flow_path.write_text(text)
    spec = parse_flow(text, source=str(flow_path))
    result = run_flow(spec, {}, progress=False, outputs=["report"])
    print(f"\nran {flow_path}: {result.status} in {result.seconds:.2f} s")
    sources = _source_rows(spec, {})
    for step in result.steps.values():
        print(f"  {step.id:<12} {step.component:<14} {_rows(step, sources):>22} {step.seconds or 0:7.3f} s")
    from ..engine.number_format import frame_text

    for name, frame in result.outputs.items():
        print(f"\n{name}:\n{frame_text(frame, 10)}")
    print(f"\noutputs written under {directory / 'out'}")
    print(f"recorded as run {result.run_id}: aqtra-nb runs show {result.run_id}")
    return EXIT_OK
