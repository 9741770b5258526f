"""OpenLineage events: START then COMPLETE (or FAIL) per run, through the client's own file transport,
valid against the OpenLineage 2-0-2 RunEvent schema and the facets we send; none when the setting is off;
a missing client is one warning and the run goes on."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from aqtra_nb import lineage_events
from aqtra_nb.lineage_events import dataset_name, openlineage_run_id
from aqtra_nb.recording import run_flow
from aqtra_nb.spec import flow_from_document

URI = {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$"}
UUID = {"type": "string", "pattern": r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}
DATE_TIME = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"}


def facet(required: dict | None = None, **properties) -> dict:
    """A facet: BaseFacet's `_producer` and `_schemaURL` (URIs, required) and its own required fields."""
    return {
        "type": "object",
        "properties": {"_producer": URI, "_schemaURL": URI, **(required or {}), **properties},
        "required": ["_producer", "_schemaURL", *(required or {})],
    }


def facets(known: dict) -> dict:
    return {"type": "object", "properties": known, "additionalProperties": {"$ref": "#/$defs/BaseFacet"}}


# The OpenLineage 2-0-2 RunEvent (spec/OpenLineage.json: BaseEvent + run, job, inputs, outputs), with the
# facets this project sends checked by their own schemas' required fields and types.
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {
        "BaseFacet": facet(),
        "Dataset": {
            "type": "object",
            "properties": {
                "namespace": {"type": "string", "minLength": 1},
                "name": {"type": "string", "minLength": 1},
                "facets": facets(
                    {
                        "schema": facet(
                            {
                                "fields": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "name": {"type": "string"},
                                            "type": {"type": "string"},
                                        },
                                        "required": ["name"],
                                    },
                                }
                            }
                        ),
                        "version": facet({"datasetVersion": {"type": "string"}}),
                    }
                ),
            },
            "required": ["namespace", "name"],
        },
    },
    "type": "object",
    "properties": {
        "eventTime": DATE_TIME,
        "producer": URI,
        "schemaURL": URI,
        "eventType": {"enum": ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]},
        "run": {
            "type": "object",
            "properties": {
                "runId": UUID,
                "facets": facets(
                    {
                        "processing_engine": facet({"version": {"type": "string"}}, name={"type": "string"}),
                        "errorMessage": facet(
                            {"message": {"type": "string"}, "programmingLanguage": {"type": "string"}}
                        ),
                        "executionParameters": facet(
                            parameters={
                                "type": "array",
                                "items": {"type": "object", "required": ["key"]},
                            }
                        ),
                    }
                ),
            },
            "required": ["runId"],
        },
        "job": {
            "type": "object",
            "properties": {
                "namespace": {"type": "string", "minLength": 1},
                "name": {"type": "string", "minLength": 1},
                "facets": facets(
                    {
                        "jobType": facet(
                            {"processingType": {"type": "string"}, "integration": {"type": "string"}}
                        ),
                        "sourceCode": facet(
                            {"language": {"type": "string"}, "sourceCode": {"type": "string"}}
                        ),
                        "sourceCodeLocation": facet({"type": {"type": "string"}, "url": URI}),
                    }
                ),
            },
            "required": ["namespace", "name"],
        },
        "inputs": {
            "type": "array",
            "items": {
                "allOf": [{"$ref": "#/$defs/Dataset"}],
                "properties": {"inputFacets": facets({})},
            },
        },
        "outputs": {
            "type": "array",
            "items": {
                "allOf": [{"$ref": "#/$defs/Dataset"}],
                "properties": {
                    "outputFacets": facets({"outputStatistics": facet({"rowCount": {"type": "integer"}})})
                },
            },
        },
    },
    "required": ["eventTime", "producer", "schemaURL", "run", "job"],
}


