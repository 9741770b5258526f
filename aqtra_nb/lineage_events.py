"""OpenLineage run events for flow runs, so a lineage server (Marquez, DataHub, ...) sees aqtra-nb runs.

Off unless the `openlineage` setting is on ($AQTRA_OPENLINEAGE). Where events go is the OpenLineage
client's own configuration (`openlineage.yml`, `OPENLINEAGE_URL`, `OPENLINEAGE__TRANSPORT__*`), so a site
that already sends lineage from other tools configures nothing new. The emitter is one more listener of
the run's event stream: START from the lineage the engine puts in `run_started`, COMPLETE or FAIL from
the completed lineage of `run_finished`/`run_failed` (`engine/lineage.py`).

Mapping: the job is the flow (namespace `$OPENLINEAGE_NAMESPACE`, default `aqtra-nb`; name: the flow's
name); the run id is a UUID derived from aqtra-nb's run id (uuid5, so either names the other). Datasets
follow OpenLineage's naming: local files `file` + absolute path, other URLs `scheme://host` + path, SQL
tables `dialect://host:port` + `database.table`, HTTP APIs `scheme://host` + path; a named connection is
looked up for its URL as written (references are never resolved here). Entity records are
`aqtra-nb://entities` + the entity's name. Frames passed from or collected into a notebook are not
datasets and are left out. Facets: schema (the planned columns and dtypes), dataset version (a hash of
the input's fingerprint), output statistics (rows written), source code (the flow's scripts), source
code location (the flow file), job type, processing engine, the run's parameters, error message.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .spec.digest import content_hash

logger = logging.getLogger(__name__)

#: derives OpenLineage run ids (UUIDs) from aqtra-nb run ids
RUN_NAMESPACE = uuid.UUID("6f1c3a52-4d8e-5b7a-9c0e-2a41d5e7b3f9")
DEFAULT_NAMESPACE = "aqtra-nb"
_warned = False


def openlineage_run_id(run_id: str) -> str:
    """The OpenLineage run id (a UUID) of an aqtra-nb run: the same for every event of the run."""
    return str(uuid.uuid5(RUN_NAMESPACE, run_id))


def emitter(*, run_id: str | None = None, enabled: bool | None = None) -> OpenLineageEmitter | None:
    """An emitter when the `openlineage` setting (or `enabled`) is on and the client is installed; None
    otherwise, with one warning per process if the setting is on but `openlineage-python` is missing.
    `run_id`: the stored run's id when the engine's differs (job and API runs)."""
    global _warned
    if enabled is None:
        from .resources import current

        enabled = current().settings.openlineage
    if not enabled:
        return None
    try:
        from openlineage.client import OpenLineageClient
    except ImportError:
        if not _warned:
            _warned = True
            logger.warning(
                "the openlineage setting is on, but openlineage-python is not installed "
                '(pip install "aqtra-nb[lineage]"); runs go on without OpenLineage events'
            )
        return None
    try:
        client = OpenLineageClient()
    except Exception as exc:  # a broken openlineage.yml must not stop runs
        logger.warning("OpenLineage client not configured (%s); no lineage events are sent", exc)
        return None
    return OpenLineageEmitter(client, os.environ.get("OPENLINEAGE_NAMESPACE") or DEFAULT_NAMESPACE, run_id)


class OpenLineageEmitter:
    """Listener of a run's event stream that sends START, then COMPLETE or FAIL."""

    def __init__(self, client: Any, namespace: str, run_id: str | None = None) -> None:
        self.client, self.namespace, self.run_id = client, namespace, run_id
        self.started: dict[str, Any] | None = None

    def __call__(self, event: Any) -> None:
        lineage = (event.data or {}).get("lineage")
        if event.kind == "run_started" and lineage is not None:
            self.started = lineage
            self._emit("START", event, lineage)
        elif event.kind in ("run_finished", "run_failed") and self.started is not None:
            self._emit("COMPLETE" if event.kind == "run_finished" else "FAIL", event, lineage or self.started)
            try:
                self.client.close(5.0)
            except Exception:  # pragma: no cover - a transport that cannot flush has logged why
                logger.debug("closing the OpenLineage client failed", exc_info=True)

    def _emit(self, state: str, event: Any, lineage: dict[str, Any]) -> None:
        try:
            self.client.emit(run_event(state, event, lineage, self.namespace, self.run_id or event.run_id))
        except Exception as exc:  # the lineage server being down must not fail the run
            logger.warning("could not send the OpenLineage %s event of run %s: %s", state, event.run_id, exc)


