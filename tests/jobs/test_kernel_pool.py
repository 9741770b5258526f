"""The fork server's warm kernels (`jobs/kernel_pool.py`): a run of a kernel runs have used takes a kernel
started ahead of time, yet each run still gets a fresh kernel of its own, in its folder with its settings;
a pool kernel that dies is replaced."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import psutil
import pytest
from job_helpers import wait_for

from aqtra_nb import jobs
from aqtra_nb.errors import AqtraError
from aqtra_nb.jobs import Scheduler
from aqtra_nb.jobs.kernel_pool import start_standby
from aqtra_nb.jobs.worker import fork_server, runs_dir
from aqtra_nb.store import Store

pytestmark = pytest.mark.slow

CELL = """\
import os
print("state", "leaked" if "mark" in globals() else "clean")
print("n", n)
print("cwd", os.getcwd())
print("parent", os.environ.get("AQTRA_PARENT_RUN"))
mark = n
"""


def run_once(store: Store, name: str, n: int) -> tuple[str, dict, dict]:
    """Queue and run one run through a scheduler tick; its status, its printed lines, its result file."""
    run = jobs.run(name, {"n": n}, store=store)
    with Scheduler(store, workers=1) as scheduler:
        scheduler.once()
    log = jobs.log(run.id, store)
    printed = dict(
        line.split(" ", 1)
        for line in log.splitlines()
        if line.split(" ")[0] in {"state", "n", "cwd", "parent"}
    )
    result = json.loads((runs_dir() / run.id / "result.json").read_text())
    return store.run(run.id).status, printed | {"id": run.id}, result


def pool_kernels() -> set[int]:
    """Kernels of the fork server's standby processes (a standby is a child of the server that has not
    been handed a run: its kernel is its only child)."""
    server = psutil.Process(fork_server()._process.pid)
    found = set()
    for standby in server.children():
        for kernel in standby.children():
            try:
                if kernel.status() != psutil.STATUS_ZOMBIE and "ipykernel" in " ".join(kernel.cmdline()):
                    found.add(kernel.pid)
            except psutil.Error:  # ended meanwhile
                pass
    return found


def test_each_run_gets_a_fresh_warm_kernel_in_its_folder_with_its_settings(store, notebook, tmp_path):
    path = notebook("sub/pooled.ipynb", "n = 1", CELL)
    jobs.schedule(path, name="pooled", store=store)
    outcomes = [run_once(store, "pooled", n) for n in (1, 2, 3)]
    for n, (status, printed, _) in enumerate(outcomes, start=1):
        assert status == "succeeded"
        assert printed["state"] == "clean" and printed["n"] == str(n)  # nothing left by the run before
        assert Path(printed["cwd"]) == path.parent
        assert printed["parent"] == printed["id"]
    assert [result["warm_kernel"] for _, _, result in outcomes[1:]] == [True, True]


def test_a_killed_pool_kernel_is_replaced(store, notebook):
    path = notebook("again.ipynb", "n = 1", CELL)
    jobs.schedule(path, name="again", store=store)
    assert run_once(store, "again", 1)[0] == "succeeded"  # runs of python3 now keep a standby
    killed = wait_for(pool_kernels, 120, "a pool kernel")
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: pool_kernels() and not pool_kernels() & killed, 120, "a new pool kernel")
    status, printed, result = run_once(store, "again", 7)
    assert status == "succeeded" and printed["n"] == "7" and result["warm_kernel"] is True


def test_run_wait_hands_the_run_to_the_process_it_started_first(store, notebook):
    """`jobs run --wait` starts its run process (and kernel) before it queues the run, then hands it over;
    that process reports, then makes the HTML copy (the supervisor has recorded its path)."""
    path = notebook("waited.ipynb", "n = 1", CELL)
    jobs.schedule(path, name="waited", store=store)
    run = jobs.run("waited", {"n": 4}, wait=True, store=store)
    assert run.status == "succeeded"
    printed = dict(line.split(" ", 1) for line in jobs.log(run.id, store).splitlines() if " " in line)
    assert printed["state"] == "clean" and printed["n"] == "4" and printed["parent"] == run.id
    assert Path(printed["cwd"]) == path.parent
    assert json.loads((runs_dir() / run.id / "result.json").read_text())["warm_kernel"] is True
    html = {a.kind: Path(a.uri) for a in store.run(run.id).artifacts}["html"]
    wait_for(html.exists, 120, "the HTML copy, made after the run reported")  # by the run process
    assert "n 4" in html.read_text()


def test_a_standby_started_before_the_job_is_read_is_told_its_kernel(store, notebook):
    """`aqtra-nb jobs run --wait` starts its run process before it opens the store, not knowing the job's
    kernel yet (`start_standby(url)`); the run names it and hands the task over: a warm, fresh kernel."""
    path = notebook("early.ipynb", "n = 1", CELL)
    jobs.schedule(path, name="early", store=store)
    standby = start_standby(store.url)
    run = jobs.run("early", {"n": 5}, wait=True, store=store, standby=standby)
    assert run.status == "succeeded"
    printed = dict(line.split(" ", 1) for line in jobs.log(run.id, store).splitlines() if " " in line)
    assert printed["state"] == "clean" and printed["n"] == "5" and printed["parent"] == run.id
    assert json.loads((runs_dir() / run.id / "result.json").read_text())["warm_kernel"] is True
    assert standby.wait(120) == 0  # it rendered the HTML copy and ended


def test_a_standby_told_no_kernel_runs_a_flow_job(store, tmp_path):
    """A flow job has no kernel: the standby, told so by an empty name, runs it as a plain run process."""
    (tmp_path / "numbers.csv").write_text("x\n1\n2\n")
    (tmp_path / "double.flow.yaml").write_text(FLOW)
    jobs.schedule(tmp_path / "double.flow.yaml", name="double", store=store)
    standby = start_standby(store.url)
    run = jobs.run("double", wait=True, store=store, standby=standby)
    assert run.status == "succeeded"
    assert (tmp_path / "out.csv").read_text().replace('"', "").split() == ["x,y", "1,2", "2,4"]
    assert standby.wait(120) == 0


def test_a_standby_whose_run_cannot_start_ends_unused(store, notebook):
    """No such job, or parameters the notebook refuses: the error is the caller's, and the standby started
    for the run (with no kernel yet, or a kernel already) exits without running anything."""
    path = notebook("strict.ipynb", "n = 1", "print(n)")
    jobs.schedule(path, name="strict", store=store)
    unnamed = start_standby(store.url)
    with pytest.raises(jobs.JobError, match="no job named 'strickt'"):
        jobs.run("strickt", wait=True, store=store, standby=unnamed)
    named = start_standby(store.url)
    with pytest.raises(AqtraError, match="'n'"):
        jobs.run("strict", {"n": "many"}, wait=True, store=store, standby=named)
    assert unnamed.wait(120) != 0 and named.wait(120) != 0  # KERNEL_DIED: ended without a task
    assert store.runs(name="strict") == []


FLOW = """\
flow: double
steps:
  - {id: numbers, component: read_csv, with: {path: numbers.csv}}
  - {id: doubled, component: derive, input: numbers, with: {columns: {y: "x * 2"}}}
  - {id: save, component: write_csv, input: doubled, with: {path: out.csv}}
"""
