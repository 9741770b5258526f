"""`aqtra-nb`: run, validate and preview flows; list components; print the flow schema; make sample data.

User mistakes print one paragraph and exit 2; a failing step exits 1; never a bare traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import AqtraError, StepFailed

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """One command: its settings and resources (store, secrets, connections) are made here, once."""
    from .resources import Resources, use
    from .settings import AqtraNb

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["server"] and not {"-h", "--help"} & set(argv[1:]):
        return _server(argv[1:])  # every other option is Jupyter's
    parser = _parser(argv[0] if argv else None)
    args, extra = parser.parse_known_args(argv)
    if extra and isinstance(getattr(args, "values", None), list) and all(_assignment(e) for e in extra):
        args.values += extra  # `records add E --json '{...}' field=value`: values after an option
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    settings = AqtraNb()
    level = settings.log_level.upper()
    logging.basicConfig(
        level=level if level in logging.getLevelNamesMapping() else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        with use(Resources(settings)):
            return args.handler(args)
    except StepFailed as exc:
        _error(exc, args)
        return EXIT_FAILED
    except AqtraError as exc:
        _error(exc, args)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _assignment(text: str) -> bool:
    return "=" in text and not text.startswith("-")


def _error(exc: AqtraError, args: argparse.Namespace) -> None:
    if getattr(args, "json", False):
        print(json.dumps({"status": "failed", "error": str(exc), "step": exc.step, "field": exc.field}))
    cause = exc.__cause__
    detail = ""
    if isinstance(exc, StepFailed) and cause is not None and getattr(args, "verbose", False):
        import traceback

        detail = "\n" + "".join(traceback.format_exception(cause))
    print(f"error: {exc}{detail}", file=sys.stderr)


# Commands defined here, and those whose parsers and handlers live in their package's `cli` module
# (`runs log|cancel` come from jobs).
OWN_COMMANDS = {
    "run",
    "validate",
    "preview",
    "cache",
    "components",
    "schema",
    "sample-data",
    "runs",
    "secrets",
    "connections",
    "outbox",
    "demo",
    "server",
}
GROUP_COMMANDS = {
    "entities.cli": ("records",),
    "publish.cli": ("publish", "apps"),
    "jobs.cli": ("jobs", "scheduler", "runs"),
    "workflows.cli": ("workflows", "tasks"),
}


def _group(module: str, command: str | None):
    """A package's `cli` module, imported only when one of its commands runs, or when every command is
    listed (`aqtra-nb --help`, a mistyped command); otherwise None. `validate` and `run` import none."""
    known = {name for names in GROUP_COMMANDS.values() for name in names} | OWN_COMMANDS
    if command in known and command not in GROUP_COMMANDS[module]:
        return None
    return importlib.import_module(f".{module}", __package__)


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of `aqtra-nb`, with every command, or (given the command) with those that need no
    package's `cli` module plus that command's own."""
    parser = argparse.ArgumentParser(prog="aqtra-nb", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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

    cache = sub.add_parser("cache", help="The step cache: `cache list`, `cache clear`.")
    cache_sub = cache.add_subparsers(dest="cache_command", required=True, metavar="ACTION")
    cache_list = cache_sub.add_parser("list", help="Cached step outputs, most recently used first.")
    cache_list.add_argument("--flow", help="only entries of this flow")
    cache_list.add_argument("--json", action="store_true")
    cache_list.set_defaults(handler=_cache_list)
    cache_clear = cache_sub.add_parser("clear", help="Remove cached step outputs (all, or those selected).")
    cache_clear.add_argument("--flow", help="only entries of this flow")
    cache_clear.add_argument(
        "--older-than", metavar="AGE", help="only entries last used longer ago than AGE: 30m, 12h, 7d"
    )
    cache_clear.set_defaults(handler=_cache_clear)

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

    runs = sub.add_parser("runs", help="Run history: `runs list`, `runs show RUN_ID`, `runs lineage RUN_ID`.")
    runs_sub = runs.add_subparsers(dest="runs_command", required=True, metavar="ACTION")
    runs_list = runs_sub.add_parser("list", help="Recent runs, newest first.")
    runs_list.add_argument("--flow", help="only runs of this flow")
    runs_list.add_argument("--status", help="only runs with this status")
    runs_list.add_argument("--limit", type=int, default=20)
    runs_list.add_argument("--json", action="store_true")
    runs_list.set_defaults(handler=_runs_list)
    runs_show = runs_sub.add_parser("show", help="One run with its steps.")
    runs_show.add_argument("run_id", help="run id or a unique prefix")
    runs_show.add_argument("--json", action="store_true")
    runs_show.set_defaults(handler=_runs_show)
    runs_lineage = runs_sub.add_parser(
        "lineage", help="What a run read and wrote: inputs with fingerprints, code, outputs."
    )
    runs_lineage.add_argument("run_id", help="run id or a unique prefix")
    runs_lineage.add_argument("--json", action="store_true")
    runs_lineage.set_defaults(handler=_runs_lineage)
    jobs = _group("jobs.cli", command)
    if jobs is not None:
        jobs.register_runs(runs_sub)

    secrets = sub.add_parser("secrets", help="Encrypted secrets: `secrets set NAME`, `list`, `delete NAME`.")
    secrets_sub = secrets.add_subparsers(dest="secrets_command", required=True, metavar="ACTION")
    secrets_set = secrets_sub.add_parser(
        "set", help="Store a secret; the value is read from stdin or a prompt."
    )
    secrets_set.add_argument("name")
    secrets_set.set_defaults(handler=_secrets_set)
    secrets_sub.add_parser("list", help="Names of the stored secrets.").set_defaults(handler=_secrets_list)
    secrets_delete = secrets_sub.add_parser("delete", help="Remove a secret.")
    secrets_delete.add_argument("name")
    secrets_delete.set_defaults(handler=_secrets_delete)

    connections = sub.add_parser(
        "connections", help="Named connections: `list`, `add NAME --kind ...`, `remove`."
    )
    connections_sub = connections.add_subparsers(dest="connections_command", required=True, metavar="ACTION")
    connections_sub.add_parser("list", help="Connections from aqtra.yaml and the store.").set_defaults(
        handler=_connections_list
    )
    connections_add = connections_sub.add_parser("add", help="Save a connection in the store.")
    connections_add.add_argument("name")
    connections_add.add_argument("--kind", required=True, choices=["sql", "files", "http", "smtp"])
    connections_add.add_argument("--url", help="SQLAlchemy or fsspec URL; passwords as ${secret:NAME}")
    connections_add.add_argument("--base-url", help="HTTP base URL")
    connections_add.add_argument("--header", action="append", default=[], metavar="NAME=VALUE")
    connections_add.set_defaults(handler=_connections_add)
    connections_remove = connections_sub.add_parser("remove", help="Remove a stored connection.")
    connections_remove.add_argument("name")
    connections_remove.set_defaults(handler=_connections_remove)

    outbox = sub.add_parser(
        "outbox", help="Email kept when no SMTP server is configured: list, `outbox show ID`, `outbox clear`."
    )
    outbox.set_defaults(handler=_outbox_list)
    outbox_sub = outbox.add_subparsers(dest="outbox_command", metavar="ACTION")
    outbox_sub.add_parser("list", help="The kept messages, oldest first.").set_defaults(handler=_outbox_list)
    outbox_show = outbox_sub.add_parser("show", help="One message as it would have been sent.")
    outbox_show.add_argument("id", help="the message id from `aqtra-nb outbox`")
    outbox_show.set_defaults(handler=_outbox_show)
    outbox_sub.add_parser("clear", help="Remove every kept message.").set_defaults(handler=_outbox_clear)

    records = _group("entities.cli", command)
    if records is not None:
        records.register(sub)

    demo = sub.add_parser("demo", help="Make sample data and run the example sales flow on it.")
    demo.add_argument("directory", nargs="?", default="aqtra-demo")
    demo.add_argument("--scale", type=float, default=0.1)
    demo.set_defaults(handler=_demo)

    server = sub.add_parser(
        "server",
        help="Start JupyterLab with the aqtra-nb API (`--no-lab`: Jupyter Server only); other options go "
        "to Jupyter, e.g. --port 8888 --AqtraNb.run_scheduler=True.",
    )
    server.add_argument("--no-lab", action="store_true", help="Jupyter Server without the JupyterLab UI")

    for module in ("publish.cli", "jobs.cli", "workflows.cli"):
        group = _group(module, command)
        if group is not None:
            group.register(sub)
    return parser


def _server(options: list[str]) -> int:
    """Replace this process with `jupyter lab` (or `jupyter server` with `--no-lab`): the extension is
    enabled by the package's `jupyter_server_config.d` file, so this is plain Jupyter with its options."""
    module = "jupyter_server" if "--no-lab" in options else "jupyterlab"
    rest = [option for option in options if option != "--no-lab"]
    os.execvp(sys.executable, [sys.executable, "-m", module, *rest])
    return EXIT_OK  # pragma: no cover - exec does not return


def _load(path: str):
    from .spec import load_flow

    return load_flow(path)


def _params(pairs: list[str]) -> dict[str, str]:
    from .spec import parse_assignments

    return parse_assignments(pairs)


def _run(args: argparse.Namespace) -> int:
    from .runs import run_flow

    spec = _load(args.flow)
    progress = False if (args.no_progress or args.json) else None
    outputs = None
    if args.show:
        from .engine import plan_flow
        from .engine.run import default_outputs

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
    from .engine.number_format import frame_text

    for step in args.show:
        print(f"\n{step}:")
        print(frame_text(result[step], args.rows))
    return EXIT_OK


LOCAL_SOURCES = {"read_parquet", "read_csv", "read_json", "read_excel", "sample_data", "empty"}


def _source_rows(spec, parameters) -> dict[str, int]:
    """Rows in the source of each reader a filter was pushed into (Parquet: from the files' footers), so
    that a run's "53,367 rows" reads "53,367 of 100,000 rows" rather than as the size of the file."""
    import pyarrow.dataset as pads

    from .engine import plan_flow

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
    from .engine import plan_flow

    plan = plan_flow(_load(args.flow), _params(args.param))
    if args.json:
        print(json.dumps({sid: plan.steps[sid].columns for sid in plan.order}, indent=2))
    else:
        print(plan.explain())
        print(f"ok: {len(plan.order)} steps")
    return EXIT_OK


def _preview(args: argparse.Namespace) -> int:
    from .engine import plan_flow, preview_plan

    plan = plan_flow(_load(args.flow), _params(args.param))
    from .engine.number_format import frame_text

    print(frame_text(preview_plan(plan, args.step, args.rows, cache=not args.no_cache), args.rows))
    return EXIT_OK


def _step_cache():
    from .resources import current

    found = current().step_cache()
    if found is None:
        raise AqtraError("the step cache is turned off (cache_bytes = 0, $AQTRA_CACHE_BYTES)")
    return found


def _cache_list(args: argparse.Namespace) -> int:
    cache = _step_cache()
    entries = [e for e in cache.entries() if args.flow is None or e.flow == args.flow]
    if args.json:
        print(json.dumps([e.to_dict() for e in entries], indent=2))
        return EXIT_OK
    for e in entries:
        used = dt.datetime.fromtimestamp(e.used).isoformat(" ", "seconds")
        print(
            f"{e.key[:12]}  {e.flow:<20} {e.step:<20} {e.rows:>12,} rows {e.bytes / 2**20:9.2f} MiB  {used}"
        )
    total = sum(e.bytes for e in entries)
    print(
        f"{len(entries)} entries, {total / 2**20:.2f} MiB of {cache.max_bytes / 2**20:.0f} MiB ({cache.folder})"
    )
    return EXIT_OK


def _cache_clear(args: argparse.Namespace) -> int:
    older = None if args.older_than is None else _age(args.older_than)
    removed = _step_cache().clear(older_than=older, flow=args.flow)
    print(f"removed {len(removed)} entries ({sum(e.bytes for e in removed) / 2**20:.2f} MiB)")
    return EXIT_OK


def _age(text: str) -> dt.timedelta:
    """`30s`, `30m`, `12h`, `7d`, `2w` as a timedelta; anything else is a user mistake."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if not found:
        raise AqtraError(
            f"--older-than {text!r}: give a number and a unit, e.g. 30m, 12h or 7d", field="older-than"
        )
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[found.group(2)]
    return dt.timedelta(**{unit: float(found.group(1))})


def _components(args: argparse.Namespace) -> int:
    from .components import registry

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


def _run_record(run) -> dict:
    return {
        "run_id": run.id,
        "flow": run.name,
        "name": run.name,
        "kind": run.kind,
        "status": run.status,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "seconds": run.seconds,
        "parameters": run.parameters,
        "error": run.error,
        "parent_run": run.parent_run_id,
        **_job_fields(run),
        "steps": {
            s.step_id: {
                "component": s.component,
                "status": s.status,
                "rows": s.rows,
                "seconds": s.seconds,
                "cached": bool(s.cached),
                "error": s.error,
            }
            for s in run.steps
        },
    }


def _job_fields(run) -> dict:
    if run.job_id is None:
        return {}
    artifacts = {a.kind: a.uri for a in run.__dict__.get("artifacts") or []}
    scheduled = run.scheduled_for.isoformat() if run.scheduled_for else None
    return {"attempt": run.attempt, "scheduled_for": scheduled, "worker": run.worker, "artifacts": artifacts}


def _runs_list(args: argparse.Namespace) -> int:
    from .resources import current

    runs = current().store.runs(name=args.flow, status=args.status, limit=args.limit)
    if args.json:
        print(json.dumps([_run_record(r) for r in runs], indent=2, default=str))
        return EXIT_OK
    listed = {run.id for run in runs}
    children: dict[str, list] = {}
    for run in runs:
        if run.parent_run_id in listed:
            children.setdefault(run.parent_run_id, []).append(run)
    for run in runs:
        if run.parent_run_id in listed:
            continue  # shown under its parent
        outside = f"  (inside run {run.parent_run_id})" if run.parent_run_id else ""
        print(_run_line(run, "") + outside)
        for child in reversed(children.get(run.id, [])):
            print(_run_line(child, "  └ "))
    return EXIT_OK


def _run_line(run, indent: str) -> str:
    started = run.started_at.strftime("%Y-%m-%d %H:%M:%S") if run.started_at else ""
    seconds = f"{run.seconds:8.2f} s" if run.seconds is not None else " " * 10
    return f"{indent + run.id:<16} {started:<20} {run.status:<10} {seconds} {_what_ran(run)}"


def _runs_show(args: argparse.Namespace) -> int:
    from .resources import current

    run = current().store.run(args.run_id)
    record = _run_record(run)
    if args.json:
        print(json.dumps(record, indent=2, default=str))
        return EXIT_OK
    print(
        f"run {run.id}: {_what_ran(run)} {run.status}" + (f" in {run.seconds:.2f} s" if run.seconds else "")
    )
    print(f"  started {record['started_at']}, parameters {json.dumps(run.parameters, default=str)}")
    store = current().store
    if run.parent_run_id:
        parent = store.run(run.parent_run_id)
        print(f"  inside   run {parent.id}: {_what_ran(parent)} {parent.status}")
    for child in _child_runs(store, run.id):
        print(f"  child    run {child.id}: {_what_ran(child)} {child.status}")
    if run.error:
        print(f"  error: {run.error}")
    for kind, uri in record.get("artifacts", {}).items():
        print(f"  {kind:<9} {uri}")
    for step_id, step in record["steps"].items():
        rows = "" if step["rows"] is None else f"{step['rows']:>12,} rows"
        print(
            f"  {step_id:<24} {step['component'] or '':<16} {step['status']:<10} {rows} {step['seconds'] or 0:8.3f} s"
        )
    return EXIT_OK


def _child_runs(store, run_id: str) -> list:
    """Runs recorded inside this one (the flows a notebook job ran), oldest first."""
    from sqlalchemy import select

    from .store.models import Run

    with store.session() as session:
        query = select(Run).where(Run.parent_run_id == run_id).order_by(Run.started_at)
        return list(session.scalars(query))


def _what_ran(run) -> str:
    """`flow 'sales'`, `notebook job 'daily-sales'`, `flow job 'nightly'`: what a run was a run of."""
    if run.job_id is not None:
        return f"{run.kind} job {run.name!r}"
    return f"{run.kind or 'flow'} {run.name!r}"


def _runs_lineage(args: argparse.Namespace) -> int:
    from .errors import NotFound
    from .resources import current

    found = current().store.run_lineage(args.run_id)
    document = found["lineage"]
    if document is None:
        raise NotFound(
            f"run {found['run_id']} has no lineage: it was recorded before lineage was kept, or failed "
            "before it started"
        )
    if args.json:
        print(json.dumps({"run_id": found["run_id"], **document}, indent=2, default=str))
        return EXIT_OK
    flow = document["flow"]
    print(f"run {found['run_id']}: flow {flow['name']!r} {found['status']} (version {flow['hash'][:12]})")
    if flow.get("source"):
        print(f"  file       {flow['source']}")
    if document["parameters"]:
        print(f"  parameters {json.dumps(document['parameters'], default=str)}")
    for item in document["inputs"]:
        where = item.get("location") or json.dumps(item["source"], default=str)
        print(f"  input      {item['step']:<20} {item['component']:<14} {where}")
        print(f"             fingerprint {_fingerprint(item['fingerprint'])}")
    for step_id, code in document["scripts"].items():
        first = code.strip().splitlines()[0] if code.strip() else ""
        print(f"  script     {step_id:<20} {first}")
    for item in document["outputs"]:
        where = item.get("location") or json.dumps(item.get("target", {}), default=str)
        rows = "" if item["rows"] is None else f"{item['rows']:,} rows"
        print(
            f"  output     {item['step']:<20} {item['kind']:<14} {rows:>12}  {'' if item['kind'] == 'frame' else where}"
        )
    return EXIT_OK


def _fingerprint(value: object) -> str:
    """A fingerprint in one short line: a hash of what it holds (None: the source has none)."""
    if value is None:
        return "none (the source cannot say what version it had)"
    from .spec.digest import content_hash

    return content_hash(value)[:16]


def _secret_store():
    from .resources import current

    return current().secrets


def _secrets_set(args: argparse.Namespace) -> int:
    import getpass

    if sys.stdin.isatty():
        value = getpass.getpass(f"value of {args.name}: ")
    else:
        value = sys.stdin.read().rstrip("\n")
    if not value:
        raise AqtraError("empty secret value; nothing stored")
    _secret_store().set(args.name, value)
    print(f"secret {args.name!r} stored (encrypted)")
    return EXIT_OK


def _secrets_list(args: argparse.Namespace) -> int:
    for name in _secret_store().names():
        print(name)
    return EXIT_OK


def _secrets_delete(args: argparse.Namespace) -> int:
    if not _secret_store().delete(args.name):
        raise AqtraError(f"no secret named {args.name!r}")
    print(f"secret {args.name!r} deleted")
    return EXIT_OK


def _connections_list(args: argparse.Namespace) -> int:
    from .resources import current

    connections = current().connections()
    files, stored = connections.file_specs, connections.stored_specs()
    for name in connections.names():
        spec = files.get(name) or stored[name]
        origin = "aqtra.yaml" if name in files else "store"
        print(f"{name:<20} {spec.kind:<6} {origin:<10} {spec.url or spec.base_url}")
    return EXIT_OK


def _connections_add(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from .connections import ConnectionSpec
    from .resources import current
    from .spec import parse_assignments

    try:
        spec = ConnectionSpec(
            kind=args.kind, url=args.url, base_url=args.base_url, headers=parse_assignments(args.header)
        )
    except ValidationError as exc:
        raise AqtraError(
            f"connection {args.name!r}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}"
        ) from None
    current().connections().add(args.name, spec)
    print(f"connection {args.name!r} saved")
    return EXIT_OK


def _connections_remove(args: argparse.Namespace) -> int:
    from .resources import current

    if not current().connections().remove(args.name):
        raise AqtraError(f"no stored connection named {args.name!r}")
    print(f"connection {args.name!r} removed")
    return EXIT_OK


def _outbox_list(args: argparse.Namespace) -> int:
    from .outbox import Outbox

    outbox = Outbox.default()
    found = outbox.messages()
    for item in found:
        print(f"{item.id}  {item.date:<31}  {item.recipients:<30} {item.subject}")
    print(f"{len(found)} message(s) in {outbox.folder}" if found else f"no messages in {outbox.folder}")
    return EXIT_OK


def _outbox_show(args: argparse.Namespace) -> int:
    from .outbox import Outbox

    item = Outbox.default().get(args.id)
    for header in ("From", "To", "Date", "Subject"):
        print(f"{header}: {item.message[header] or ''}")
    print(f"File: {item.path}\n")
    print(item.body())
    return EXIT_OK


def _outbox_clear(args: argparse.Namespace) -> int:
    from .outbox import Outbox

    removed = Outbox.default().clear()
    print(f"removed {removed} message(s)")
    return EXIT_OK


def type_name(annotation: object) -> str:
    """`list[str]`, `Literal['inner', 'left']`, `float`: a parameter's type as a reader writes it."""
    if isinstance(annotation, type) and not getattr(annotation, "__args__", None):
        return annotation.__name__
    # Nested parameter models show as their class names, not module paths.
    return re.sub(r"\b(?:[a-z_][a-z0-9_]*\.)+(?=[A-Z])", "", str(annotation).replace("typing.", ""))


def _schema(args: argparse.Namespace) -> int:
    if getattr(args, "app", False):
        from .ui.spec import app_json_schema

        print(json.dumps(app_json_schema(), indent=2))
        return EXIT_OK
    from .components.schema import flow_json_schema

    print(json.dumps(flow_json_schema(), indent=2))
    return EXIT_OK


def _sample_data(args: argparse.Namespace) -> int:
    from . import datasets

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

    from .runs import run_flow
    from .spec import parse_flow

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
    from .engine.number_format import frame_text

    for name, frame in result.outputs.items():
        print(f"\n{name}:\n{frame_text(frame, 10)}")
    print(f"\noutputs written under {directory / 'out'}")
    print(f"recorded as run {result.run_id}: aqtra-nb runs show {result.run_id}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
