"""Connection handles (SQL database, HTTP endpoint, file location, entity store) as task graphs carry them:
resolved where used, pickled without what they resolved, one Dask token over every argument; and a guarded
step function's token covers the callable it wraps."""

from __future__ import annotations

import pickle

import pytest
from dask.base import tokenize

from aqtra_nb.components.base import StepContext
from aqtra_nb.components.files import ImportFileParams, Location
from aqtra_nb.components.http.endpoint import Endpoint
from aqtra_nb.components.http.get import HttpGetParams
from aqtra_nb.components.outputs import _Writer
from aqtra_nb.components.sql.database import Database, SqlParams
from aqtra_nb.connections import ConnectionHandle
from aqtra_nb.errors import AqtraError


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    monkeypatch.setenv("API_TOKEN", "t0k3n-value")
    (tmp_path / "aqtra.yaml").write_text(
        "connections:\n"
        "  api: {kind: http, base_url: 'https://api.example.com', headers: {Authorization: 'Bearer ${env:API_TOKEN}'}}\n"
        "  folder: {kind: files, url: data}\n"
    )
    return StepContext("step", "component", str(tmp_path / "f.flow.yaml"), tmp_path)


def handles(ctx, tmp_path) -> dict[str, ConnectionHandle]:
    return {
        "sql": Database(ctx, SqlParams(url=f"sqlite:///{tmp_path / 'db.sqlite'}")),
        "http": Endpoint(ctx, HttpGetParams(connection="api", path="/items", query={"page": 1})),
        "files": Location(ctx, ImportFileParams(connection="folder", path="a.csv")),
    }


@pytest.mark.parametrize("kind", ["sql", "http", "files"])
def test_a_handle_pickles_without_what_it_resolved_and_resolves_again(ctx, tmp_path, kind):
    handle = handles(ctx, tmp_path)[kind]
    first = handle.resolve()
    sent = pickle.dumps(handle)
    assert b"t0k3n-value" not in sent
    received = pickle.loads(sent)
    assert received._resolved is None
    assert type(received.resolve()) is type(first)
    assert tokenize(received) == tokenize(handle)


def test_the_token_covers_every_argument(ctx, tmp_path):
    one = Endpoint(ctx, HttpGetParams(connection="api", path="/items", query={"page": 1}))
    same = Endpoint(ctx, HttpGetParams(connection="api", path="/items", query={"page": 1}))
    other = Endpoint(ctx, HttpGetParams(connection="api", path="/items", query={"page": 2}))
    assert tokenize(one) == tokenize(same)
    assert tokenize(one) != tokenize(other)
    assert tokenize(Location(ctx, ImportFileParams(connection="folder", path="a.csv"))) != tokenize(
        Location(ctx, ImportFileParams(connection="folder", path="b.csv"))
    )


def test_a_connection_of_another_kind_names_the_kind_needed(ctx, tmp_path):
    with pytest.raises(AqtraError, match="this step needs a sql connection") as info:
        Database(ctx, SqlParams(connection="folder")).resolve()
    assert info.value.field == "connection" and info.value.step == "step"


def test_a_guarded_callable_is_tokenized_by_its_contents(ctx, tmp_path):
    """One step may wrap several readers or writers: tasks that differ in them must not share a name."""
    a, b = str(tmp_path / "a.csv"), str(tmp_path / "b.csv")
    assert tokenize(ctx.guard(_Writer(a, "csv", {}))) == tokenize(ctx.guard(_Writer(a, "csv", {})))
    assert tokenize(ctx.guard(_Writer(a, "csv", {}))) != tokenize(ctx.guard(_Writer(b, "csv", {})))
    assert tokenize(ctx.guard(tokenize)) == tokenize(ctx.guard(tokenize))
