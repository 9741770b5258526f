"""`http_get` and `http_post` against a real HTTP server on 127.0.0.1 (tests/http_server.py): three
pagination styles, retries with backoff, a Bearer token from the secret store, errors that name the step
and field and are recorded, and no partial output after a failure."""

from __future__ import annotations

import json
import logging
import textwrap
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest
from http_server import ITEMS, ApiServer

from aqtra_nb import AqtraError, Flow
from aqtra_nb.cli import main
from aqtra_nb.components.http.endpoint import retry_after
from aqtra_nb.errors import FlowValidationError, StepFailed
from aqtra_nb.runs import default_store
from aqtra_nb.secrets import SecretStore

MODES = ["in_memory", "partitioned"]
TOKEN = "tok-http-9Qz+/="
DTYPES = {
    "id": "Int64",
    "name": "str",
    "price": "float64",
    "in_stock": "boolean",
    "added": "str",
    "dims.w": "Int64",
    "dims.unit": "str",
}


@pytest.fixture
def api():
    with ApiServer(token=TOKEN) as server:
        yield server


def expected_items() -> pd.DataFrame:
    return pd.json_normalize(ITEMS).astype(DTYPES)[list(DTYPES)]


def get(api: ApiServer, mode: str = "in_memory", **params) -> pd.DataFrame:
    f = Flow("http")
    params.setdefault("url", api.url)
    params.setdefault("retries", 0)
    f.http_get("src", **params)
    return f.run(progress=False, record=False, mode=mode)["src"]


# -- reading ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("params", "requests"),
    [
        ({"path": "/items", "records": "data.items", "paginate": {"kind": "page"}}, 6),
        (
            {
                "path": "/items",
                "records": "/data/items",
                "paginate": {"kind": "page", "size_param": "per_page", "size": 5},
            },
            5,
        ),
        ({"path": "/link", "records": "results", "paginate": {"kind": "link", "next": "links.next"}}, 5),
        ({"path": "/link-header", "paginate": {"kind": "link"}}, 5),
        (
            {
                "path": "/cursor",
                "records": "items",
                "paginate": {"kind": "cursor", "cursor": "meta.next_cursor"},
            },
            5,
        ),
    ],
    ids=["page-until-empty", "page-until-short", "link-in-body", "link-header", "cursor"],
)
def test_every_pagination_style_reads_all_records(api, mode, params, requests):
    frame = get(api, mode, **params)
    pd.testing.assert_frame_equal(frame, expected_items())
    # The first page, fetched while planning (for the schema), is not fetched again by the run.
    assert api.count(params["path"]) == requests


def test_schema_is_inferred_from_the_first_page(api):
    f = Flow("http")
    f.http_get("src", url=api.url, path="/items", records="data.items", paginate={"kind": "page"})
    assert f.plan().steps["src"].columns == DTYPES
    assert api.count("/items") == 1


@pytest.mark.parametrize("mode", MODES)
def test_declared_columns_plan_without_a_request_and_are_cast(api, mode):
    f = Flow("http")
    src = f.http_get(
        "src",
        url=api.url,
        path="/items",
        records="data.items",
        paginate={"kind": "page", "size_param": "per_page", "size": 10},
        columns={
            "id": "integer",
            "price": "string",
            "added": "datetime",
            "dims.w": "number",
            "gone": "number",
        },
    )
    src.select("some", columns=["id", "added"])
    plan = f.plan()
    assert api.count("/items") == 0
    assert plan.steps["src"].columns == {
        "id": "Int64",
        "price": "str",
        "added": "datetime64[us]",
        "dims.w": "float64",
        "gone": "float64",
    }
    result = f.run(progress=False, record=False, mode=mode, outputs=["src", "some"])
    frame = result["src"]
    assert len(frame) == 23 and api.count("/items") == 3
    assert frame["price"].iloc[1] == "2.5" and frame["gone"].isna().all()
    assert frame["added"].iloc[0] == pd.Timestamp("2024-01-01 10:00:00")  # UTC, without its zone
    assert list(result["some"].columns) == ["id", "added"]


