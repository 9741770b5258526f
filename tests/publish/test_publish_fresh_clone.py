"""The sales dashboard published from a fresh clone, where notebooks/data does not exist yet (#18)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.slow
def test_the_published_dashboard_makes_its_sample_data_on_a_fresh_clone(tmp_path: Path):
    """`aqtra-nb publish sales_dashboard.app.yaml` in a copy of notebooks/ without data/ (#18)."""
    import shutil

    import requests

    from aqtra_nb.publish.process import PublishedServer

    root = Path(__file__).resolve().parents[2] / "notebooks"
    shutil.copy(root / "sales_dashboard.app.yaml", tmp_path)
    (tmp_path / "flows").mkdir()
    shutil.copy(root / "flows" / "sales_dashboard.flow.yaml", tmp_path / "flows")
    with PublishedServer(
        ["publish", "sales_dashboard.app.yaml", "--port", "0", "--pool", "0"], cwd=tmp_path
    ) as server:
        page = requests.get(server.url, timeout=180)
    assert page.status_code == 200 and "not found" not in page.text
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [
        "customers.parquet",
        "orders.parquet",
        "products.parquet",
        "regions.parquet",
    ]
