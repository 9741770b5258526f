"""`GET runs/{id}/lineage`: the service without HTTP, then a run started through the API and read back
over HTTP with Jupyter's auth."""

from __future__ import annotations

import pytest
import requests

from aqtra_nb import Flow
from aqtra_nb.errors import NotFound
from aqtra_nb.server.run_service import run_lineage
from aqtra_nb.store import Store
from aqtra_nb.store.models import Run


def test_the_lineage_reply_fits_its_model(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'runs.db'}")
    flow = Flow("api_lineage")
    src = flow.sample_data("regions", table="regions")
    flow.limit("few", src, rows=3)
    result = flow.run(record=store, progress=False)
    reply = run_lineage(store, result.run_id[:6])
    assert reply["run_id"] == result.run_id and reply["flow"]["name"] == "api_lineage"
    assert reply["inputs"][0]["component"] == "sample_data" and reply["inputs"][0]["source"] == {
        "table": "regions"
    }
    assert reply["outputs"] == [
        {"step": "few", "component": "limit", "kind": "frame", "target": {}, "location": None, "rows": 3,
         "columns": result.lineage["outputs"][0]["columns"]}
    ]  # fmt: skip
    with pytest.raises(NotFound, match="no run with id"):
        run_lineage(store, "nosuchrun")
    with store.session.begin() as session:
        session.add(Run(id="before0006", name="old", status="succeeded"))
    with pytest.raises(NotFound, match="run before0006 has no lineage"):
        run_lineage(store, "before0006")
    store.close()


@pytest.mark.slow
def test_lineage_of_a_run_started_through_the_api(server, http):
    from test_api import follow

    started = http.post(
        f"{server.api}/runs", json={"path": "sales.flow.yaml", "parameters": {"min_amount": 90}}
    )
    run_id = started.json()["run_id"]
    assert follow(http, server.api, run_id)[-1][1]["status"] == "succeeded"
    url = f"{server.api}/runs/{run_id}/lineage"
    for headers in ({}, {"Authorization": "token wrong-token"}):
        assert requests.get(url, headers=headers, timeout=30).status_code in (401, 403)
    lineage = http.get(url).json()
    assert lineage["run_id"] == run_id and lineage["parameters"]["min_amount"] == 90
    assert lineage["flow"]["name"] == "sales" and lineage["flow"]["source"].endswith("sales.flow.yaml")
    [orders] = lineage["inputs"]
    assert orders["source"] == {"path": "data/orders.csv"}
    assert orders["location"] == str(server.root / "data" / "orders.csv") and orders["fingerprint"]
    assert "def pause" in lineage["scripts"]["slow"]
    assert {o["step"]: (o["kind"], o["rows"]) for o in lineage["outputs"]} == {"totals": ("frame", 3)}
    assert http.get(f"{server.api}/runs/{run_id[:8]}/lineage").json() == lineage
    assert http.get(f"{server.api}/runs/nosuchrun/lineage").status_code == 404
    document = http.get(f"{server.api}/openapi.json").json()
    get = document["paths"]["/aqtra/api/runs/{run_id}/lineage"]["get"]
    schema = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert schema.endswith("/RunLineage") and "RunLineage" in document["components"]["schemas"]
