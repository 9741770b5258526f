"""OpenLineage events: START then COMPLETE (or FAIL) per run, through the client's own file transport,
valid against the OpenLineage 2-0-2 RunEvent and the official facets (as the client's classes generated
from the spec define them); none when the setting is off;
a missing client is one warning and the run goes on."""

from __future__ import annotations

import enum
import importlib
import json
import logging
import pkgutil
import sys
import types
import typing
from pathlib import Path
from typing import Any

import attr
import openlineage.client.generated as generated
import pandas as pd
import pytest
from openlineage.client.generated.base import BaseFacet
from openlineage.client.generated.base import RunEvent as OpenLineageRunEvent

from aqtra_nb import lineage_events
from aqtra_nb.lineage_events import dataset_name, openlineage_run_id
from aqtra_nb.recording import run_flow
from aqtra_nb.spec import flow_from_document


def _facet_classes() -> dict[str, type]:
    """Every facet class the client generates from the OpenLineage spec, by the schema URL it names."""
    found = {}
    for info in pkgutil.iter_modules(generated.__path__):
        module = importlib.import_module(f"{generated.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and attr.has(value) and issubclass(value, BaseFacet):
                if "_get_schema" in vars(value):
                    found[value._get_schema()] = value
    return found


FACETS = _facet_classes()


def conforms(event: dict) -> Any:
    """`event` (as a transport wrote it) built back into the client's classes generated from the
    OpenLineage spec (`openlineage/client/generated`, RunEvent 2-0-2 and the official facets), strictly:
    no field the spec does not define, every required field, JSON types as the spec's, enums from the
    spec, each facet the class its `_schemaURL` names, the schema URLs the spec's own; the generated
    validators check times, URIs and UUIDs. No wheel ships the spec's JSON files themselves (checked:
    openlineage-python 1.39.0 sdist and 1.54.0 wheel, openlineage-integration-common 1.54.0,
    openlineage-sql 1.54.0, openlineage-airflow 1.41.0, openlineage-dbt 1.54.0,
    apache-airflow-providers-openlineage 2.20.3); these classes are generated from them."""
    return _build(OpenLineageRunEvent, event, "event")


def _build(cls: type, value: Any, where: str) -> Any:
    assert isinstance(value, dict), f"{where}: {cls.__name__} must be an object, not {value!r}"
    hints = typing.get_type_hints(cls)
    fields = {field.name: field for field in attr.fields(cls)}
    unknown = sorted(set(value) - set(fields))
    assert not unknown, f"{where}: {cls.__name__} has no field {unknown}"
    arguments = {}
    for name, field in fields.items():
        if name not in value:
            assert field.default is not attr.NOTHING, f"{where}: {cls.__name__} needs {name}"
        elif field.init:
            arguments[field.alias] = _structure(value[name], hints[name], f"{where}.{name}")
    made = cls(**arguments)  # the generated validators run here
    for name, field in fields.items():  # the schema URLs: the spec's own for this class
        if not field.init and name in value:
            assert value[name] == getattr(made, name), f"{where}.{name}: {value[name]!r}"
    return made


def _structure(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [o for o in typing.get_args(hint) if o is not type(None)]
        if value is None:
            assert len(options) < len(typing.get_args(hint)), f"{where}: may not be null"
            return None
        assert len(options) == 1, f"{where}: {hint}"
        return _structure(value, options[0], where)
    if origin is list:
        assert isinstance(value, list), f"{where}: must be a list, not {value!r}"
        (item,) = typing.get_args(hint)
        return [_structure(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        assert isinstance(value, dict), f"{where}: must be an object, not {value!r}"
        _, item = typing.get_args(hint)
        return {key: _structure(v, item, f"{where}.{key}") for key, v in value.items()}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if isinstance(hint, type) and attr.has(hint):
        if issubclass(hint, BaseFacet):
            found = FACETS.get(value.get("_schemaURL") if isinstance(value, dict) else None)
            assert found is not None and issubclass(found, hint), f"{where}: not a spec {hint.__name__}"
            hint = found
        return _build(hint, value, where)
    if hint is float:
        assert isinstance(value, int | float) and not isinstance(value, bool), f"{where}: {value!r}"
    elif hint in (str, int, bool):
        assert type(value) is hint, f"{where}: must be {hint.__name__}, not {value!r}"
    return value


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
    for event in (start, complete):
        conforms(event)
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


def test_the_check_refuses_what_the_spec_refuses(flow, transport, monkeypatch):
    import copy

    monkeypatch.setenv("AQTRA_OPENLINEAGE", "true")
    run_flow(flow, {"minimum": 15}, record=False, objects={"scaled": scaled}, progress=False)
    _, complete = events(transport)
    conforms(complete)

    def broken(change) -> dict:
        event = copy.deepcopy(complete)
        change(event)
        return event

    mistakes = [
        lambda e: e["run"].pop("runId"),  # required
        lambda e: e["run"].update(runId="not-a-uuid"),
        lambda e: e.update(eventType="DONE"),  # not in the spec's enum
        lambda e: e.update(eventTime="yesterday"),
        lambda e: e["job"].update(owner="me"),  # no such field
        lambda e: e["outputs"][0]["outputFacets"]["outputStatistics"].update(rowCount="2"),
        lambda e: e["run"]["facets"].update(code=complete["job"]["facets"]["sourceCode"]),  # a job facet
        lambda e: e["inputs"][0]["facets"]["schema"].update(_schemaURL="https://example.com/x.json"),
    ]
    for change in mistakes:
        event = broken(change)
        with pytest.raises((AssertionError, ValueError)):  # the check's, a generated validator's, an enum's
            conforms(event)


def test_a_failed_run_sends_fail_with_its_error(flow, transport, monkeypatch):
    monkeypatch.setenv("AQTRA_OPENLINEAGE", "1")
    with pytest.raises(Exception, match="broken on purpose"):
        run_flow(flow, {}, record=False, objects={"scaled": broken}, progress=False)
    start, fail = events(transport)
    conforms(fail)
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
    for event in (start, complete):
        conforms(event)
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert complete["job"]["name"] == "tiny"
    assert [o["name"] for o in complete["outputs"]] == [str(tmp_path / "out.csv")]
