"""Lineage of a run: the inputs' fingerprints (changing with the data), the code of script steps, the
outputs with their targets and rows; recorded in the store (SQLite and PostgreSQL), read back by
`aqtra-nb runs lineage`; references to secrets stay references."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from aqtra_nb.cli import main
from aqtra_nb.engine import execute_flow
from aqtra_nb.errors import AqtraError
from aqtra_nb.recording import run_flow
from aqtra_nb.spec import flow_from_document
from aqtra_nb.store import Store
from aqtra_nb.store.models import Run


def doubled(df: pd.DataFrame, factor: int = 2) -> pd.DataFrame:
    """The script step of the test flow: its source is what lineage records."""
    return df.assign(twice=df["amount"] * factor)


def fails_on_data(df: pd.DataFrame, factor: int = 2) -> pd.DataFrame:
    """Plans (on the empty frame), fails on the first rows."""
    if len(df):
        raise ValueError("no good")
    return doubled(df, factor)


def lineage_flow(folder: Path) -> dict:
    """A CSV input (written unless there), a filter, a script and a CSV output."""
    if not (folder / "orders.csv").exists():
        (folder / "orders.csv").write_text("id,amount\n1,10\n2,25\n3,40\n")
    return {
        "flow": "lineage_demo",
        "parameters": {"minimum": {"type": "integer", "default": 0}},
        "steps": [
            {"id": "orders", "component": "read_csv", "with": {"path": "orders.csv"}},
            {
                "id": "big",
                "component": "filter",
                "input": "orders",
                "with": {"condition": "amount > @minimum"},
            },
            {"id": "twice", "component": "script", "input": "big", "with": {"function": "doubled"}},
            {"id": "save", "component": "write_csv", "input": "twice", "with": {"path": "out/big.csv"}},
        ],
    }


def spec_in(folder: Path, document: dict):
    return flow_from_document(document).located(str(folder / "lineage.flow.yaml"), folder)


def run(folder: Path, store: Store | bool = False, **parameters):
    spec = spec_in(folder, lineage_flow(folder))
    return run_flow(spec, parameters, record=store, objects={"doubled": doubled}, progress=False)


def test_lineage_names_inputs_code_and_outputs(tmp_path):
    result = run(tmp_path, minimum=15)
    lineage = result.lineage
    assert lineage["flow"]["name"] == "lineage_demo" and len(lineage["flow"]["hash"]) == 64
    assert lineage["parameters"] == {"minimum": 15}
    [source] = lineage["inputs"]
    assert source["step"] == "orders" and source["component"] == "read_csv"
    assert source["source"] == {"path": "orders.csv"}
    assert source["location"] == str(tmp_path / "orders.csv")
    assert source["columns"] == {"id": "int64", "amount": "int64"}
    [[path, _inode, size, _mtime]] = source["fingerprint"]
    assert path == str(tmp_path / "orders.csv") and size == (tmp_path / "orders.csv").stat().st_size
    assert "def doubled(df" in lineage["scripts"]["twice"] and "factor" in lineage["scripts"]["twice"]
    assert set(lineage["steps"]) == {"orders", "big", "twice", "save"}
    assert lineage["steps"]["save"]["version"].startswith("aqtra_nb.components.outputs:WriteCsv@")
    by_step = {o["step"]: o for o in lineage["outputs"]}
    assert by_step["save"] == {
        "step": "save",
        "component": "write_csv",
        "kind": "file",
        "target": {"path": "out/big.csv"},
        "location": str(tmp_path / "out" / "big.csv"),
        "rows": 2,
        "columns": {"id": "int64", "amount": "int64", "twice": "int64"},
    }
    json.dumps(lineage)  # plain JSON


def test_collected_frames_are_outputs_too(tmp_path):
    spec = spec_in(tmp_path, lineage_flow(tmp_path))
    result = execute_flow(spec, {}, outputs=["big"], objects={"doubled": doubled}, progress=False)
    frames = [o for o in result.lineage["outputs"] if o["kind"] == "frame"]
    assert frames == [
        {
            "step": "big",
            "component": "filter",
            "kind": "frame",
            "rows": 3,
            "columns": {"id": "int64", "amount": "int64"},
        }
    ]


def test_the_fingerprint_changes_with_the_file(tmp_path):
    first = run(tmp_path).lineage["inputs"][0]["fingerprint"]
    assert run(tmp_path).lineage["inputs"][0]["fingerprint"] == first  # same file, same fingerprint
    (tmp_path / "orders.csv").write_text("id,amount\n1,10\n2,25\n3,40\n4,99\n")
    changed = run(tmp_path).lineage["inputs"][0]["fingerprint"]
    assert changed != first


def test_lineage_is_recorded_with_the_run(tmp_path, database_url):
    store = Store(database_url)
    result = run(tmp_path, store, minimum=15)
    found = store.run_lineage(result.run_id[:8])
    assert found["run_id"] == result.run_id and found["status"] == "succeeded"
    assert found["lineage"] == result.lineage
    assert store.run(result.run_id).flow.content_hash == result.lineage["flow"]["hash"]  # one hash
    runs, _ = store.run_page()
    assert "lineage" not in runs[0]  # run lists stay lean
    store.close()


def test_a_failed_run_keeps_what_it_read(tmp_path):
    spec = spec_in(tmp_path, lineage_flow(tmp_path))
    store = Store(f"sqlite:///{tmp_path / 'runs.db'}")
    with pytest.raises(AqtraError, match="no good"):
        run_flow(spec, {}, record=store, objects={"doubled": fails_on_data}, progress=False)
    [record] = store.run_page()[0]
    found = store.run_lineage(record["id"])
    assert found["status"] == "failed"
    assert found["lineage"]["inputs"][0]["step"] == "orders" and found["lineage"]["outputs"] == []
    store.close()


def test_references_to_secrets_stay_references(tmp_path, monkeypatch):
    database = tmp_path / "warehouse-s3cr3t-name.db"
    monkeypatch.setenv("LINEAGE_DB_PATH", str(database))
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE things (id INTEGER, name TEXT)"))
        connection.execute(sa.text("INSERT INTO things VALUES (1, 'x'), (2, 'y')"))
    engine.dispose()
    url = "sqlite:///${env:LINEAGE_DB_PATH}"
    document = {
        "flow": "secret_lineage",
        "steps": [
            {"id": "things", "component": "read_sql", "with": {"url": url, "table": "things"}},
            {
                "id": "copy",
                "component": "write_sql",
                "input": "things",
                "with": {"url": url, "table": "copy", "create": True},
            },
        ],
    }
    store = Store(f"sqlite:///{tmp_path / 'runs.db'}")
    result = run_flow(spec_in(tmp_path, document), {}, record=store, progress=False)
    text = json.dumps(store.run_lineage(result.run_id)["lineage"])
    assert "s3cr3t" not in text and str(database) not in text
    assert result.lineage["inputs"][0]["source"] == {"url": url, "table": "things"}
    assert result.lineage["inputs"][0]["fingerprint"] is None  # a database says no version
    [copy] = result.lineage["outputs"]
    assert copy["kind"] == "table" and copy["target"] == {"url": url, "table": "copy"} and copy["rows"] == 2
    store.close()


# -- aqtra-nb runs lineage --------------------------------------------------------------------------------


@pytest.fixture
def cli_store(tmp_path, monkeypatch) -> Store:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("AQTRA_DATABASE_URL", url)
    store = Store(url)
    yield store
    store.close()


def test_runs_lineage_command(tmp_path, cli_store, capsys):
    result = run(tmp_path, cli_store, minimum=15)
    assert main(["runs", "lineage", result.run_id[:7], "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["run_id"] == result.run_id and shown["outputs"] == result.lineage["outputs"]
    assert main(["runs", "lineage", result.run_id]) == 0
    text = capsys.readouterr().out
    assert f"run {result.run_id}: flow 'lineage_demo' succeeded" in text
    assert str(tmp_path / "orders.csv") in text and "def doubled" in text
    assert "2 rows" in text and str(tmp_path / "out" / "big.csv") in text


def test_runs_lineage_of_unknown_and_older_runs(cli_store, capsys):
    assert main(["runs", "lineage", "nosuchrun"]) == 2
    assert "no run with id 'nosuchrun'" in capsys.readouterr().err
    with cli_store.session.begin() as session:  # a run recorded before lineage was kept
        session.add(Run(id="old0run0", kind="flow", name="old", status="succeeded"))
    assert main(["runs", "lineage", "old0run0"]) == 2
    assert "run old0run0 has no lineage" in capsys.readouterr().err
    assert os.environ["AQTRA_DATABASE_URL"] == cli_store.url


def test_the_lineage_doc_example_runs(tmp_path):
    """The Python example of docs/lineage.md runs as written."""
    import re
    import subprocess
    import sys

    text = (Path(__file__).resolve().parents[2] / "docs" / "lineage.md").read_text()
    [block] = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    done = subprocess.run(
        [sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "orders.csv [[" in done.stdout and "def add_tax(df, rate=0.2):" in done.stdout
    assert '"rows": 3' in done.stdout and '"kind": "file"' in done.stdout
