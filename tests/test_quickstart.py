"""The README quick start, run as written (paths in a temp folder)."""

import pandas as pd
import pandas.testing as pdt

from aqtra_nb import Flow, datasets


def test_quickstart_runs_and_matches_pandas(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    datasets.write_sales("data", scale=0.01, formats=("csv",))

    f = Flow("sales_report", parameters={"min_amount": 100.0})
    orders = f.read_csv("orders", path="data/orders.csv")
    big = orders.filter("big", condition="amount >= @min_amount and status in ('paid', 'shipped')")
    big.aggregate(
        "totals",
        by=["region"],
        aggregations={"revenue": "sum(amount * (1 - discount))", "n": "count()"},
    )
    f.save("sales_report.flow.yaml")
    result = f.run(min_amount=50, progress=False)
    totals = result["totals"]

    raw = pd.read_csv("data/orders.csv")
    kept = raw[(raw.amount >= 50) & raw.status.isin(["paid", "shipped"])]
    expected = (
        kept.assign(_r=kept.amount * (1 - kept.discount))
        .groupby("region")
        .agg(revenue=("_r", "sum"), n=("_r", "size"))
        .reset_index()
    )
    got = totals.sort_values("region").reset_index(drop=True)
    pdt.assert_frame_equal(got, expected.sort_values("region").reset_index(drop=True), check_dtype=False)
    assert result.status == "succeeded"
    assert result.steps["big"].rows == len(kept)
    assert result.steps["orders"].rows == len(raw)

    again = Flow.load("sales_report.flow.yaml")
    assert again.spec == f.spec
    rerun = again.run(min_amount=50, progress=False)["totals"]
    pdt.assert_frame_equal(rerun.sort_values("region").reset_index(drop=True), got)
