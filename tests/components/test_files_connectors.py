"""`import_file` and `export_file`: CSV, Excel and JSON through files connections (a local folder, fsspec's
memory filesystem) or paths; column mapping; atomic writes; errors that name the step and field."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pandas as pd
import pytest

from aqtra_nb import AqtraError, Flow
from aqtra_nb.cli import main
from aqtra_nb.errors import FlowValidationError, StepFailed, UnknownColumn
from aqtra_nb.runs import default_store

MODES = ["in_memory", "partitioned"]


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder (the working directory) whose aqtra.yaml has a local and an in-memory connection."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    memory = f"memory://aqtra-test-{uuid.uuid4().hex[:8]}"
    (tmp_path / "aqtra.yaml").write_text(
        textwrap.dedent(
            f"""\
            connections:
              inbox: {{kind: files, url: '{inbox}'}}
              mem: {{kind: files, url: '{memory}'}}
              api: {{kind: http, base_url: 'http://127.0.0.1:1'}}
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def sample() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3],
            "name": ["Ærø", "b;c", None],
            "amount": [1.5, 2.0, None],
        }
    ).astype({"name": "str"})


def run(f: Flow, mode: str = "in_memory", **options):
    return f.run(progress=False, record=False, mode=mode, **options)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("connection", ["inbox", "mem", None])
@pytest.mark.parametrize(
    ("path", "options"),
    [
        ("out/data.csv", {}),
        ("out/data.tsv", {"separator": "\t", "encoding": "latin-1"}),
        ("out/data.xlsx", {}),
        ("out/data.json", {}),
        ("out/data.jsonl", {}),
        ("out/data.txt", {"format": "json", "lines": True}),
    ],
)
def test_round_trip(project, partitioned, mode, connection, path, options):
    where = {"connection": connection} if connection else {}
    f = Flow("export")
    f.from_frame("rows", partitioned(sample(), 2)).export_file("out", path=path, **where, **options)
    assert run(f, mode).steps["out"].rows == 3
    g = Flow("import")
    g.import_file("back", path=path, **where, **options)
    back = run(g, mode)["back"]
    pd.testing.assert_frame_equal(back, sample(), check_dtype=False)
    assert list(back.dtypes.astype(str)) == ["int64", "str", "float64"]
    if connection == "inbox":
        assert (project / "inbox" / path).is_file()
    elif connection is None:
        assert (project / path).is_file()


def test_csv_options_and_column_mapping(project):
    text = "exported by the shop\n\nKunde;Betrag;Ort\nMüller;12,5;Köln\nSchmidt;3;Bonn\n"
    (project / "inbox" / "orders.csv").write_bytes(text.encode("latin-1"))
    f = Flow("import")
    f.import_file(
        "orders",
        connection="inbox",
        path="orders.csv",
        separator=";",
        skip_rows=2,
        encoding="latin-1",
        column_mapping={"Kunde": "customer", "Betrag": "amount"},
    )
    frame = run(f)["orders"]
    assert list(frame.columns) == ["customer", "amount", "Ort"]
    assert frame["customer"].tolist() == ["Müller", "Schmidt"] and frame["amount"].tolist() == ["12,5", "3"]
    assert f.plan().steps["orders"].columns == {"customer": "str", "amount": "str", "Ort": "str"}


def test_json_records_are_flattened(project):
    records = [{"id": 1, "who": {"name": "a", "tags": ["x"]}}, {"id": 2, "who": {"name": "b", "tags": []}}]
    (project / "inbox" / "people.json").write_text(json.dumps(records))
    f = Flow("import")
    f.import_file("people", connection="inbox", path="people.json", skip_rows=1)
    assert run(f)["people"].to_dict("records") == [{"id": 2, "who.name": "b", "who.tags": []}]