def test_a_column_that_cannot_be_cast_names_the_column_and_the_field(api):
    with pytest.raises(StepFailed) as info:
        get(api, path="/items", records="data.items", columns={"name": "integer"})
    error = info.value
    assert error.step == "src" and error.field == "columns"
    assert "column 'name' is integer in the planned schema but holds 'item 1'" in str(error)


def test_max_pages_stops_with_a_warning(api, caplog):
    with caplog.at_level(logging.WARNING):
        frame = get(api, path="/items", records="data.items", paginate={"kind": "page"}, max_pages=2)
    assert frame["id"].tolist() == list(range(1, 11))
    assert "stopped after max_pages=2 pages" in caplog.text


def test_records_may_point_at_one_object(api):
    frame = get(api, path="/items", records="data.items.0.dims")
    assert frame.to_dict("records") == [{"w": 1, "unit": "cm"}]


# -- retries --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_retries_after_503s_then_succeeds(api, mode, caplog):
    key = f"/flaky/{mode}"
    with caplog.at_level(logging.INFO, logger="aqtra_nb"):
        frame = get(api, mode, path=key, records="data.items", retries=2, backoff_seconds=0.01)
    assert frame["id"].tolist() == [1, 2, 3, 4, 5]
    assert api.count(key) == 3
    assert caplog.text.count("answered HTTP 503") == 2


def test_too_few_retries_fail_with_the_status_and_body(api):
    f = Flow("http")
    f.http_get("src", url=api.url, path="/flaky/few", retries=1, backoff_seconds=0)
    with pytest.raises(AqtraError) as info:
        f.plan()
    error = info.value
    assert error.step == "src" and error.field == "url"
    assert (
        "answered HTTP 503" in str(error) and "try again" in str(error) and "after 2 attempts" in str(error)
    )


def test_backoff_doubles(api):
    began = time.perf_counter()
    with pytest.raises(AqtraError, match=r"HTTP 500 .*after 3 attempts"):
        get(api, path="/fail", retries=2, backoff_seconds=0.1)
    assert time.perf_counter() - began >= 0.3  # 0.1 + 0.2
    assert api.count("/fail") == 3


def test_retry_after_header():
    class Response:
        def __init__(self, value):
            self.headers = {"Retry-After": value} if value is not None else {}

    assert retry_after(Response("2"), 0.5) == 2.0
    assert retry_after(Response(None), 0.5) == 0.5
    assert retry_after(Response("Wed, 21 Oct 2015 07:28:00 GMT"), 0.5) == 0.0  # in the past
    assert retry_after(Response("soon"), 0.5) == 0.5


def test_timeout_is_retried_then_reported(api):
    with pytest.raises(AqtraError, match=r"cannot reach the server \(timed out after 0.2 s\)"):
        get(api, path="/slow", timeout=0.2, retries=0)


def test_connection_refused_names_the_url_field():
    f = Flow("http")
    f.http_get("src", url="http://127.0.0.1:1/things", retries=1, backoff_seconds=0)
    with pytest.raises(AqtraError) as info:
        f.plan()
    assert info.value.step == "src" and info.value.field == "url"
    assert "GET http://127.0.0.1:1/things: cannot reach the server ([Errno 111] Connection refused)" in str(
        info.value
    )


# -- parameters -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"url": "http://x", "connection": "api"}, "give either `connection`"),
        ({}, "give either `connection`"),
        ({"url": "ftp://x/y"}, "must be an http:// or https:// URL"),
        ({"url": "not a url"}, "must be an http:// or https:// URL"),
        ({"url": "https://me:hunter2@x/y"}, "password in clear"),
        ({"url": "https://x", "headers": {"Authorization": "Bearer hunter2"}}, "credential in clear"),
        ({"url": "https://x", "query": {"api_key": "hunter2"}}, "credential in clear"),
        ({"url": "https://x", "paginate": {"kind": "cursor"}}, "requires this parameter"),
        ({"url": "https://x", "paginate": {"kind": "pages"}}, "does not match any of the expected tags"),
    ],
)
def test_bad_parameters_are_refused_when_the_step_is_added(params, message):
    f = Flow("x")
    with pytest.raises(FlowValidationError, match=message) as info:
        f.http_get("src", **params)
    assert "hunter2" not in str(info.value) and info.value.step == "src"


