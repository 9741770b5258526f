"""The server tests' root folder (sample data, a flow, a workflow) and a server started on it; test
modules import these by name (a conftest module's name is not unique across the test folders)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from server_process import JupyterServer

HERE = Path(__file__).parent

FLOW = """\
flow: sales
# a comment the editor keeps
parameters:
  min_amount: {type: number, default: 10}
  pause: {type: number, default: 0}
steps:
  - id: orders
    component: read_csv
    with: {path: data/orders.csv}
  - id: big
    component: filter
    input: orders
    with: {condition: "amount >= @min_amount"}
  - id: slow
    component: script
    input: big
    with: {function: "slow_steps:pause", params: {seconds: "${pause}"}}
  - id: totals
    component: aggregate
    input: slow
    with:
      by: [status]
      aggregations: {n: "count()", revenue: "sum(amount)"}
"""

WORKFLOW = """\
workflow: close_ticket
entity: server_entities:Ticket
steps:
  - id: ask
    kind: ask_confirmation
    title: "Close ${title}?"
    options: {now: close, later: defer}
    reject: keep
  - id: close
    kind: update_record
    set: {status: closed}
    next: closed
  - id: defer
    kind: update_record
    set: {status: deferred}
    next: closed
  - id: closed
    kind: finish
    message: "ticket ${status}"
  - id: keep
    kind: finish
    status: rejected
    message: "rejected by ${ask.by}"
"""


def make_root(root: Path) -> Path:
    (root / "data").mkdir(parents=True)
    statuses = ["paid", "open", "paid", "shipped"] * 25
    pd.DataFrame({"amount": [float(i) for i in range(100)], "status": statuses}).to_csv(
        root / "data" / "orders.csv", index=False
    )
    (root / "sales.flow.yaml").write_text(FLOW)
    (root / "close.workflow.yaml").write_text(WORKFLOW)
    return root


def start_server(tmp: Path, database_url: str | None, extra: list[str] | None = None) -> JupyterServer:
    env = {"AQTRA_HOME": str(tmp / "home"), "PYTHONPATH": str(HERE)}
    env["AQTRA_DATABASE_URL"] = database_url or ""
    extra = [
        "--AqtraNb.entity_modules=server_entities",
        "--LabApp.expose_app_in_browser=True",
        *(extra or []),
    ]
    return JupyterServer(tmp, env, extra=extra).start()
