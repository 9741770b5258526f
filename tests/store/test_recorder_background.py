"""Run records written on the recorder's background thread (app runs, #14): the run returns before its
record is written, records keep their order, and a process that exits right after a run still leaves it
recorded (the writer's queue is drained at exit)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pandas as pd

from aqtra_nb import Flow
from aqtra_nb.recording import run_flow
from aqtra_nb.store import RunRecorder, Store
from aqtra_nb.store.recorder import flush_records, records_held


def small_flow(name: str) -> Flow:
    f = Flow(name)
    f.from_frame("numbers", pd.DataFrame({"x": [1, 2, 3]})).derive("twice", columns={"y": "x * 2"})
    return f


def test_the_run_does_not_wait_for_its_record(tmp_path, monkeypatch):
    store = Store(f"sqlite:///{tmp_path / 'aqtra.db'}")
    release, written = threading.Event(), threading.Event()
    finish = RunRecorder._finish

    def held(self, *args):
        release.wait(30)  # the outcome's write waits until the test has seen the run return
        finish(self, *args)
        written.set()

    monkeypatch.setattr(RunRecorder, "_finish", held)
    flow = small_flow("later")
    result = run_flow(flow.spec, record=store, objects=flow.objects, progress=False, record_later=True)
    assert result["twice"]["y"].tolist() == [2, 4, 6]
    assert not written.is_set()  # returned before its record was written
    release.set()
    flush_records(30)
    assert written.is_set()
    (run,) = store.runs(name="later")
    assert run.status == "succeeded" and {s.step_id: s.rows for s in run.steps} == {"numbers": 3, "twice": 3}
    store.close()


def test_a_process_exiting_right_after_a_run_keeps_its_record(tmp_path):
    database = tmp_path / "aqtra.db"
    script = textwrap.dedent(
        f"""
        import time
        import pandas as pd
        from aqtra_nb import Flow
        from aqtra_nb.recording import run_flow
        from aqtra_nb.store import RunRecorder, Store

        finish = RunRecorder._finish

        def slow(self, *args):
            time.sleep(1.0)  # still queued when the interpreter starts to exit
            finish(self, *args)

        RunRecorder._finish = slow
        f = Flow("exits")
        f.from_frame("numbers", pd.DataFrame({{"x": [1, 2, 3]}})).derive("twice", columns={{"y": "x * 2"}})
        store = Store("sqlite:///{database}")
        run_flow(f.spec, record=store, objects=f.objects, progress=False, record_later=True)
        print("returned")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "returned" in done.stdout
    store = Store(f"sqlite:///{database}")
    (run,) = store.runs(name="exits")
    assert run.status == "succeeded" and len(run.steps) == 2
    store.close()


def test_records_held_are_written_when_the_block_ends(tmp_path):
    """An app holds its run's record back while its widgets update (FlowRunner)."""
    store = Store(f"sqlite:///{tmp_path / 'aqtra.db'}")
    flow = small_flow("held")
    with records_held():
        run_flow(flow.spec, record=store, objects=flow.objects, progress=False, record_later=True)
        flush_records(30)  # nothing was queued yet
        assert store.runs(name="held") == []
    flush_records(30)
    (run,) = store.runs(name="held")
    assert run.status == "succeeded" and len(run.steps) == 2
    store.close()