def test_references_are_allowed_in_url_headers_and_query(monkeypatch, api):
    monkeypatch.setenv("HTTP_TEST_BASE", api.url)
    monkeypatch.setenv("HTTP_TEST_TOKEN", TOKEN)
    frame = get(
        api,
        url="${env:HTTP_TEST_BASE}",
        path="/secure",
        headers={"Authorization": "Bearer ${env:HTTP_TEST_TOKEN}"},
        records="data.items",
    )
    assert len(frame) == 5


def test_environment_values_are_redacted_where_credentials_go(monkeypatch, api):
    monkeypatch.setenv("HTTP_TEST_BASE", api.url)
    monkeypatch.setenv("HTTP_TEST_ENV_TOKEN", "env-tok-31337")
    with pytest.raises(AqtraError) as info:
        get(
            api,
            url="${env:HTTP_TEST_BASE}",
            path="/fail",
            headers={"Authorization": "Bearer ${env:HTTP_TEST_ENV_TOKEN}"},
        )
    text = str(info.value)
    assert "Authorization: Bearer ***" in text and "env-tok-31337" not in text
    assert f"GET {api.url}/fail answered HTTP 500" in text  # a base URL from the environment is no secret


# -- connections, errors, the CLI and the run record ---------------------------------------------------------


@pytest.fixture
def project(tmp_path, api):
    (tmp_path / "aqtra.yaml").write_text(
        textwrap.dedent(
            f"""\
            connections:
              api:
                kind: http
                base_url: {api.url}
                headers: {{Authorization: 'Bearer ${{secret:HTTP_TEST_TOKEN}}'}}
              basic:
                kind: http
                base_url: {api.url}
                auth: {{username: user, password: '${{secret:HTTP_TEST_TOKEN}}'}}
              anonymous: {{kind: http, base_url: '{api.url}'}}
              unset: {{kind: http, base_url: '{api.url}', auth: {{token: '${{secret:HTTP_TEST_NOT_SET}}'}}}}
              dead: {{kind: http, base_url: 'http://127.0.0.1:1/api'}}
              folder: {{kind: files, url: '{tmp_path}'}}
            """
        )
    )
    secrets = SecretStore(default_store())
    secrets.set("HTTP_TEST_TOKEN", TOKEN)
    secrets.delete("HTTP_TEST_NOT_SET")
    return tmp_path


def flow_file(folder: Path, steps: str) -> tuple[Path, str]:
    name = f"http-{uuid.uuid4().hex[:8]}"
    path = folder / f"{name}.flow.yaml"
    path.write_text(f"flow: {name}\nsteps:\n" + textwrap.dedent(steps))
    return path, name


