"""Input schemas are kept by their files' version: planning again reads no file, and a changed file,
folder or glob is seen at once."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from aqtra_nb.components.fingerprints import SCHEMAS, local_fingerprint
from aqtra_nb.components.inputs import ReadCsv
from aqtra_nb.engine import plan_flow
from aqtra_nb.errors import UnknownColumn
from aqtra_nb.spec import parse_flow

FLOW = """\
flow: t
steps:
  - id: orders
    component: {component}
    with: {{path: {path}}}
  - id: big
    component: filter
    input: orders
    with: {{condition: "amount > 1"}}
"""


def columns(folder, component: str, path: str) -> dict[str, str]:
    spec = parse_flow(FLOW.format(component=component, path=path), source=str(folder / "t.flow.yaml"))
    return plan_flow(spec, {}).steps["big"].columns


@pytest.fixture(autouse=True)
def empty_memo():
    SCHEMAS.clear()
    yield
    SCHEMAS.clear()


def test_a_rewritten_csv_is_seen_and_an_unchanged_one_is_not_read(tmp_path, monkeypatch):
    pd.DataFrame({"amount": [1.5, 2.5]}).to_csv(tmp_path / "a.csv", index=False)
    assert columns(tmp_path, "read_csv", "a.csv") == {"amount": "float64"}
    reads = []
    original = ReadCsv.read_schema
    monkeypatch.setattr(ReadCsv, "read_schema", lambda self: reads.append(1) or original(self))
    assert columns(tmp_path, "read_csv", "a.csv") == {"amount": "float64"}
    assert reads == []  # kept

    pd.DataFrame({"amount": [1, 2], "region": ["N", "S"]}).to_csv(tmp_path / "a.csv", index=False)
    assert columns(tmp_path, "read_csv", "a.csv") == {"amount": "int64", "region": "str"}
    replacement = tmp_path / "b.csv"  # an atomic replace, same size and time
    pd.DataFrame({"amount": [1, 2], "rEgion": ["N", "S"]}).to_csv(replacement, index=False)
    info = os.stat(tmp_path / "a.csv")
    os.utime(replacement, ns=(info.st_atime_ns, info.st_mtime_ns))
    os.replace(replacement, tmp_path / "a.csv")
    assert columns(tmp_path, "read_csv", "a.csv") == {"amount": "int64", "rEgion": "str"}
    assert len(reads) == 2


def test_a_new_file_in_a_glob_or_dataset_folder_changes_the_version(tmp_path):
    pd.DataFrame({"amount": [1.0]}).to_csv(tmp_path / "p1.csv", index=False)
    first = local_fingerprint(str(tmp_path / "p*.csv"))
    pd.DataFrame({"amount": [2.0]}).to_csv(tmp_path / "p2.csv", index=False)
    assert local_fingerprint(str(tmp_path / "p*.csv")) != first
    assert local_fingerprint("s3://bucket/x.csv") is None
    assert local_fingerprint(str(tmp_path / "missing*.csv")) is None

    folder = tmp_path / "sales"
    folder.mkdir()
    pd.DataFrame({"amount": [1.0]}).to_parquet(folder / "part-0.parquet")
    assert columns(tmp_path, "read_parquet", "sales") == {"amount": "float64"}
    pd.DataFrame({"amount": [1.0], "note": ["x"]}).to_parquet(folder / "part-0.parquet")
    assert columns(tmp_path, "read_parquet", "sales") == {"amount": "float64", "note": "str"}


def test_errors_are_never_kept(tmp_path):
    pd.DataFrame({"amount": [1.0]}).to_csv(tmp_path / "a.csv", index=False)
    spec = """\
flow: t
steps:
  - id: orders
    component: read_csv
    with: {path: a.csv, columns: [amount, region]}
"""
    with pytest.raises(UnknownColumn, match="region"):
        plan_flow(parse_flow(spec, source=str(tmp_path / "t.flow.yaml")), {})
    pd.DataFrame({"amount": [1.0], "region": ["N"]}).to_csv(tmp_path / "a.csv", index=False)
    plan = plan_flow(parse_flow(spec, source=str(tmp_path / "t.flow.yaml")), {})
    assert plan.steps["orders"].columns == {"amount": "float64", "region": "str"}
