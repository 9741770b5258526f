"""`aqtra-nb runs list|show|lineage|log|cancel`: the run history, flow and job runs alike."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .common import EXIT_OK, command_store


def register(sub: Any) -> None:
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
    runs_log = runs_sub.add_parser("log", help="The captured output of a job run.")
    runs_log.add_argument("run_id", help="run id or a unique prefix")
    runs_log.set_defaults(handler=_runs_log)
    runs_cancel = runs_sub.add_parser("cancel", help="Cancel a queued or running job run.")
    runs_cancel.add_argument("run_id", help="run id or a unique prefix")
    runs_cancel.set_defaults(handler=_runs_cancel)


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
    runs = command_store().runs(name=args.flow, status=args.status, limit=args.limit)
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
    run = command_store().run(args.run_id)
    record = _run_record(run)
    if args.json:
        print(json.dumps(record, indent=2, default=str))
        return EXIT_OK
    print(
        f"run {run.id}: {_what_ran(run)} {run.status}" + (f" in {run.seconds:.2f} s" if run.seconds else "")
    )
    print(f"  started {record['started_at']}, parameters {json.dumps(run.parameters, default=str)}")
    store = command_store()
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

    from ..store.models import Run

    with store.session() as session:
        query = select(Run).where(Run.parent_run_id == run_id).order_by(Run.started_at)
        return list(session.scalars(query))


def _what_ran(run) -> str:
    """`flow 'sales'`, `notebook job 'daily-sales'`, `flow job 'nightly'`: what a run was a run of."""
    if run.job_id is not None:
        return f"{run.kind} job {run.name!r}"
    return f"{run.kind or 'flow'} {run.name!r}"


def _runs_lineage(args: argparse.Namespace) -> int:
    from ..errors import NotFound

    found = command_store().run_lineage(args.run_id)
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
    from ..spec.digest import content_hash

    return content_hash(value)[:16]


def _runs_log(args: argparse.Namespace) -> int:
    from ..jobs import api

    sys.stdout.write(api.log(args.run_id, command_store()))
    return EXIT_OK


def _runs_cancel(args: argparse.Namespace) -> int:
    from ..jobs import api

    state = api.cancel(args.run_id, command_store())
    print(f"run {args.run_id}: {state}")
    return EXIT_OK