def run_event(state: str, event: Any, lineage: dict[str, Any], namespace: str, run_id: str) -> Any:
    """The OpenLineage `RunEvent` (client classes) of one transition of a run."""
    import datetime as dt

    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import (
        OutputDatasetFacet,
        dataset_version_dataset,
        error_message_run,
        execution_parameters_run,
        job_type_job,
        output_statistics_output_dataset,
        processing_engine_run,
        source_code_job,
        source_code_location_job,
    )

    folder = Path(lineage["flow"]["source"]).parent if lineage["flow"].get("source") else Path.cwd()
    run_facets: dict[str, Any] = {
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
            producer=PRODUCER,
            version=_version("aqtra-nb"),
            name="aqtra-nb",
            openlineageAdapterVersion=_version("openlineage-python"),
        ),
        "executionParameters": execution_parameters_run.ExecutionParametersRunFacet(
            producer=PRODUCER,
            parameters=[
                execution_parameters_run.ExecutionParameter(key=k, value=json.dumps(v, default=str))
                for k, v in lineage["parameters"].items()
            ],
        ),
    }
    if state == "FAIL" and event.error:
        run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            producer=PRODUCER, message=event.error, programmingLanguage="python"
        )
    job_facets: dict[str, Any] = {
        "jobType": job_type_job.JobTypeJobFacet(
            producer=PRODUCER, processingType="BATCH", integration="AQTRA_NB", jobType="FLOW"
        )
    }
    if lineage["flow"].get("source"):
        location = Path(lineage["flow"]["source"]).resolve()
        job_facets["sourceCodeLocation"] = source_code_location_job.SourceCodeLocationJobFacet(
            producer=PRODUCER,
            type="file",
            url=location.as_uri(),
            path=str(location),
            version=lineage["flow"]["hash"],
        )
    if lineage["scripts"]:
        code = "\n".join(f"# step {sid}\n{text}" for sid, text in lineage["scripts"].items())
        job_facets["sourceCode"] = source_code_job.SourceCodeJobFacet(
            producer=PRODUCER, language="python", sourceCode=code
        )
    inputs = []
    for item in lineage["inputs"]:
        where = dataset_name(item["component"], item["source"], item.get("location"), folder)
        if where is not None:
            facets = {"schema": _schema(item["columns"])}
            if item["fingerprint"] is not None:
                facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(
                    producer=PRODUCER, datasetVersion=content_hash(item["fingerprint"])[:32]
                )
            inputs.append(InputDataset(namespace=where[0], name=where[1], facets=facets))
    outputs = []
    for item in lineage["outputs"] if state != "START" else []:
        where = (
            None
            if item["kind"] == "frame"
            else dataset_name(item["component"], item["target"], item.get("location"), folder)
        )
        if where is not None:
            output_facets: dict[str, OutputDatasetFacet] = {}
            if item["rows"] is not None:
                statistics = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet
                output_facets["outputStatistics"] = statistics(producer=PRODUCER, rowCount=item["rows"])
            outputs.append(
                OutputDataset(
                    namespace=where[0],
                    name=where[1],
                    facets={"schema": _schema(item["columns"])},
                    outputFacets=output_facets,
                )
            )
    return RunEvent(
        eventType=RunState[state],
        eventTime=dt.datetime.fromtimestamp(event.time, dt.UTC).isoformat(),
        run=Run(runId=openlineage_run_id(run_id), facets=run_facets),
        job=Job(namespace=namespace, name=lineage["flow"]["name"], facets=job_facets),
        inputs=inputs,
        outputs=outputs,
        producer=PRODUCER,
    )


#: what the events say made them (a URI, as OpenLineage asks)
PRODUCER = "urn:aqtra-nb"


def dataset_name(
    component: str, where: dict[str, Any], location: str | None, folder: Path
) -> tuple[str, str] | None:
    """(namespace, name) of the data a step reads or writes, by OpenLineage's naming conventions; None for
    what is not a dataset (frames passed from a notebook, empty frames)."""
    if location is not None:  # a plain path: absolute, or a URL (s3://...)
        return _url_dataset(location, folder)
    if "entity" in where:
        return "aqtra-nb://entities", str(where["entity"])
    if component == "sample_data":
        return "aqtra-nb://sample_data", str(where.get("table", ""))
    sql_query = where.get("query") if isinstance(where.get("query"), str) else None
    if "table" in where or sql_query is not None:
        url = where.get("url") or _connection_url(where.get("connection"), folder, "url")
        table = where.get("table") or f"query_{content_hash(sql_query)[:12]}"
        return _sql_dataset(url, where.get("connection"), str(table))
    if "path" not in where and "url" not in where:
        return None
    http = "method" in where or component.startswith("http")
    base = where.get("url") or _connection_url(where.get("connection"), folder, "base_url" if http else "url")
    path = str(where.get("path") or "")
    if base is None and where.get("connection"):
        return f"aqtra-nb://connections/{where['connection']}", path
    if base is None:
        return _url_dataset(path, folder)
    return _url_dataset(base.rstrip("/") + "/" + path.lstrip("/") if path else base, folder)


def _url_dataset(url: str, folder: Path) -> tuple[str, str]:
    """`file` and an absolute path for local paths; `scheme://host[:port]` and the path for URLs."""
    parts = urlsplit(url)
    if parts.scheme in ("", "file") or "://" not in url:
        return "file", str((folder / (parts.path if parts.scheme == "file" else url)).resolve())
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}", parts.path or "/"


def _sql_dataset(url: str | None, connection: str | None, table: str) -> tuple[str, str]:
    if url is None:
        return f"aqtra-nb://connections/{connection}", table
    parts = urlsplit(url)
    dialect = parts.scheme.partition("+")[0]
    dialect = {"postgresql": "postgres"}.get(dialect, dialect)
    database = parts.path.lstrip("/")
    if dialect == "sqlite":
        return "sqlite", f"{database}.{table}" if database else table
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{dialect}://{host}{port}", f"{database}.{table}" if database else table


def _connection_url(name: str | None, folder: Path, key: str) -> str | None:
    """A named connection's URL as written (references left as they are), or None if unknown."""
    if not name:
        return None
    try:
        from .connections import Connections

        spec = Connections(folder).spec(name)
    except Exception:
        return None
    value = getattr(spec, key, None) or getattr(spec, "url", None)
    return value if isinstance(value, str) else None


def _schema(columns: dict[str, str]) -> Any:
    from openlineage.client.facet_v2 import schema_dataset

    return schema_dataset.SchemaDatasetFacet(
        producer=PRODUCER,
        fields=[
            schema_dataset.SchemaDatasetFacetFields(name=name, type=dtype) for name, dtype in columns.items()
        ],
    )


def _version(distribution: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "0+local"
