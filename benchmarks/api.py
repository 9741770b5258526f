"""The REST API under load: concurrent clients on loopback against a real Jupyter server.

Seeds the store with `--runs` runs (three steps each), starts `jupyter server` with the aqtra-nb
extension, then for each endpoint keeps `--clients` concurrent clients busy and prints requests/s and
p50/p95/p99 latencies, next to Jupyter's own
`GET /api/status` (an authenticated handler doing nothing: the floor any handler stands on) as the
ratio `p99 / p99 of /api/status`, with the seconds the server spent in garbage collection meanwhile
(its metrics) and the load average (other work on the machine). Then `POST runs` → first server-sent event, a few times in a row.

    python benchmarks/api.py                                  # SQLite, 10,000 runs, 100 clients
    python benchmarks/api.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    python benchmarks/api.py --quick                          # 1,000 runs, 20 clients, few requests
    python benchmarks/api.py --pin                            # server on core 0, wrk on core 1

The load comes from `wrk` (C, one thread; `apt-get install wrk`) for `--seconds` per endpoint when it
is on PATH, else from httpx on one asyncio loop (`--requests` per endpoint), which spends more CPU than
the server it measures. Either runs on the same machine as the server and takes its CPU share.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pandas as pd
from _common import commit
from _jupyter import TOKEN, jupyter_server

FLOW = """\
flow: sales
parameters:
  min_amount: {type: number, default: 10}
steps:
  - id: orders
    component: read_csv
    with: {path: data/orders.csv}
  - id: big
    component: filter
    input: orders
    with: {condition: "amount >= @min_amount and status in ('paid', 'shipped')"}
  - id: totals
    component: aggregate
    input: big
    with:
      by: [status]
      aggregations: {n: "count()", revenue: "sum(amount)"}
"""


def seed(url: str, runs: int) -> list[str]:
    """`runs` finished runs with three steps each, inserted in bulk; returns their ids."""
    from aqtra_nb.store import Store
    from aqtra_nb.store.models import Run, StepRun, utcnow

    store = Store(url)
    now = utcnow()
    ids = [f"bench{i:07d}" for i in range(runs)]
    statuses = ["succeeded"] * 8 + ["failed", "cancelled"]
    with store.session.begin() as session:
        session.execute(
            Run.__table__.insert(),
            [
                {"id": run_id, "kind": "flow", "name": f"flow{i % 20}", "status": statuses[i % 10],
                 "parameters": {"min_amount": i % 100}, "started_at": now, "finished_at": now,
                 "seconds": 0.5 + i % 7, "attempt": 1, "cancel_requested": False, "retried": False}
                for i, run_id in enumerate(ids)
            ],
        )  # fmt: skip
        session.execute(
            StepRun.__table__.insert(),
            [
                {"run_id": run_id, "step_id": step, "component": "filter", "status": "succeeded",
                 "rows": 1000, "seconds": 0.1}
                for run_id in ids
                for step in ("orders", "big", "totals")
            ],
        )  # fmt: skip
    store.close()
    return ids


def headers() -> dict[str, str]:
    return {"Authorization": f"token {TOKEN}"}


async def load(url: str, make, requests: int, clients: int) -> dict[str, float]:
    """`requests` requests (`make(client, i)` each) with at most `clients` in flight."""
    latencies: list[float] = []
    errors = 0
    gate = asyncio.Semaphore(clients)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers=headers(), limits=limits, timeout=60) as client:

        async def one(i: int) -> None:
            nonlocal errors
            async with gate:
                started = time.perf_counter()
                reply = await make(client, i)
                latencies.append(time.perf_counter() - started)
                errors += reply.status_code >= 400

        began = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(requests)))
        elapsed = time.perf_counter() - began
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "rps": requests / elapsed,
        "p50": quantiles[49] * 1000,
        "p95": quantiles[94] * 1000,
        "p99": quantiles[98] * 1000,
        "errors": errors,
    }


async def first_event(url: str, repeat: int) -> list[float]:
    """Seconds from `POST runs` to the run's first server-sent event."""
    found = []
    async with httpx.AsyncClient(base_url=url, headers=headers(), timeout=120) as client:
        for _ in range(repeat):
            started = time.perf_counter()
            reply = await client.post("/aqtra/api/runs", json={"path": "sales.flow.yaml"})
            run_id = reply.json()["run_id"]
            async with client.stream("GET", f"/aqtra/api/runs/{run_id}/events") as events:
                async for line in events.aiter_lines():
                    if line.startswith("data: "):
                        found.append(time.perf_counter() - started)
                        break
            await asyncio.sleep(1)  # let the run finish before the next
    return found


