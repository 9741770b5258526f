"""A value of each column kind (and a null) comes back unchanged, with its kind's dtype, from every writer
and reader: CSV, Parquet, JSON (files and HTTP bodies), SQL on SQLite, entity records."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from aqtra_nb import Flow
from aqtra_nb.column_kinds import ColumnKind, dtype_of
from aqtra_nb.components.http.post import json_body
from aqtra_nb.components.http.records import conform

VALUES = {
    ColumnKind.STRING: 'héllo, "world"',
    ColumnKind.INTEGER: 2**40 + 1,
    ColumnKind.NUMBER: 1.25,
    ColumnKind.BOOLEAN: True,
    ColumnKind.DATE: pd.Timestamp("2024-02-29"),
    ColumnKind.DATETIME: pd.Timestamp("2024-02-29 13:45:01.123456"),
    ColumnKind.DATETIMETZ: pd.Timestamp("2024-02-29 13:45:01.123456", tz="UTC"),
}
KINDS = list(VALUES)


def typed(kind: str) -> pd.DataFrame:
    """A column `v` of the kind: its value, then a null (and a row number: CSV has no empty rows)."""
    return pd.DataFrame(
        {"n": pd.Series(["a", "b"], dtype="str"), "v": pd.Series([VALUES[kind], None], dtype=dtype_of(kind))}
    )


def run(flow: Flow, step: str, **frames: pd.DataFrame) -> pd.DataFrame:
    result = flow.run(progress=False, record=False, cache=False, outputs=[step], frames=frames)
    assert result.status == "succeeded", result
    return result[step]


def write_then_read(
    kind: str, writer: str, write: dict, reader: str, read: dict, *, cast: bool = False
) -> pd.DataFrame:
    out = Flow("write")
    out.add("save", writer, [out.add("source", "from_frame", name="frame")], **write)
    run(out, "save", frame=typed(kind))
    back = Flow("read")
    step = back.add("load", reader, **read)
    if cast:
        step = back.add("typed", "cast", [step], types={"n": "string", "v": kind})
    return run(back, step.id)


@pytest.mark.parametrize("kind", KINDS)
def test_csv(kind, tmp_path):
    path = str(tmp_path / "v.csv")
    back = write_then_read(
        kind, "write_csv", {"path": path}, "read_csv", {"path": path, "dtypes": {"n": "string", "v": kind}}
    )
    pd.testing.assert_frame_equal(back, typed(kind))


@pytest.mark.parametrize("kind", KINDS)
def test_parquet(kind, tmp_path):
    path = str(tmp_path / "v.parquet")
    back = write_then_read(kind, "write_parquet", {"path": path}, "read_parquet", {"path": path})
    pd.testing.assert_frame_equal(back, typed(kind))


@pytest.mark.parametrize("kind", KINDS)
def test_json_file(kind, tmp_path):
    path = str(tmp_path / "v.json")
    back = write_then_read(kind, "export_file", {"path": path}, "import_file", {"path": path}, cast=True)
    pd.testing.assert_frame_equal(back, typed(kind))


@pytest.mark.parametrize("kind", KINDS)
def test_json_http_body(kind):
    """What `http_post` sends, read as `http_get` reads a page with declared `columns`."""
    page = pd.DataFrame(json.loads(json_body(typed(kind))))
    pd.testing.assert_frame_equal(conform(page, {"n": "string", "v": kind}, declared=True), typed(kind))


@pytest.mark.parametrize("kind", KINDS)
def test_sql_on_sqlite(kind, tmp_path):
    url = f"sqlite:///{tmp_path / 'kinds.db'}"
    # SQLite keeps no time zones: a datetimetz column is read back as one when declared.
    types = {"types": {"v": kind}} if kind == ColumnKind.DATETIMETZ else {}
    back = write_then_read(
        kind,
        "write_sql",
        {"url": url, "table": "t", "create": True},
        "read_sql",
        {"url": url, "table": "t", **types},
    )
    pd.testing.assert_frame_equal(back, typed(kind))


def test_entity_records(tmp_path):
    from aqtra_nb.entities import Entity
    from aqtra_nb.store import Store

    class Kinds(Entity):
        """A field per kind an entity field can have (a `datetime` field is a `datetimetz` column)."""

        string: str | None = None
        integer: int | None = None
        number: float | None = None
        boolean: bool | None = None
        date: dt.date | None = None
        datetimetz: dt.datetime | None = None

    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    Kinds.bind(store)
    try:
        kinds = [k for k in KINDS if k != ColumnKind.DATETIME]
        frame = pd.concat([typed(k)[["v"]].rename(columns={"v": str(k)}) for k in kinds], axis=1)
        Kinds.write(frame)
        back = Kinds.frame()[[str(k) for k in kinds]]
        pd.testing.assert_frame_equal(back, frame)
        assert back.dtypes.to_dict() == Kinds.empty_frame()[back.columns].dtypes.to_dict()
    finally:
        Kinds.bind(None)
        store.close()
