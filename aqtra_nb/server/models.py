"""Request and response bodies of the REST API (the OpenAPI document is generated from these)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..spec.status import RunStatus


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- errors ------------------------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    """Every 4xx/5xx reply: what is wrong and where."""

    error: str
    file: str | None = None
    step: str | None = None
    field: str | None = None
    line: int | None = None


# -- catalogue -----------------------------------------------------------------------------------------------


class ComponentInfo(BaseModel):
    name: str
    group: str
    description: str
    min_inputs: int
    max_inputs: int | None
    sink: bool
    parameters: dict[str, Any] = Field(description="JSON Schema of the component's `with:` block.")


class ComponentList(BaseModel):
    components: list[ComponentInfo]


class JsonSchema(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- flows ---------------------------------------------------------------------------------------------------

FlowInput = dict[str, Any] | str


class ValidateRequest(Body):
    flow: FlowInput = Field(description="A flow document as JSON, or YAML text.")
    parameters: dict[str, Any] = Field(default_factory=dict)
    path: str | None = Field(None, description="Where the flow lives (relative paths resolve in its folder).")


class StepColumns(BaseModel):
    columns: dict[str, str]


class ValidateResponse(BaseModel):
    ok: bool
    errors: list[ErrorBody]
    steps: dict[str, StepColumns]
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="The flow's parameters as a JSON Schema object (a run form); empty when the document "
        "cannot be read.",
    )


class PreviewRequest(ValidateRequest):
    step: str
    rows: int = Field(20, ge=1)


class PreviewResponse(BaseModel):
    step: str
    columns: dict[str, str]
    rows: list[list[Any]]


class FlowFile(BaseModel):
    path: str
    content: str = Field(description="The file's text, as saved.")
    flow: dict[str, Any] = Field(description="The flow document.")
    hash: str = Field(description="sha256 of the content; send it back as `base_hash` to save safely.")


class SaveFlowRequest(Body):
    flow: FlowInput = Field(description="The flow document, or the file's text (kept verbatim).")
    base_hash: str | None = Field(
        None, description="The hash this edit started from; a file changed since then is a 409."
    )


class SavedFlow(BaseModel):
    path: str
    hash: str
    version: int = Field(description="Id of the stored flow version (content-addressed).")


# -- runs ----------------------------------------------------------------------------------------------------


class StartRun(Body):
    flow: FlowInput | None = None
    path: str | None = Field(None, description="A flow file under the server's root, instead of `flow`.")
    parameters: dict[str, Any] = Field(default_factory=dict)


class RunStarted(BaseModel):
    run_id: str


class StepInfo(BaseModel):
    step: str
    component: str | None
    status: str
    rows: int | None
    seconds: float | None
    error: str | None
    cached: bool = False


class RunInfo(BaseModel):
    id: str
    kind: str
    name: str
    status: RunStatus
    parameters: dict[str, Any]
    job_id: int | None
    attempt: int
    queued_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    seconds: float | None
    error: str | None
    created_by: str | None
    parent_run_id: str | None = Field(
        None, description="The run this one ran inside: a notebook job's run, for a flow its kernel ran."
    )
    steps: list[StepInfo] = Field(default_factory=list)


class RunPage(BaseModel):
    runs: list[RunInfo]
    total: int
    offset: int
    limit: int


class LineageFlow(BaseModel):
    name: str
    hash: str = Field(description="Content hash of the flow document: the stored flow version's.")
    source: str | None = Field(description="The flow file, when the run started from one.")


class LineageInput(BaseModel):
    step: str
    component: str
    source: dict[str, Any] = Field(
        description="Where the data is, as the flow writes it (path, url, table, query, connection...); "
        "references such as ${secret:NAME} stay references."
    )
    location: str | None = Field(description="The absolute local path, for plain paths.")
    fingerprint: Any = Field(
        description="The source's version when the run started (a local file: path, inode, size, mtime in "
        "ns; a frame: its content hash); null when the source cannot say (SQL, HTTP)."
    )
    columns: dict[str, str]


class LineageOutput(BaseModel):
    step: str
    component: str
    kind: Literal["file", "table", "records", "http", "frame", "other"] = Field(
        description="What was written (a file, a SQL table, entity records, an HTTP API) or `frame`: a "
        "step's output collected by the caller."
    )
    target: dict[str, Any] = Field(default_factory=dict, description="Where, as the flow writes it.")
    location: str | None = None
    rows: int | None
    columns: dict[str, str]


class LineageStep(BaseModel):
    component: str
    version: str = Field(description="module:class@component version/distribution version")


class RunLineage(BaseModel):
    """What a run read and wrote, with the versions of its flow, components and scripts."""

    run_id: str
    format: int
    flow: LineageFlow
    parameters: dict[str, Any]
    inputs: list[LineageInput]
    steps: dict[str, LineageStep]
    scripts: dict[str, str] = Field(description="The code of each `script` step.")
    outputs: list[LineageOutput]


class CancelReply(BaseModel):
    run_id: str
    state: str


# -- jobs ----------------------------------------------------------------------------------------------------


class CreateJob(Body):
    target: str = Field(description="A notebook or flow file under the server's root.")
    name: str | None = None
    cron: str | None = None
    timezone: str = "UTC"
    parameters: dict[str, Any] = Field(default_factory=dict)
    kernel: str | None = None
    retries: int | dict[str, Any] = 0
    timeout: float | str | None = None
    concurrency: int = 1
    catchup: str = "skip"
    notify: Any = None
    replace: bool = False


class JobInfo(BaseModel):
    id: int
    name: str
    kind: str
    target: str
    paused: bool
    spec: dict[str, Any]
    next_run: dt.datetime | None
    created_at: dt.datetime


class JobList(BaseModel):
    jobs: list[JobInfo]


class RunJob(Body):
    parameters: dict[str, Any] = Field(default_factory=dict)


class TargetParameters(BaseModel):
    target: str
    parameters: dict[str, Any] = Field(
        description="The parameters a job of this notebook (its `parameters` cell) or flow takes, as a "
        "JSON Schema object."
    )


class NextRuns(BaseModel):
    cron: str
    timezone: str
    next: list[dt.datetime] = Field(description="The next due times, in the schedule's time zone.")


class Deleted(BaseModel):
    deleted: str


# -- workflows and tasks -------------------------------------------------------------------------------------


class StartWorkflow(Body):
    path: str = Field(description="A `*.workflow.yaml` under the server's root.")
    record: str | int | None = Field(None, description="`Entity:ID`, or the id of the workflow's entity.")
    parameters: dict[str, Any] = Field(default_factory=dict)


class TaskInfo(BaseModel):
    id: str
    workflow_id: str
    step_id: str
    title: str
    message: str | None
    options: list[str]
    assignee: str | None
    status: str
    decision: str | None
    option: str | None
    decided_by: str | None
    comment: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None


class TaskList(BaseModel):
    tasks: list[TaskInfo]


class WorkflowInfo(BaseModel):
    id: str
    name: str
    status: str
    current_step: str | None
    entity: str | None
    record_id: int | None
    parameters: dict[str, Any]
    results: dict[str, Any]
    message: str | None
    error: str | None
    created_by: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    open_task: TaskInfo | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)


class WorkflowList(BaseModel):
    workflows: list[WorkflowInfo]


class CancelWorkflow(Body):
    reason: str | None = None


class Decision(Body):
    option: str | None = Field(None, description="The option picked (for tasks that offer options).")
    comment: str | None = None


# -- entities ------------------------------------------------------------------------------------------------


class RecordValues(Body):
    model_config = ConfigDict(extra="allow")


class RecordPage(BaseModel):
    entity: str
    records: list[dict[str, Any]]
    total: int
    offset: int
    limit: int
