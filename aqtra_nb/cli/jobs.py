"""`aqtra-nb jobs ...` and `aqtra-nb scheduler` (a job run's log and cancel are `aqtra-nb runs`')."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .common import EXIT_FAILED, EXIT_OK, add_action, command_store


def register(sub: Any) -> None:
    """Add `jobs` and `scheduler` to the `aqtra-nb` subcommands."""
    jobs = sub.add_parser(
        "jobs", help="Scheduled notebooks and flows: add, list, show, run, pause, resume, remove."
    )
    actions = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")

    add = actions.add_parser(
        "add",
        help="Add a job from a *.job.yaml file, or for a notebook/flow with flags.",
        description="Add a job. Everything is checked now: cron, time zone, target, parameters, kernel.",
    )
    add.add_argument("source", help="a *.job.yaml file, or the notebook (*.ipynb) or flow file to run")
    add.add_argument("--name", help="job name (default: from the job file, or the target's name)")
    add.add_argument("--cron", help="cron expression, e.g. '0 6 * * 1-5' (none: only `jobs run`)")
    add.add_argument("--timezone", help="IANA time zone of the cron expression (default UTC)")
    add.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE")
    add.add_argument("--kernel", help="Jupyter kernel (default: the notebook's)")
    add.add_argument("--retries", type=int, help="attempts after a failed, timed-out or crashed run")
    add.add_argument("--backoff", help="seconds before the first retry (doubling), e.g. 60 or '5m'")
    add.add_argument("--timeout", help="time limit of a whole run, e.g. 600 or '10m'")
    add.add_argument("--concurrency", type=int, help="runs of this job at the same time (default 1)")
    add.add_argument("--catchup", choices=["skip", "once"], help="missed runs: skip (default) or run once")
    add.add_argument("--notify-email", action="append", default=[], metavar="ADDRESS")
    add.add_argument("--notify-webhook", metavar="URL")
    add.add_argument("--notify-on", default="failure", help="failure, success or failure,success")
    add.add_argument("--replace", action="store_true", help="replace a job of the same name")
    add.add_argument(
        "--run-now", action="store_true", help="also queue a run now (a scheduler starts it at its next tick)"
    )
    add.set_defaults(handler=_add)

    add_action(actions, "list", _list, "Jobs with their schedule and last run.", json=True)
    add_action(actions, "show", _show, "A job's spec, next due times and recent runs.", "name", json=True)
    run = add_action(
        actions, "run", _run, "Queue a run now (a scheduler starts it), or run it here with --wait.", "name"
    )
    run.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE")
    run.add_argument("--wait", action="store_true", help="run it in this process and exit 1 if it fails")
    for verb, text in [
        ("pause", "Stop scheduling new runs."),
        ("resume", "Schedule again, from now on."),
        ("remove", "Remove a job (its runs stay in the history)."),
    ]:
        add_action(actions, verb, _simple, text, "name", verb=verb)

    scheduler = sub.add_parser(
        "scheduler",
        help="Run the job scheduler: queue due runs, start them on workers, retry, time out.",
        description="The job scheduler, a service of its own (no Jupyter server needed).",
    )
    scheduler.add_argument("--once", action="store_true", help="one tick; wait for the runs it started")
    scheduler.add_argument("--workers", type=int, default=None, help="runs at the same time (default 2)")
    scheduler.add_argument("--dask", metavar="ADDRESS", help="run on a dask.distributed cluster (tcp://...)")
    scheduler.add_argument("--interval", type=float, default=5.0, help="seconds between ticks")
    scheduler.add_argument("--ticks", type=int, help="stop after this many ticks")
    scheduler.add_argument("--heartbeat", type=float, default=5.0, help="seconds between worker heartbeats")
    scheduler.add_argument(
        "--heartbeat-timeout", type=float, default=30.0, help="a run without heartbeat this long is crashed"
    )
    scheduler.add_argument(
        "--grace", type=float, default=60.0, help="seconds after which a due run is missed"
    )
    scheduler.set_defaults(handler=_scheduler)


# -- handlers ---------------------------------------------------------------------------------------------


def _add(args: argparse.Namespace) -> int:
    from ..jobs import api
    from ..jobs.spec import job_from_document, load_job
    from ..spec import parse_assignments

    params = parse_assignments(args.param)
    overrides: dict[str, Any] = {
        key: value
        for key, value in {
            "cron": args.cron,
            "timezone": args.timezone,
            "kernel": args.kernel,
            "timeout": args.timeout,
            "concurrency": args.concurrency,
            "catchup": args.catchup,
        }.items()
        if value is not None
    }
    if args.retries is not None or args.backoff is not None:
        overrides["retries"] = {
            k: v for k, v in {"count": args.retries, "backoff": args.backoff}.items() if v is not None
        }
    if args.notify_email or args.notify_webhook:
        overrides["notify"] = {
            "email": args.notify_email,
            "webhook": args.notify_webhook,
            "on": [part.strip() for part in args.notify_on.split(",") if part.strip()],
        }
    source = None
    if args.source.endswith((".job.yaml", ".job.yml")):
        source = args.source
        document = load_job(args.source).model_dump(mode="json", exclude_unset=True)
        if isinstance(document.get("retries"), dict) and isinstance(overrides.get("retries"), dict):
            overrides["retries"] = {**document["retries"], **overrides["retries"]}
        document.update(overrides)
        document["parameters"] = {**document.get("parameters", {}), **params}
        if args.name:
            document["job"] = args.name
    else:
        from pathlib import Path

        target = Path(args.source)
        name = args.name or target.name.removesuffix(".ipynb").split(".flow.")[0]
        document = {"job": name, "target": str(target), "parameters": params, **overrides}
    spec = job_from_document(document, source=source)
    job = (
        api.add(spec, replace=args.replace)
        if source is None
        else _add_with_source(spec, source, args.replace)
    )
    schedule = (
        f"cron {job.spec['cron']!r} ({job.spec.get('timezone', 'UTC')})"
        if job.spec.get("cron")
        else "on demand"
    )
    print(f"job {job.name!r} added: {job.kind} {job.target}, {schedule}")
    due = next_due(job)
    if due is not None:
        print(f"next run: {_when(due)}; a running `aqtra-nb scheduler` starts it then")
    elif not args.run_now:
        print(f"it runs only when asked: `aqtra-nb jobs run {job.name}` queues a run")
    if args.run_now:
        run = api.run(job.name, store=command_store())
        print(f"run {run.id} queued now; `aqtra-nb scheduler --once` starts it and waits for it")
    elif due is not None:
        print(f"to run it now: `aqtra-nb jobs run {job.name}` (or add with --run-now)")
    return EXIT_OK


def next_due(job):
    from ..jobs.cron import next_due

    return next_due(job)


def _when(due, now=None) -> str:
    """`2026-12-04 06:00 CET (in 10 h 50 min)`: a due time in its zone, and how far off it is."""
    import datetime as dt

    now = now or dt.datetime.now(dt.UTC)
    return f"{due.strftime('%Y-%m-%d %H:%M %Z')} ({_in(due - now)})"


def _in(delta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    shown = " ".join(p for p in parts[:2] if p) if days else " ".join(p for p in parts if p)
    return f"in {shown}" if shown else "in less than a minute"


def _add_with_source(spec, source: str, replace: bool):
    from ..jobs.catalog import add_job

    return add_job(command_store(), spec, source=source, replace=replace)


def _next_due(job) -> str | None:
    due = next_due(job)
    return due.isoformat(timespec="seconds") if due else None


def _last_runs(job_id: int, limit: int):
    from sqlalchemy import select

    from ..store.models import Run

    store = command_store()
    with store.session() as session:
        query = select(Run).where(Run.job_id == job_id).order_by(Run.queued_at.desc()).limit(limit)
        return list(session.scalars(query))


def _job_record(job) -> dict[str, Any]:
    return {
        "name": job.name,
        "kind": job.kind,
        "target": job.target,
        "paused": job.paused,
        "next_run": _next_due(job),
        "spec": job.spec,
    }


def _list(args: argparse.Namespace) -> int:
    from ..jobs import api

    jobs = api.jobs(command_store())
    if args.json:
        print(json.dumps([_job_record(j) for j in jobs], indent=2, default=str))
        return EXIT_OK
    if not jobs:
        print("no jobs; add one with `aqtra-nb jobs add NOTEBOOK --cron '0 6 * * *'`")
    for job in jobs:
        last = _last_runs(job.id, 1)
        state = "paused" if job.paused else (job.spec.get("cron") or "on demand")
        last_text = f"last {last[0].status} {last[0].id}" if last else "never run"
        due = next_due(job)
        upcoming = _when(due) if due else ("-" if job.paused else "when asked (jobs run)")
        print(f"{job.name:<24} {job.kind:<8} {state:<18} next {upcoming:<36} {last_text}")
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    from ..jobs import api

    job = api.get(args.name, command_store())
    runs = _last_runs(job.id, 10)
    record = _job_record(job) | {
        "runs": [
            {
                "run_id": r.id,
                "status": r.status,
                "attempt": r.attempt,
                "scheduled_for": r.scheduled_for,
                "started_at": r.started_at,
                "seconds": r.seconds,
                "error": r.error,
            }
            for r in runs
        ]
    }
    if args.json:
        print(json.dumps(record, indent=2, default=str))
        return EXIT_OK
    print(f"job {job.name}: {job.kind} {job.target}" + (" (paused)" if job.paused else ""))
    for key, value in job.spec.items():
        if key not in ("job", "target") and value not in (None, {}, [], ""):
            print(f"  {key}: {json.dumps(value, default=str)}")
    due = next_due(job)
    if due is not None:
        print(f"  next run: {_when(due)}")
    for run in runs:
        seconds = f"{run.seconds:7.2f} s" if run.seconds is not None else " " * 9
        print(f"  {run.id:<14} {run.status:<10} attempt {run.attempt} {seconds} {run.error or ''}".rstrip())
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    standby = _standby() if args.wait else None
    from ..jobs import api
    from ..spec import parse_assignments

    run = api.run(
        args.name, parse_assignments(args.param), wait=args.wait, store=command_store(), standby=standby
    )
    if not args.wait:
        print(f"run {run.id} queued; a scheduler starts it (`aqtra-nb scheduler --once` runs it now)")
        return EXIT_OK
    seconds = f" in {run.seconds:.2f} s" if run.seconds is not None else ""
    print(f"run {run.id}: {run.status}{seconds}")
    if run.error:
        print(f"  error: {run.error}")
    for artifact in run.artifacts:
        print(f"  {artifact.kind:<9} {artifact.uri}")
    return EXIT_OK if run.status == "succeeded" else EXIT_FAILED


def _standby():
    """The run process of `jobs run --wait`, started before the store is imported and opened (about 0.3 s
    here): its Python, imports and kernel start meanwhile; `api.run` tells it the job's kernel."""
    from ..jobs.kernel_pool import start_standby
    from ..resources import current

    return start_standby(current().settings.store_url)


