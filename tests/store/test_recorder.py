"""Run records written by `RunRecorder` (#18 item 11): step rows buffered and written with the outcome, so
a run that fails or is interrupted still keeps every step that finished before."""

import datetime as dt

import pandas as pd
import pytest

from aqtra_nb import Flow, StepFailed
from aqtra_nb.store import Store


def fail_on_data(df):
    if len(df):  # planning calls it on an empty frame: fail on data only
        raise RuntimeError("third step broke")
    return df


def interrupt_on_data(df):
    if len(df):
        raise KeyboardInterrupt
    return df


def chain(name: str, third) -> Flow:
    f = Flow(name)
    f.from_frame("first", pd.DataFrame({"x": [1, 2, 3]})).derive("second", columns={"y": "x + 1"}).script(
        "third", function=third
    ).derive("fourth", columns={"z": "y + 1"})
    return f


def test_a_run_failing_at_its_third_step_keeps_the_first_two(database_url):
    store = Store(database_url)
    with pytest.raises(StepFailed):
        chain("breaks", fail_on_data).run(record=store, progress=False, cache=False)
    (run,) = store.runs(name="breaks")
    assert run.status == "failed" and "third step broke" in run.error
    assert run.finished_at is not None
    steps = {s.step_id: s for s in run.steps}
    assert {k: s.status for k, s in steps.items()} == {
        "first": "succeeded",
        "second": "succeeded",
        "third": "failed",
    }
    assert steps["first"].rows == steps["second"].rows == 3
    assert steps["second"].component == "derive" and steps["second"].cached is False
    assert steps["first"].finished_at <= steps["second"].finished_at <= run.finished_at
    assert steps["second"].finished_at.utcoffset() == dt.timedelta(0)
    assert "third step broke" in steps["third"].error
    assert store.run_lineage(run.id)["lineage"] is not None
    store.close()


def test_an_interrupted_run_is_recorded_with_the_steps_done(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'aqtra.db'}")
    with pytest.raises(KeyboardInterrupt):
        chain("interrupted", interrupt_on_data).run(record=store, progress=False)
    (run,) = store.runs(name="interrupted")
    assert run.status == "cancelled" and run.error == "interrupted: KeyboardInterrupt"
    assert {s.step_id: s.status for s in run.steps} == {"first": "succeeded", "second": "succeeded"}
    store.close()


def test_every_run_of_a_flow_version_points_at_it(database_url):
    store = Store(database_url)
    f = chain("versions", lambda df: df)
    first, second = (f.run(record=store, progress=False).run_id for _ in range(2))
    f.step("fourth").limit("fifth", rows=1)
    third = f.run(record=store, progress=False).run_id
    assert len(store.flow_versions("versions")) == 2
    ids = [store.run(run_id).flow_id for run_id in (first, second, third)]
    assert ids[0] == ids[1] != ids[2]
    assert store.run(third).flow.document["steps"][-1]["id"] == "fifth"
    assert [s.step_id for s in store.run(third).steps] == ["first", "second", "third", "fourth", "fifth"]
    store.close()