WRK_SCRIPT = """
local ids = {ids}
math.randomseed(7)
request = function()
  local path = "{path}"
  if #ids > 0 then path = path:gsub("{{id}}", ids[math.random(#ids)]) end
  local headers = {{["Content-Type"] = "application/json"}}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  return wrk.format("{method}", path, headers, {body})
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
"""


def load_wrk(
    url: str, method: str, path: str, body: str | None, ids: list[str], seconds: int, clients: int,
    cpu: int | None = None,
):  # fmt: skip
    """The same measures as `load`, with wrk keeping `clients` connections busy for `seconds` (on core
    `cpu` alone when given)."""
    lua = WRK_SCRIPT.format(
        ids="{" + ",".join(json.dumps(i) for i in ids) + "}" if "{id}" in path else "{}",
        path=path, method=method, body=json.dumps(body) if body is not None else "nil",
    )  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        command = ["taskset", "-c", str(cpu)] if cpu is not None else []
        command += ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "-s", script.name]
        command += ["-H", f"Authorization: token {TOKEN}", url]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    done, micros, p50, p95, p99, errors = (int(v) for v in output.split("RESULT")[1].split())
    return {
        "rps": done / (micros / 1e6),
        "p50": p50 / 1000,
        "p95": p95 / 1000,
        "p99": p99 / 1000,
        "errors": errors,
    }


def wrk_scenarios(flow_text: str) -> dict[str, tuple[str, str, str | None]]:
    body = json.dumps({"flow": flow_text, "parameters": {"min_amount": 50}})
    return {
        "GET /api/status (Jupyter's own)": ("GET", "/api/status", None),
        "GET runs": ("GET", "/aqtra/api/runs?limit=50", None),
        "GET runs?status=failed": ("GET", "/aqtra/api/runs?status=failed", None),
        "GET runs/{id}": ("GET", "/aqtra/api/runs/{id}", None),
        "POST flows/validate": ("POST", "/aqtra/api/flows/validate", body),
    }


