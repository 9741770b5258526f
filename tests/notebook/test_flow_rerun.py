"""Adding a step under an id the flow has: kept when the same, replaced in notebooks, an error in
scripts; never a cycle (#15, docs/flows.md)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from aqtra_nb import Flow, FlowValidationError


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "orders.csv"
    pd.DataFrame({"region": ["N", "S"], "amount": [5.0, 500.0]}).to_csv(path, index=False)
    return str(path)


def test_the_same_step_again_is_kept(csv):
    f = Flow("demo", replace_steps=False)
    orders = f.read_csv("orders", path=csv)
    orders.filter("big", condition="amount > 100")
    again = f.read_csv("orders", path=csv)
    assert again.id == "orders" and [s.id for s in f.spec.steps] == ["orders", "big"]


def test_a_different_step_replaces_it_in_place_when_asked(csv):
    f = Flow("demo", replace_steps=True)
    orders = f.read_csv("orders", path=csv)
    orders.filter("big", condition="amount > 100")
    f.read_csv("orders", path=csv, columns=["amount"])
    assert [s.id for s in f.spec.steps] == ["orders", "big"]
    assert f.spec.step("orders").with_["columns"] == ["amount"]
    assert list(f.run(record=False, progress=False)["big"]["amount"]) == [500.0]


def test_a_replaced_step_drops_the_frames_only_it_used(csv):
    f = Flow("demo", replace_steps=True)
    f.from_frame("goals", pd.DataFrame({"goal": [1]}))
    f.from_frame("goals", pd.DataFrame({"goal": [2]}), name="targets")
    assert list(f.objects) == ["targets"]


def test_a_different_step_in_a_script_is_an_error(csv):
    f = Flow("demo", replace_steps=False)
    f.read_csv("orders", path=csv)
    with pytest.raises(FlowValidationError) as info:
        f.read_csv("orders", path=csv, separator=";")
    assert (info.value.step, info.value.field) == ("orders", "id")
    assert "exists already (read_csv)" in str(info.value) and "replace_steps=True" in str(info.value)


def test_scripts_do_not_replace_by_default(csv):
    script = (
        "from aqtra_nb import Flow\nf = Flow('demo')\n"
        f"f.read_csv('orders', path={csv!r})\nf.read_csv('orders', path={csv!r})\n"
        f"f.read_csv('orders', path={csv!r}, separator=';')\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 1 and "a step with this id exists already" in run.stderr


def test_a_replacement_cannot_read_what_reads_it(csv):
    f = Flow("demo", replace_steps=True)
    orders = f.read_csv("orders", path=csv)
    big = orders.filter("big", condition="amount > 100")
    with pytest.raises(FlowValidationError, match="cannot read 'big', which reads 'orders'"):
        big.filter("orders", condition="amount > 1")
    assert f.spec.step("orders").component == "read_csv"