def recorded(name: str, capsys) -> dict:
    """The run's record as `aqtra-nb runs show --json` prints it."""
    capsys.readouterr()
    assert main(["runs", "list", "--flow", name, "--json"]) == 0
    run_id = json.loads(capsys.readouterr().out)[0]["run_id"]
    assert main(["runs", "show", run_id, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("connection", ["api", "basic"])
def test_credentials_come_from_the_secret_store(project, api, mode, connection):
    path, _ = flow_file(
        project,
        f"""\
        - {{id: src, component: http_get, with: {{connection: {connection}, path: {"/secure" if connection == "api" else "/basic"}, records: data.items, paginate: {{kind: page}}}}}}
        - {{id: out, component: export_file, input: src, with: {{connection: folder, path: out/items.csv}}}}
        """
        if connection == "api"
        else f"""\
        - {{id: src, component: http_get, with: {{connection: {connection}, path: /basic}}}}
        - {{id: out, component: export_file, input: src, with: {{connection: folder, path: out/items.csv}}}}
        """,
    )
    result = Flow.load(path).run(progress=False, record=False, mode=mode)
    rows = 23 if connection == "api" else 5
    assert result.steps["out"].rows == rows
    assert len(pd.read_csv(project / "out" / "items.csv")) == rows


@pytest.mark.parametrize(
    ("step", "field", "message"),
    [
        ("{connection: apj, path: /secure}", "connection", "unknown connection 'apj'. Did you mean 'api'?"),
        ("{connection: folder}", "connection", "connection 'folder' is a files connection"),
        ("{connection: unset}", "connection", "secret 'HTTP_TEST_NOT_SET' is not set"),
        (
            "{connection: dead, path: items, retries: 1, backoff_seconds: 0}",
            "connection",
            "GET http://127.0.0.1:1/api/items: cannot reach the server ([Errno 111] Connection refused) "
            "(after 2 attempts)",
        ),
        ("{connection: api, path: /fail, retries: 1, backoff_seconds: 0}", "connection", "answered HTTP 500"),
        ("{connection: anonymous, path: /secure}", "connection", "answered HTTP 401 Unauthorized"),
        ("{connection: api, path: /not-json}", "connection", "did not answer JSON (text/html)"),
        (
            "{connection: api, path: /secure, records: data.itemz}",
            "records",
            "no 'data.itemz' in the response (there: items)",
        ),
        (
            "{connection: api, path: /secure}",
            "records",
            "the response is a JSON object, not a list of records: set `records` to the list's path",
        ),
    ],
    ids=[
        "unknown-connection",
        "wrong-kind",
        "secret-not-set",
        "unreachable",
        "http-500",
        "http-401",
        "not-json",
        "bad-records-path",
        "object-not-list",
    ],
)
def test_errors_name_the_step_and_field_and_are_recorded(project, step, field, message, capsys):
    path, name = flow_file(
        project,
        f"""\
        - {{id: src, component: http_get, with: {step}}}
        - {{id: out, component: export_file, input: src, with: {{path: out.csv}}}}
        """,
    )
    with pytest.raises(AqtraError) as info:
        Flow.load(path).plan()
    error = info.value
    assert error.step == "src" and error.field == field and message in str(error), str(error)
    assert TOKEN not in str(error)

    assert main(["run", str(path), "--no-progress"]) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("error: ") and message in stderr and "Traceback" not in stderr
    record = recorded(name, capsys)
    assert record["status"] == "failed" and message in record["error"]
    assert record["steps"]["src"]["status"] == "failed"
    assert not (project / "out.csv").exists()


def test_a_failure_on_a_later_page_fails_the_step_and_leaves_no_output(project, api, capsys):
    path, name = flow_file(
        project,
        """\
        - {id: src, component: http_get, with: {connection: api, path: /fail-on-page-3, records: data.items,
                                                paginate: {kind: page}, retries: 1, backoff_seconds: 0}}
        - {id: out, component: export_file, input: src, with: {connection: folder, path: got.csv}}
        """,
    )
    (project / "got.csv").write_text("previous\n")
    assert main(["run", str(path), "--no-progress", "--json"]) == 1
    out = capsys.readouterr()
    printed = json.loads(out.out)
    assert printed["status"] == "failed" and printed["step"] == "src"
    assert "http_get failed: GET" in printed["error"] and "page=3 answered HTTP 500" in printed["error"]
    assert "page 3 is broken (after 2 attempts)" in printed["error"]
    assert "Traceback" not in out.err
    record = recorded(name, capsys)
    assert record["status"] == "failed" and "page 3 is broken" in record["error"]
    assert (project / "got.csv").read_text() == "previous\n"  # the earlier output stays
    assert [p.name for p in project.iterdir() if p.name.startswith(".")] == []  # no temporary file


def test_a_response_that_echoes_the_credentials_is_redacted(project):
    path, _ = flow_file(
        project, "- {id: src, component: http_get, with: {connection: api, path: /fail, retries: 0}}\n"
    )
    with pytest.raises(AqtraError) as info:
        Flow.load(path).plan()
    assert "Authorization: Bearer ***" in str(info.value) and TOKEN not in str(info.value)


def test_a_next_link_to_another_host_is_not_followed(api):
    with pytest.raises(StepFailed, match="leaves http://127.0.0.1") as info:
        get(api, path="/offsite", records="records", paginate={"kind": "link", "next": "next"})
    assert info.value.field == "paginate"


def test_a_next_link_that_repeats_is_an_error_not_a_loop(api):
    with pytest.raises(StepFailed, match="the server sent the next-page link .*/stuck twice") as info:
        get(api, path="/stuck", records="records", paginate={"kind": "link", "next": "next"})
    assert info.value.field == "paginate" and api.count("/stuck") == 2


def test_the_step_query_goes_along_with_next_links(api):
    frame = get(
        api,
        path="/link",
        query={"tag": "x", "offset": 0},
        records="results",
        paginate={"kind": "link", "next": "links.next"},
    )
    assert len(frame) == 23
    sent = [q for path, q in api.queries if path == "/link"]
    assert all(q["tag"] == ["x"] for q in sent)
    assert [q["offset"] for q in sent] == [["0"], ["5"], ["10"], ["15"], ["20"]]  # the link's own offset wins


# -- http_post ------------------------------------------------------------------------------------------------


def rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": range(23),
            "name": [f"n{i}" for i in range(23)],
            "when": pd.date_range("2024-01-01", periods=23),
            "maybe": pd.array([1, None] * 11 + [1], dtype="Int64"),
        }
    )