def scenarios(ids: list[str], flow_text: str) -> dict[str, object]:
    body = {"flow": flow_text, "parameters": {"min_amount": 50}}
    return {
        "GET /api/status (Jupyter's own)": lambda c, i: c.get("/api/status"),
        "GET runs": lambda c, i: c.get("/aqtra/api/runs", params={"limit": 50}),
        "GET runs?status=failed": lambda c, i: c.get("/aqtra/api/runs", params={"status": "failed"}),
        "GET runs/{id}": lambda c, i: c.get(f"/aqtra/api/runs/{random.choice(ids)}"),
        "POST flows/validate": lambda c, i: c.post("/aqtra/api/flows/validate", json=body),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--requests", type=int, default=3_000, help="per endpoint (httpx)")
    parser.add_argument("--seconds", type=int, default=10, help="per endpoint (wrk)")
    parser.add_argument("--no-wrk", action="store_true", help="load from httpx even when wrk is here")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary AQTRA_HOME")
    parser.add_argument("--first-event", type=int, default=5, help="POST runs → first event, this many times")
    parser.add_argument(
        "--pin", action="store_true", help="the server on core 0 and wrk on core 1 (taskset), not shared"
    )
    parser.add_argument(
        "--jupyter-arg",
        action="append",
        default=[],
        help="passed to the server, e.g. --AqtraNb.gc_freeze=False",
    )
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.clients, args.requests, args.first_event, args.seconds = 1_000, 20, 300, 2, 2
    with tempfile.TemporaryDirectory(prefix="aqtra-api-bench-") as folder:
        root = Path(folder)
        (root / "data").mkdir()
        rows = 10_000
        pd.DataFrame({"amount": [i % 500 for i in range(rows)], "status": ["paid", "shipped", "open"] * (rows // 3) + ["paid"]}).to_csv(root / "data" / "orders.csv", index=False)  # fmt: skip
        (root / "sales.flow.yaml").write_text(FLOW)
        env = {"AQTRA_HOME": str(root / "home"), "AQTRA_DATABASE_URL": args.database_url or ""}
        url = args.database_url or f"sqlite:///{root / 'home' / 'aqtra.db'}"
        (root / "home").mkdir()
        print(f"seeding {args.runs:,} runs into {url.split('@')[-1]} ...", flush=True)
        ids = seed(url, args.runs)
        with jupyter_server(root, env, ["--ServerApp.log_level=WARN", *args.jupyter_arg]) as server:
            if args.pin:
                pin(server.process.pid, 0)
            table = run_all(server.url, ids, args)
    print(table)
    return 0


def pin(pid: int, cpu: int) -> None:
    """Every thread of process `pid` on core `cpu` (threads it starts later inherit it)."""
    for task in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(task), {cpu})


def gc_pauses(base: str) -> float:
    """Seconds the server has spent in garbage collection (its metrics), all generations."""
    text = httpx.get(f"{base}/aqtra/api/metrics", headers=headers(), timeout=30).text
    return sum(
        float(line.split()[-1]) for line in text.splitlines() if line.startswith("aqtra_server_gc_pause")
    )


def run_all(base: str, ids: list[str], args: argparse.Namespace) -> str:
    results = {}
    use_wrk = shutil.which("wrk") is not None and not args.no_wrk
    if use_wrk:
        wrk_cpu = 1 if args.pin else None
        for name, (method, path, body) in wrk_scenarios(FLOW).items():
            load_wrk(base, method, path, body, ids, 2, args.clients, wrk_cpu)  # warm-up
            before = gc_pauses(base)
            results[name] = load_wrk(base, method, path, body, ids, args.seconds, args.clients, wrk_cpu)
            results[name]["gc"] = gc_pauses(base) - before
            results[name]["load"] = os.getloadavg()[0]
            print(f"  {name}: {json.dumps({k: round(v, 1) for k, v in results[name].items()})}", flush=True)
    for name, make in ({} if use_wrk else scenarios(ids, FLOW)).items():
        asyncio.run(load(base, make, min(200, args.requests), args.clients))  # warm-up
        results[name] = asyncio.run(load(base, make, args.requests, args.clients))
        print(f"  {name}: {json.dumps({k: round(v, 1) for k, v in results[name].items()})}", flush=True)
    floor = results["GET /api/status (Jupyter's own)"]["p99"]
    how = f"wrk, {args.seconds} s" if use_wrk else f"httpx, {args.requests} requests"
    how += ", server and wrk pinned to one core each" if args.pin and use_wrk else ""
    lines = [
        f"\n{args.clients} concurrent clients ({how} per endpoint), {len(ids):,} runs stored, "
        f"commit {commit()}\n",
        "| endpoint | requests/s | p50 ms | p95 ms | p99 ms | p99 / Jupyter's /api/status | GC s | load | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | "
            f"{r['p99'] / floor:.2f} | {r.get('gc', float('nan')):.2f} | {r.get('load', float('nan')):.1f} | "
            f"{int(r['errors'])} |"
        )
    firsts = asyncio.run(first_event(base, args.first_event)) if args.first_event else []
    if firsts:
        lines.append(
            f"\n`POST runs` → first event: median {statistics.median(firsts):.2f} s, "
            f"best {min(firsts):.2f} s of {len(firsts)}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
