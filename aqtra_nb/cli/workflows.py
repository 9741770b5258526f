"""`aqtra-nb workflows start|list|show|resume|reset|validate` and `aqtra-nb tasks list|approve|reject`.

Exit codes: 0 when the workflow finished well or waits for a person, 1 when it failed (or finished with
status failed), 2 for a user mistake (a bad file, an unknown task, an option the task does not offer).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import EXIT_FAILED, EXIT_OK, add_action, command_store


def register(sub: Any) -> None:
    workflows = sub.add_parser("workflows", help="Start and follow workflows (state machines over a record).")
    wsub = workflows.add_subparsers(dest="workflows_command", required=True, metavar="ACTION")

    start = wsub.add_parser("start", help="Start a workflow; runs until it finishes or waits for a person.")
    start.add_argument("file", help="A *.workflow.yaml file")
    start.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE")
    start.add_argument("--record", metavar="ENTITY:ID", help="The record it works on (or just ID)")
    start.add_argument("--draft", action="store_true", help="Only create it (status draft); `resume` runs it")
    start.add_argument("--json", action="store_true")
    start.set_defaults(handler=_start)

    add_action(wsub, "validate", _validate, "Check a workflow file without running it.", "file")
    add_action(wsub, "schema", _schema, "JSON Schema of workflow files (for editors).")
    listing = add_action(wsub, "list", _list, "Workflows, newest first.", json=True)
    listing.add_argument("--status")
    listing.add_argument("--name")
    listing.add_argument("--limit", type=int, default=50)
    add_action(wsub, "show", _show, "A workflow's state, results and step history.", "id", json=True)
    resume = add_action(
        wsub, "resume", _resume, "Continue a crashed, failed or draft workflow.", "id", json=True
    )
    resume.add_argument("--force", action="store_true", help="Take over from a process that looks alive")
    reset = add_action(
        wsub, "reset", _reset, "Reset a workflow to draft (first step, results cleared).", "id"
    )
    reset.add_argument("--force", action="store_true")
    cancel = add_action(
        wsub, "cancel", _cancel, "Stop a workflow for good (its open task is cancelled).", "id", json=True
    )
    cancel.add_argument("--reason", help="Why; kept with the workflow and its task")
    cancel.add_argument("--by", help="Who cancels (default: the OS user)")
    cancel.add_argument("--force", action="store_true", help="Cancel even if a live process runs it")

    tasks = sub.add_parser("tasks", help="Human tasks of workflows: list, approve, reject.")
    tsub = tasks.add_subparsers(dest="tasks_command", required=True, metavar="ACTION")
    tlist = add_action(tsub, "list", _tasks_list, "Open tasks (oldest first).", json=True)
    tlist.add_argument("--assignee")
    tlist.add_argument("--all", action="store_true", help="Decided and cancelled tasks too")
    for name, decision, text in (
        ("approve", "approved", "Approve a task; the workflow goes on."),
        ("reject", "rejected", "Reject a task."),
    ):
        decide = add_action(tsub, name, _decide, text, "task", json=True, decision=decision)
        if name == "approve":
            decide.add_argument("--option", help="The option picked, when the task offers options")
        decide.add_argument("--comment")
        decide.add_argument("--by", help="Who decides (default: the OS user)")
        decide.add_argument(
            "--no-run", action="store_true", help="Record the decision only; `resume` goes on"
        )


def _summary(instance: Any) -> dict[str, Any]:
    return {
        "id": instance.id,
        "workflow": instance.name,
        "status": instance.status,
        "step": instance.current_step,
        "record": f"{instance.entity}:{instance.record_id}" if instance.record_id is not None else None,
        "message": instance.message,
        "error": instance.error,
    }


def _report(instance: Any, as_json: bool) -> int:
    from ..workflows.engine import open_task

    info = _summary(instance)
    task = open_task(command_store(), instance) if instance.status == "waiting" else None
    if task is not None:
        info["task"] = task.id
    if as_json:
        print(json.dumps(info))
    else:
        line = f"workflow {instance.name} {instance.id[:12]}: {instance.status}"
        if instance.status == "waiting" and task is not None:
            line += f" at {instance.current_step}: task {task.id} {task.title!r}"
            choices = task.options.get("options") or []
            if choices:
                line += f" (options: {', '.join(choices)})"
        elif instance.status == "failed":
            line += f" at {instance.current_step}: {instance.error}"
        elif instance.message:
            line = _with_message(line, instance.status, instance.message)
        print(line)
    return EXIT_FAILED if instance.status == "failed" else EXIT_OK


def _with_message(line: str, status: str, message: str) -> str:
    """`...: rejected by lee` rather than `...: rejected: rejected by lee`: a message that says the status
    (the finish step's own words, `workflows cancel`'s "cancelled by WHO") stands in its place."""
    if message.split(" ", 1)[0].rstrip(":,") == status:
        return line.removesuffix(status) + message
    return f"{line}: {message}"


def _start(args: argparse.Namespace) -> int:
    from ..spec import parse_assignments
    from ..workflows.engine import start

    instance = start(args.file, parse_assignments(args.param), record=args.record, run=not args.draft)
    return _report(instance, args.json)


def _validate(args: argparse.Namespace) -> int:
    from ..workflows.load import load_workflow

    spec = load_workflow(args.file)
    print(f"{args.file}: workflow {spec.workflow!r} is valid ({len(spec.steps)} steps)")
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from ..workflows.spec import WorkflowSpec

    print(json.dumps(WorkflowSpec.model_json_schema(by_alias=True), indent=2))
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    from ..workflows.engine import age, instances

    found = instances(status=args.status, name=args.name, limit=args.limit)
    if args.json:
        print(json.dumps([_summary(i) | {"created_at": i.created_at.isoformat()} for i in found]))
        return EXIT_OK
    for i in found:
        record = f"{i.entity}:{i.record_id}" if i.record_id is not None else "-"
        print(
            f"{i.id[:12]}  {i.name:<24} {i.status:<10} {i.current_step or '-':<20} {record:<28} {age(i.created_at)}"
        )
    if not found:
        print("no workflows")
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    from ..workflows.engine import get, history

    instance = get(args.id)
    steps = history(instance.id)
    if args.json:
        info = _summary(instance) | {
            "epoch": instance.epoch,
            "parameters": instance.parameters,
            "results": instance.results,
            "record_values": instance.record,
            "history": [
                {"step": s.step_id, "kind": s.kind, "status": s.status, "epoch": s.epoch, "error": s.error}
                for s in steps
            ],
        }
        print(json.dumps(info, default=str))
        return EXIT_OK
    for key, value in _summary(instance).items():
        if value is not None:
            print(f"{key:<9} {value}")
    print(f"{'params':<9} {json.dumps(instance.parameters)}")
    for s in steps:
        detail = s.error or (json.dumps(s.result) if s.result else "")
        print(f"  [{s.epoch}] {s.step_id:<20} {s.kind:<17} {s.status:<9} {detail}")
    return EXIT_OK


def _resume(args: argparse.Namespace) -> int:
    from ..workflows.engine import resume

    return _report(resume(args.id, force=args.force), args.json)


def _reset(args: argparse.Namespace) -> int:
    from ..workflows.engine import reset

    instance = reset(args.id, force=args.force)
    print(f"workflow {instance.name} {instance.id[:12]}: draft at {instance.current_step} (resume to run it)")
    return EXIT_OK


def _cancel(args: argparse.Namespace) -> int:
    from ..entities import current_user
    from ..workflows.engine import cancel

    instance = cancel(args.id, reason=args.reason, by=args.by, force=args.force)
    if args.by is None and not args.json:
        print(f"workflow {instance.id[:12]} cancelled by {_os_user(current_user())}")
    return _report(instance, args.json)


def _tasks_list(args: argparse.Namespace) -> int:
    from ..workflows.engine import age, list_tasks

    found = list_tasks(status=None if args.all else "open", assignee=args.assignee)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": t.id,
                        "workflow_id": t.workflow_id,
                        "step": t.step_id,
                        "title": t.title,
                        "message": t.message,
                        "options": t.options.get("options") or [],
                        "assignee": t.assignee,
                        "status": t.status,
                        "option": t.option,
                        "decided_by": t.decided_by,
                    }
                    for t in found
                ]
            )
        )
        return EXIT_OK
    for t in found:
        options = ",".join(t.options.get("options") or []) or "approve"
        print(f"{t.id}  {t.status:<9} {t.assignee or '-':<12} [{options}]  {t.title}  ({age(t.created_at)})")
    if not found:
        print("no open tasks" if not args.all else "no tasks")
    return EXIT_OK


def _decide(args: argparse.Namespace) -> int:
    from ..workflows.engine import decide, get_task

    instance = decide(
        args.task,
        args.decision,
        option=getattr(args, "option", None),
        by=args.by,
        comment=args.comment,
        run=not args.no_run,
    )
    if args.by is None and not args.json:
        task = get_task(args.task, store=command_store())
        print(f"task {task.id} {task.status} by {_os_user(task.decided_by)}")
    return _report(instance, args.json)


def _os_user(name: str | None) -> str:
    """Whose name a decision or a cancel took without `--by` (the operating-system user), saying so."""
    return (
        f"{name}, the OS user (--by NAME to name who)" if name else "nobody (no OS user name; use --by NAME)"
    )