def _simple(args: argparse.Namespace) -> int:
    from ..jobs import api

    getattr(api, args.verb)(args.name, command_store())
    print(f"job {args.name!r} {args.verb}{'d' if args.verb.endswith('e') else 'ed'}")
    return EXIT_OK


def _scheduler(args: argparse.Namespace) -> int:
    from ..jobs.scheduler import Scheduler

    scheduler = Scheduler(
        command_store(),
        workers=args.workers if args.workers is not None else (0 if args.dask else 2),
        dask=args.dask,
        interval=args.interval,
        heartbeat_interval=args.heartbeat,
        heartbeat_timeout=args.heartbeat_timeout,
        grace=args.grace,
    )
    try:
        if args.once:
            tick = scheduler.once()
            print(
                f"tick: {len(tick.queued)} queued, {len(tick.started)} started, {len(tick.crashed)} crashed, "
                f"{len(tick.retries)} retries queued"
            )
            if not (tick.queued or tick.started or tick.crashed or tick.retries):
                print(_nothing_due())
            return EXIT_OK
        print(f"scheduler {scheduler.name}: {scheduler.capacity} worker(s); Ctrl-C stops", file=sys.stderr)
        try:
            scheduler.serve(ticks=args.ticks)
        except KeyboardInterrupt:
            scheduler.stop()
            scheduler.wait()
        return EXIT_OK
    finally:
        scheduler.close()


def _nothing_due() -> str:
    """Why a tick did nothing: which job is due next, or that none is scheduled."""
    from ..jobs import api

    upcoming = sorted(
        (due, job.name) for job in api.jobs(command_store()) if (due := next_due(job)) is not None
    )
    if not upcoming:
        return "nothing is due and no job has a schedule; `aqtra-nb jobs run NAME` queues a run now"
    due, name = upcoming[0]
    return f"nothing was due; next: job {name!r} at {_when(due)} (`aqtra-nb jobs run {name}` queues one now)"
