"""Validation replies given again while nothing they depend on changed (server/flow_service.py): the same
flow, parameters and unchanged input files; a rewritten input, other parameters or a source without a
cheap version (user code here) plan again."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from server_root import FLOW as SERVER_FLOW

from aqtra_nb.server import flow_service

# The server tests' flow (user code: its `slow` step calls a Python function), and its first two steps.
SCRIPTED = SERVER_FLOW
FLOW = SERVER_FLOW.split("  - id: slow")[0]


def write_orders(folder: Path, **columns: list) -> None:
    (folder / "data").mkdir(exist_ok=True)
    path = folder / "data" / "orders.csv"
    before = path.stat().st_mtime_ns if path.exists() else 0
    pd.DataFrame({"amount": [5, 50], "status": ["paid", "open"], **columns}).to_csv(path, index=False)
    if path.stat().st_mtime_ns == before:  # a file system with coarse times: make the change visible
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def columns(reply) -> list[str]:
    return list(reply.steps["big"].columns)


def test_a_flow_validated_again_unchanged_gets_the_same_reply_until_its_input_changes(tmp_path: Path):
    write_orders(tmp_path)
    first = flow_service.validate(FLOW, {"min_amount": 20}, tmp_path)
    assert first.ok and columns(first) == ["amount", "status"]
    assert flow_service.validate(FLOW, {"min_amount": 20}, tmp_path) is first
    assert flow_service.validate(FLOW, {"min_amount": 30}, tmp_path) is not first  # other parameters

    write_orders(tmp_path, region=["North", "South"])
    again = flow_service.validate(FLOW, {"min_amount": 20}, tmp_path)
    assert again is not first and columns(again) == ["amount", "status", "region"]


def test_a_flow_with_user_code_or_an_error_is_planned_every_time(tmp_path: Path):
    write_orders(tmp_path)
    scripted = flow_service.validate(SCRIPTED, {}, tmp_path)
    assert scripted.ok, scripted.errors
    assert scripted.ok and flow_service.validate(SCRIPTED, {}, tmp_path) is not scripted
    broken = FLOW.replace("amount >= @min_amount", "amont >= @min_amount")
    failed = flow_service.validate(broken, {}, tmp_path)
    assert not failed.ok and failed.errors[0].step == "big"
    assert flow_service.validate(broken, {}, tmp_path) is not failed
