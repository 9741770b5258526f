"""Jobs: scheduled notebooks and flows (the same operations as `aqtra-nb jobs ...`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tornado import web

from ...jobs import api as jobs
from ...jobs.cron import next_due, upcoming
from ..api import AqtraHandler, operation
from ..flow_service import under_root
from ..models import CreateJob, Deleted, JobInfo, JobList, NextRuns, RunInfo, RunJob, TargetParameters


def job_info(job: Any) -> dict[str, Any]:
    return {
        "id": job.id,
        "name": job.name,
        "kind": job.kind,
        "target": job.target,
        "paused": job.paused,
        "spec": job.spec,
        "next_run": next_due(job),
        "created_at": job.created_at,
    }


class JobsHandler(AqtraHandler):
    @operation("Every job with its spec and next due time.", response=JobList)
    async def get(self) -> None:
        found = await self.blocking(jobs.jobs, self.services.resources.store)
        self.reply({"jobs": [job_info(j) for j in found]})

    @operation(
        "Add a job from a notebook or flow file; cron, target and parameters are checked now.",
        action="execute",
        body=CreateJob,
        response=JobInfo,
        status=201,
    )
    async def post(self) -> None:
        request = self.body(CreateJob)
        options = request.model_dump(exclude={"target"})
        target = under_root(self.services.root_dir, request.target, field="target")
        job = await self.blocking(jobs.schedule, target, store=self.services.resources.store, **options)
        self.reply(job_info(job), status=201)


class JobHandler(AqtraHandler):
    @operation("One job.", response=JobInfo)
    async def get(self, name: str) -> None:
        self.reply(job_info(await self.blocking(jobs.get, name, self.services.resources.store)))

    @operation("Delete a job (its runs stay in the history).", response=Deleted)
    async def delete(self, name: str) -> None:
        await self.blocking(jobs.remove, name, self.services.resources.store)
        self.reply({"deleted": name})


class PauseHandler(AqtraHandler):
    @operation("Pause a job: no new runs are queued until it is resumed.", response=JobInfo)
    async def post(self, name: str) -> None:
        self.reply(job_info(await self.blocking(jobs.pause, name, self.services.resources.store)))


class ResumeHandler(AqtraHandler):
    @operation("Resume a paused job.", response=JobInfo)
    async def post(self, name: str) -> None:
        self.reply(job_info(await self.blocking(jobs.resume, name, self.services.resources.store)))


class RunNowHandler(AqtraHandler):
    @operation(
        "Queue a run of the job now (parameters overlaid on the job's, checked).",
        action="execute",
        body=RunJob,
        response=RunInfo,
        status=202,
    )
    async def post(self, name: str) -> None:
        request = self.body(RunJob)
        store = self.services.resources.store

        def queue() -> dict:
            return store.run_record(jobs.run(name, request.parameters, store=store).id)

        self.reply(await self.blocking(queue), status=202)


def next_runs(cron: str, timezone: str, count: int) -> dict[str, Any]:
    """The next `count` due times of a schedule (a bad cron or zone is a 400 naming the field)."""
    return {"cron": cron, "timezone": timezone, "next": upcoming(cron, timezone, count)}


class ScheduleHandler(AqtraHandler):
    @operation("The next due times of a cron schedule in a time zone (forms preview a job with it).",
               response=NextRuns, query=("cron", "timezone", "count"))  # fmt: skip
    async def get(self) -> None:
        cron = self.get_query_argument("cron", "")
        if not cron.strip():
            raise web.HTTPError(400, "give a cron expression, e.g. cron=0 6 * * 1-5")
        timezone = self.get_query_argument("timezone", "UTC")
        count = self.query_int("count", 5, low=1, high=50)
        self.reply(await self.blocking(next_runs, cron, timezone, count))


def target_parameters(root: Path, target: str) -> dict[str, Any]:
    """The run form of a notebook or flow file under `root`: its parameters as a JSON Schema object."""
    from ...jobs.notebook import notebook_parameters
    from ...spec import ParameterSpec, load_flow
    from ...spec.params import parameters_json_schema

    path = under_root(root, target, field="target")
    specs: Mapping[str, ParameterSpec]
    if path.suffix == ".ipynb":
        specs = notebook_parameters(path)
    else:
        specs = load_flow(path).parameters
    return {"target": target, "parameters": parameters_json_schema(specs)}


class TargetParametersHandler(AqtraHandler):
    @operation(
        "The parameters of a notebook (its `parameters` cell) or flow file, as a JSON Schema form.",
        response=TargetParameters,
        query=("target",),
    )
    async def get(self) -> None:
        target = self.get_query_argument("target", "")
        self.reply(await self.blocking(target_parameters, self.services.root_dir, target))


ROUTES = [
    (r"schedule/next", ScheduleHandler),
    (r"schedule/parameters", TargetParametersHandler),
    (r"jobs", JobsHandler),
    (r"jobs/(?P<name>[^/]+)", JobHandler),
    (r"jobs/(?P<name>[^/]+)/pause", PauseHandler),
    (r"jobs/(?P<name>[^/]+)/resume", ResumeHandler),
    (r"jobs/(?P<name>[^/]+)/run", RunNowHandler),
]