def test_an_unknown_source_column_in_the_mapping_is_an_unknown_column_with_a_hint(project):
    (project / "inbox" / "orders.csv").write_text("Kunde,Betrag\nA,1\n")
    f = Flow("import")
    f.import_file("orders", connection="inbox", path="orders.csv", column_mapping={"Kunden": "customer"})
    with pytest.raises(UnknownColumn) as info:
        f.plan()
    error = info.value
    assert error.step == "orders" and error.field == "column_mapping"
    assert "unknown column 'Kunden'. Did you mean 'Kunde'?" in str(error)
    g = Flow("import")
    g.import_file("orders", connection="inbox", path="orders.csv", column_mapping={"Kunde": "Betrag"})
    with pytest.raises(AqtraError, match="duplicate column names: Betrag"):
        g.plan()


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"connection": "inbx", "path": "a.csv"},
            "connection",
            "unknown connection 'inbx'. Did you mean 'inbox'?",
        ),
        ({"connection": "api", "path": "a.csv"}, "connection", "connection 'api' is a http connection"),
        (
            {"connection": "inbox", "path": "ordrs.csv"},
            "path",
            "no file 'ordrs.csv' in connection 'inbox'. Did",
        ),
        ({"path": "inbox/ordrs.csv"}, "path", "no file 'inbox/ordrs.csv'. Did you mean 'orders.csv'?"),
        (
            {"connection": "inbox", "path": "orders.parquet"},
            "format",
            "cannot tell the format from '.parquet'",
        ),
        (
            {"connection": "inbox", "path": "latin.csv"},
            "encoding",
            "cannot read 'latin.csv' in connection 'inbox' as utf-8",
        ),
        (
            {"connection": "inbox", "path": "orders.csv", "encoding": "klingon"},
            "encoding",
            "unknown encoding: klingon",
        ),
        ({"connection": "inbox", "path": "orders.csv", "format": "json"}, "path", "cannot read json"),
        (
            {"connection": "inbox", "path": "book.xlsx", "sheet": "Nope"},
            "sheet",
            "Worksheet named 'Nope' not found",
        ),
    ],
    ids=[
        "unknown-connection",
        "wrong-kind",
        "missing-file",
        "missing-local-file",
        "unknown-format",
        "wrong-encoding",
        "unknown-encoding",
        "not-json",
        "missing-sheet",
    ],
)
def test_import_errors_name_the_step_and_field(project, params, field, message):
    (project / "inbox" / "orders.csv").write_text("a,b\n1,2\n")
    (project / "inbox" / "latin.csv").write_bytes("ä,b\n1,2\n".encode("latin-1"))
    sample().to_excel(project / "inbox" / "book.xlsx", index=False)
    f = Flow("import")
    f.import_file("src", **params)
    with pytest.raises(AqtraError) as info:
        f.plan()
    error = info.value
    assert error.step == "src" and error.field == field and message in str(error), str(error)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"connection": "inbox", "path": "../outside.csv"}, "stays inside it"),
        ({"connection": "inbox", "path": "/etc/passwd"}, "stays inside it"),
        ({"path": "ftp://me:hunter2@host/x.csv"}, "password in clear"),
    ],
)
def test_paths_that_leave_the_connection_or_hold_passwords_are_refused(params, message):
    for component in ("import_file", "export_file"):
        f = Flow("x")
        rows = f.empty("rows", columns={"a": "integer"})
        with pytest.raises(FlowValidationError, match=message) as info:
            if component == "import_file":
                f.import_file("src", **params)
            else:
                rows.export_file("src", **params)
        assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("mode", MODES)
def test_a_failed_run_keeps_the_previous_export_and_leaves_no_temporary_file(project, partitioned, mode):
    target = project / "inbox" / "report.csv"
    target.write_text("previous\n")
    bad = pd.DataFrame({"x": ["1", "2", "oops", "4"]})
    f = Flow("export")
    f.from_frame("rows", partitioned(bad, 2)).cast("typed", types={"x": "integer"}).export_file(
        "out", connection="inbox", path="report.csv"
    )
    with pytest.raises(StepFailed, match="'oops'"):
        run(f, mode)
    assert target.read_text() == "previous\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.csv"]


def test_a_failing_write_names_the_field_and_leaves_nothing(project):
    f = Flow("export")
    f.from_frame("rows", pd.DataFrame({"x": ["snowman ☃"]})).export_file(
        "out", connection="inbox", path="x.csv", encoding="ascii"
    )
    with pytest.raises(StepFailed) as info:
        run(f)
    assert info.value.step == "out" and info.value.field == "encoding"
    assert "'☃' cannot be written as ascii" in str(info.value)
    assert list((project / "inbox").iterdir()) == []