def scaled(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(cents=df["amount"] * 100)


def broken(df: pd.DataFrame) -> pd.DataFrame:
    if len(df):
        raise ValueError("broken on purpose")
    return scaled(df)


@pytest.fixture
def flow(tmp_path):
    (tmp_path / "orders.csv").write_text("id,amount\n1,10\n2,25\n3,40\n")
    document = {
        "flow": "ol_demo",
        "parameters": {"minimum": {"type": "integer", "default": 0}},
        "steps": [
            {"id": "orders", "component": "read_csv", "with": {"path": "orders.csv"}},
            {
                "id": "big",
                "component": "filter",
                "input": "orders",
                "with": {"condition": "amount > @minimum"},
            },
            {"id": "cents", "component": "script", "input": "big", "with": {"function": "scaled"}},
            {
                "id": "save",
                "component": "write_parquet",
                "input": "cents",
                "with": {"path": "out/big.parquet"},
            },
        ],
    }
    return flow_from_document(document).located(str(tmp_path / "ol.flow.yaml"), tmp_path)


@pytest.fixture
def transport(tmp_path, monkeypatch) -> Path:
    """The client's file transport, configured the usual way (OPENLINEAGE__ variables)."""
    log = tmp_path / "openlineage.jsonl"
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", str(log))
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    monkeypatch.delenv("OPENLINEAGE_URL", raising=False)
    monkeypatch.delenv("OPENLINEAGE_CONFIG", raising=False)
    monkeypatch.delenv("OPENLINEAGE_DISABLED", raising=False)
    return log


def events(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def test_runs_send_valid_start_and_complete_events(flow, transport, monkeypatch, tmp_path):
    monkeypatch.setenv("AQTRA_OPENLINEAGE", "true")
    result = run_flow(flow, {"minimum": 15}, record=False, objects={"scaled": scaled}, progress=False)
    start, complete = events(transport)
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    for event in (start, complete):
        validator.validate(event)
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert start["run"]["runId"] == complete["run"]["runId"] == openlineage_run_id(result.run_id)
    assert complete["job"] == {**complete["job"], "namespace": "aqtra-nb", "name": "ol_demo"}
    assert "def scaled" in complete["job"]["facets"]["sourceCode"]["sourceCode"]
    assert complete["job"]["facets"]["sourceCodeLocation"]["version"] == result.lineage["flow"]["hash"]
    [source] = complete["inputs"]
    assert (source["namespace"], source["name"]) == ("file", str(tmp_path / "orders.csv"))
    assert [f["name"] for f in source["facets"]["schema"]["fields"]] == ["id", "amount"]
    assert source["facets"]["version"]["datasetVersion"]
    assert start["outputs"] == []
    [written] = complete["outputs"]
    assert (written["namespace"], written["name"]) == ("file", str(tmp_path / "out" / "big.parquet"))
    assert written["outputFacets"]["outputStatistics"]["rowCount"] == 2
    parameters = complete["run"]["facets"]["executionParameters"]["parameters"]
    assert parameters == [{"key": "minimum", "value": "15"}]


def test_a_failed_run_sends_fail_with_its_error(flow, transport, monkeypatch):
    monkeypatch.setenv("AQTRA_OPENLINEAGE", "1")
    with pytest.raises(Exception, match="broken on purpose"):
        run_flow(flow, {}, record=False, objects={"scaled": broken}, progress=False)
    start, fail = events(transport)
    jsonschema.Draft202012Validator(SCHEMA).validate(fail)
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    assert "broken on purpose" in fail["run"]["facets"]["errorMessage"]["message"]
    assert fail["outputs"] == []


def test_no_events_unless_the_setting_is_on(flow, transport, monkeypatch):
    monkeypatch.delenv("AQTRA_OPENLINEAGE", raising=False)
    run_flow(flow, {}, record=False, objects={"scaled": scaled}, progress=False)
    monkeypatch.setenv("AQTRA_OPENLINEAGE", "false")
    run_flow(flow, {}, record=False, objects={"scaled": scaled}, progress=False)
    assert not transport.exists()


def test_without_the_client_one_warning_and_the_run_goes_on(flow, transport, monkeypatch, caplog):
    monkeypatch.setenv("AQTRA_OPENLINEAGE", "true")
    monkeypatch.setitem(sys.modules, "openlineage.client", None)  # import fails
    monkeypatch.setattr(lineage_events, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="aqtra_nb.lineage_events"):
        for _ in range(2):
            result = run_flow(flow, {}, record=False, objects={"scaled": scaled}, progress=False)
            assert result.status == "succeeded"
    warnings = [r for r in caplog.records if "openlineage-python is not installed" in r.getMessage()]
    assert len(warnings) == 1 and not transport.exists()


def test_dataset_names_follow_openlineage_naming(tmp_path):
    url = "postgresql+psycopg://app:${secret:PW}@db.example:5432/warehouse"
    assert dataset_name("read_sql", {"url": url, "table": "public.sales"}, None, tmp_path) == (
        "postgres://db.example:5432",
        "warehouse.public.sales",
    )
    assert dataset_name("read_sql", {"connection": "nowhere", "table": "t"}, None, tmp_path) == (
        "aqtra-nb://connections/nowhere",
        "t",
    )
    post = {"url": "https://api.example/v1", "path": "orders", "method": "POST"}
    assert dataset_name("http_post", post, None, tmp_path) == ("https://api.example", "/v1/orders")
    assert dataset_name("read_parquet", {"path": "s3://bucket/data/x.parquet"}, None, tmp_path) == (
        "s3://bucket",
        "/data/x.parquet",
    )
    assert dataset_name("write_model", {"entity": "Ticket"}, None, tmp_path) == (
        "aqtra-nb://entities",
        "Ticket",
    )
    assert dataset_name("from_frame", {"name": "df"}, None, tmp_path) is None


def test_job_runs_send_events_too(tmp_path):
    """A flow run as a job (a run process forked by the worker) reports to the same lineage server."""
    import os
    import subprocess
    import sys

    (tmp_path / "numbers.csv").write_text("x\n1\n2\n")
    (tmp_path / "tiny.flow.yaml").write_text(
        "flow: tiny\nsteps:\n  - {id: numbers, component: read_csv, with: {path: numbers.csv}}\n"
        "  - {id: save, component: write_csv, input: numbers, with: {path: out.csv}}\n"
    )
    log = tmp_path / "openlineage.jsonl"
    env = {
        **os.environ,
        "AQTRA_HOME": str(tmp_path / "home"),
        "AQTRA_OPENLINEAGE": "true",
        "OPENLINEAGE__TRANSPORT__TYPE": "file",
        "OPENLINEAGE__TRANSPORT__LOG_FILE_PATH": str(log),
        "OPENLINEAGE__TRANSPORT__APPEND": "true",
    }
    env.pop("AQTRA_DATABASE_URL", None)
    for args in (["jobs", "add", "tiny.flow.yaml", "--name", "tiny"], ["jobs", "run", "tiny", "--wait"]):
        done = subprocess.run(
            [sys.executable, "-m", "aqtra_nb.cli", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    start, complete = events(log)
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    for event in (start, complete):
        validator.validate(event)
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert complete["job"]["name"] == "tiny"
    assert [o["name"] for o in complete["outputs"]] == [str(tmp_path / "out.csv")]