@pytest.mark.parametrize("mode", MODES)
def test_post_sends_rows_in_batches(api, mode, partitioned):
    f = Flow("post")
    f.from_frame("rows", partitioned(rows())).http_post("send", url=api.url, path="/sink", batch_rows=10)
    result = f.run(progress=False, record=False, mode=mode)
    assert result.steps["send"].rows == 23
    assert [len(batch) for batch in api.posted] == [10, 10, 3]
    sent = [row for batch in api.posted for row in batch]
    assert [r["id"] for r in sent] == list(range(23))  # in order, across partitions
    # timestamps to the microsecond, as they are in the frame
    assert sent[0] == {"id": 0, "name": "n0", "when": "2024-01-01T00:00:00.000000", "maybe": 1}
    assert sent[1]["maybe"] is None
    keys = [h["Idempotency-Key"] for h in api.post_headers]
    assert len(set(keys)) == 3 and all(h["Content-Type"] == "application/json" for h in api.post_headers)


def test_post_with_an_envelope_and_retries(api):
    f = Flow("post")
    f.from_frame("rows", rows().head(3)).http_post(
        "send", url=api.url, path="/sink/flaky-1", envelope="records", retries=2, backoff_seconds=0
    )
    assert f.run(progress=False, record=False).steps["send"].rows == 3
    assert api.count("/sink/flaky-1") == 3
    assert api.posted == [
        {"records": json.loads(rows().head(3).to_json(orient="records", date_format="iso", date_unit="us"))}
    ]


def test_post_failure_names_the_step_status_and_body(api, capsys, tmp_path):
    f = Flow(f"post-{uuid.uuid4().hex[:8]}")
    f.from_frame("rows", rows()).http_post("send", url=api.url, path="/sink-fail", retries=0)
    with pytest.raises(StepFailed) as info:
        f.run(progress=False)
    error = info.value
    assert error.step == "send" and error.field == "url"
    text = str(error)
    assert "http_post failed: POST" in text and "/sink-fail answered HTTP 500" in text
    assert "database is on fire; xxx" in text and "0 of 23 rows were sent before it" in text
    assert len(text) < 700  # the first part of the body only
    record = recorded(f.spec.flow, capsys)
    assert record["status"] == "failed" and record["steps"]["send"]["status"] == "failed"
    assert "HTTP 500" in record["error"]


def test_post_plans_without_a_request_and_checks_the_connection(project, api):
    path, _ = flow_file(
        project,
        """\
        - {id: src, component: empty, with: {columns: {a: integer}}}
        - {id: send, component: http_post, input: src, with: {connection: unset, path: /sink}}
        """,
    )
    with pytest.raises(AqtraError, match="secret 'HTTP_TEST_NOT_SET' is not set") as info:
        Flow.load(path).plan()
    assert info.value.field == "connection" and info.value.step == "send"
    assert api.hits == {}