def test_export_checks_its_connection_while_planning(project):
    f = Flow("export")
    f.empty("rows", columns={"a": "integer"}).export_file("out", connection="api", path="x.csv")
    with pytest.raises(AqtraError, match="connection 'api' is a http connection") as info:
        f.plan()
    assert info.value.field == "connection" and info.value.step == "out"
    g = Flow("export")
    g.empty("rows", columns={"a": "integer"}).export_file("out", connection="inbox", path="x.dat")
    with pytest.raises(AqtraError, match="cannot tell the format") as info:
        g.plan()
    assert info.value.field == "format"


def test_cli_runs_a_flow_file_and_records_a_failure(project, capsys):
    (project / "inbox" / "orders.csv").write_text("Kunde,Betrag\nA,1\nB,2\n")
    name = f"files-{uuid.uuid4().hex[:8]}"
    ok = project / "ok.flow.yaml"
    ok.write_text(
        f"flow: {name}\nsteps:\n"
        "- {id: src, component: import_file, with: {connection: inbox, path: orders.csv,"
        " column_mapping: {Kunde: customer}}}\n"
        "- {id: out, component: export_file, input: src, with: {connection: inbox, path: out/orders.json}}\n"
    )
    assert main(["run", str(ok), "--no-progress"]) == 0
    assert json.loads((project / "inbox" / "out" / "orders.json").read_text()) == [
        {"customer": "A", "Betrag": 1},
        {"customer": "B", "Betrag": 2},
    ]
    bad = project / "bad.flow.yaml"
    bad.write_text(ok.read_text().replace("Kunde: customer", "Kund: customer"))
    capsys.readouterr()
    assert main(["run", str(bad), "--no-progress"]) == 2
    stderr = capsys.readouterr().err
    assert "step 'src', field 'column_mapping': unknown column 'Kund'. Did you mean 'Kunde'?" in stderr
    assert "Traceback" not in stderr
    run_record = default_store().runs(name=name, limit=1)[0]
    assert run_record.status == "failed" and "unknown column 'Kund'" in run_record.error


KILLED_EXPORT = """
import sys, time
from pathlib import Path
from fsspec.implementations.local import LocalFileOpener
from aqtra_nb.cli import main

original = LocalFileOpener.write


def slow_write(self, data):  # 1 MiB at a time: the test kills us in the middle of the file
    view = memoryview(data)
    for start in range(0, len(view), 1 << 20):
        original(self, view[start : start + (1 << 20)])
        self.flush()
        time.sleep(0.05)
    return len(view)


LocalFileOpener.write = slow_write
sys.exit(main(["run", "export.flow.yaml", "--no-progress", "--no-record"]))
"""


def test_a_killed_export_leaves_a_temporary_file_that_the_next_run_removes(tmp_path, monkeypatch, capsys):
    (tmp_path / "export.flow.yaml").write_text(
        "flow: export\nsteps:\n"
        "- {id: orders, component: sample_data, with: {table: orders, scale: 0.2}}\n"
        "- {id: out, component: export_file, input: orders, with: {path: out/orders.csv}}\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_EXPORT], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        partial = wait_for_a_partial_file(tmp_path / "out", process, size=4 << 20)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert [p.name for p in (tmp_path / "out").iterdir()] == [partial.name]  # what a kill leaves

    monkeypatch.chdir(tmp_path)
    assert main(["run", "export.flow.yaml", "--no-progress", "--no-record"]) == 0, capsys.readouterr()
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["orders.csv"]
    written = pd.read_csv(tmp_path / "out" / "orders.csv")
    assert len(written) == Flow.load(tmp_path / "export.flow.yaml").run(progress=False).steps["out"].rows
    assert len(written) > 100_000


def wait_for_a_partial_file(folder, process, size):
    """The export's temporary file once it holds `size` bytes (of many more)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        found = list(folder.glob(".orders.csv.*.tmp")) if folder.is_dir() else []
        if found and found[0].stat().st_size >= size:
            return found[0]
        time.sleep(0.02)
    raise AssertionError("the export did not start writing")
