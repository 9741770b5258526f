"""`aqtra-nb jobs`, `scheduler` and `runs log|cancel`: bad input is refused at `add` time with the field
named and exit code 2; a failed run exits 1; never a traceback."""

from __future__ import annotations

import json
import re

import pytest

from aqtra_nb.cli import main

PARAMS = "day: str = '2024-01-01'\nlimit = 10\nratio = 0.5"


@pytest.fixture
def report(notebook):
    return notebook("report.ipynb", PARAMS, "print(day, limit * ratio)")


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            ["--cron", "61 * * * *"],
            ["field 'cron'", "'61 * * * *': the minute field '61' has 61, out of range: the minute is 0-59"],
        ),
        (["--cron", "0 6 * * *", "--timezone", "Europe/Berlim"], ["field 'timezone'", "'Europe/Berlim'"]),
        (["-p", "limt=3"], ["report.ipynb", "field 'parameters.limt'", "Did you mean 'limit'?"]),
        (["-p", "limit=ten"], ["field 'parameters.limit'", "expects an integer, got 'ten'"]),
        (["--kernel", "pyhton3"], ["field 'kernel'", "no Jupyter kernel named 'pyhton3'", "'python3'"]),
        (["--timeout", "soon"], ["field 'timeout'", "not a duration: 'soon'"]),
        (["--retries", "-1"], ["field 'retries.count'"]),
        (["-p", "novalue"], ["must be written NAME=VALUE"]),
    ],
    ids=["cron", "timezone", "unknown-param", "mistyped-param", "kernel", "timeout", "retries", "assignment"],
)
def test_add_refuses_bad_input_naming_the_field(capsys, report, extra, expected):
    code, out, err = run_cli(capsys, "jobs", "add", str(report), "--name", "bad-input", *extra)
    assert code == 2 and out == ""
    for text in expected:
        assert text in err
    assert run_cli(capsys, "jobs", "show", "bad-input")[0] == 2  # nothing was saved


def test_add_refuses_unknown_targets(capsys, tmp_path):
    code, _, err = run_cli(capsys, "jobs", "add", str(tmp_path / "missing.ipynb"))
    assert code == 2 and "field 'target'" in err and "notebook not found" in err
    (tmp_path / "data.csv").write_text("x\n")
    code, _, err = run_cli(capsys, "jobs", "add", str(tmp_path / "data.csv"))
    assert code == 2 and "neither a notebook" in err


def test_job_file_with_a_typo_names_file_and_key(capsys, report, tmp_path):
    job_file = tmp_path / "nightly.job.yaml"
    job_file.write_text(f"job: nightly\ntarget: {report.name}\ncron: '0 2 * * *'\nretires: 2\n")
    code, _, err = run_cli(capsys, "jobs", "add", str(job_file))
    assert code == 2 and str(job_file) in err and "field 'retires'" in err and "unknown key" in err


def test_job_file_add_list_show_pause_resume_remove(capsys, report, tmp_path):
    job_file = tmp_path / "nightly.job.yaml"
    job_file.write_text(
        f"job: nightly-cli\ntarget: {report.name}\ncron: '30 2 * * *'\ntimezone: Europe/Berlin\n"
        "parameters: {limit: 20}\nretries: {count: 2, backoff: 5m}\ntimeout: 10m\ncatchup: once\n"
    )
    code, out, _ = run_cli(capsys, "jobs", "add", str(job_file), "-p", "ratio=2")
    assert (
        code == 0 and "job 'nightly-cli' added" in out and re.search(r"next run: \S+ 02:30 CES?T \(in ", out)
    )
    code, out, _ = run_cli(capsys, "jobs", "show", "nightly-cli", "--json")
    shown = json.loads(out)
    assert shown["spec"]["parameters"] == {"limit": 20, "ratio": 2.0}
    assert shown["spec"]["retries"] == {"count": 2, "backoff": 300.0, "factor": 2.0}
    assert shown["spec"]["timeout"] == 600.0 and shown["spec"]["catchup"] == "once"
    assert shown["spec"]["target"] == str(report)
    assert run_cli(capsys, "jobs", "add", str(job_file))[2].count("exists") == 1
    assert run_cli(capsys, "jobs", "pause", "nightly-cli")[0] == 0
    assert "paused" in run_cli(capsys, "jobs", "list")[1]
    assert run_cli(capsys, "jobs", "resume", "nightly-cli")[0] == 0
    assert run_cli(capsys, "jobs", "remove", "nightly-cli")[0] == 0
    code, _, err = run_cli(capsys, "jobs", "run", "nightly-cli")
    assert code == 2 and "no job named 'nightly-cli'" in err


def test_unknown_runs_and_second_sqlite_scheduler(capsys, tmp_path, monkeypatch):
    code, _, err = run_cli(capsys, "runs", "log", "nosuchrun")
    assert code == 2 and "no run with id 'nosuchrun'" in err
    code, _, err = run_cli(capsys, "runs", "cancel", "nosuchrun")
    assert code == 2 and "no run with id" in err

    from aqtra_nb.jobs.scheduler import SchedulerLock
    from aqtra_nb.store import Store

    url = f"sqlite:///{tmp_path / 'one.db'}"
    monkeypatch.setenv("AQTRA_DATABASE_URL", url)
    lock = SchedulerLock(Store(url))  # what a running scheduler holds
    lock.acquire()
    try:
        code, _, err = run_cli(capsys, "scheduler", "--once")
    finally:
        lock.release()
    assert code == 2 and "another scheduler" in err and "PostgreSQL" in err


@pytest.mark.slow
def test_run_wait_exit_codes_and_runs_log(capsys, notebook):
    ok = notebook("ok.ipynb", "n = 1", "print('value', n * 2)")
    bad = notebook("bad.ipynb", "n = 1", "raise ValueError('no good')")
    assert run_cli(capsys, "jobs", "add", str(ok), "--name", "cli-ok")[0] == 0
    assert run_cli(capsys, "jobs", "add", str(bad), "--name", "cli-bad")[0] == 0
    code, out, _ = run_cli(capsys, "jobs", "run", "cli-ok", "--wait", "-p", "n=21")
    assert code == 0 and "succeeded" in out
    run_id = out.split()[1].rstrip(":")
    code, out, _ = run_cli(capsys, "runs", "log", run_id)
    assert code == 0 and "value 42" in out
    assert "without encryption" not in out and "IPKernelApp" not in out  # the kernel ran over IPC
    code, out, _ = run_cli(capsys, "runs", "show", run_id)
    assert out.startswith(f"run {run_id}: notebook job 'cli-ok' succeeded in "), out
    code, out, _ = run_cli(capsys, "runs", "show", run_id, "--json")
    record = json.loads(out)
    assert record["status"] == "succeeded" and record["parameters"] == {"n": 21}
    assert set(record["artifacts"]) == {"notebook", "html", "log"}
    code, _, err = run_cli(capsys, "runs", "cancel", run_id)
    assert code == 2 and f"run {run_id} has already finished (succeeded); only queued or running" in err
    code, out, _ = run_cli(capsys, "jobs", "run", "cli-bad", "--wait")
    assert code == 1 and "failed" in out and "ValueError: no good" in out
    code, _, err = run_cli(capsys, "jobs", "run", "cli-ok", "-p", "n=many")
    assert code == 2 and "parameters.n" in err


def test_add_says_when_the_job_runs_next_and_run_now_queues_one(capsys, report, monkeypatch, tmp_path):
    """Right after `jobs add`, a scheduler tick has nothing to do: `add`, `list` and the tick say when the
    job is next due; `--run-now` queues a run the next tick starts."""
    monkeypatch.setenv("AQTRA_DATABASE_URL", f"sqlite:///{tmp_path / 'next.db'}")
    code, out, _ = run_cli(capsys, "jobs", "add", str(report), "--name", "nightly", "--cron", "0 3 * * *")
    assert code == 0
    assert re.search(r"next run: \d{4}-\d\d-\d\d 03:00 UTC \(in (\d+ h ?)?(\d+ min)?\); a running", out), out
    assert "`aqtra-nb jobs run nightly`" in out
    code, out, _ = run_cli(capsys, "jobs", "list")
    assert re.search(r"nightly .* next \d{4}-\d\d-\d\d 03:00 UTC \(in .*\) +never run", out), out
    code, _, err = run_cli(capsys, "scheduler", "--once", "--workers", "0")
    assert code == 2 and "--workers 0: give 1 or more (0 only with --dask" in err
    code, out, _ = run_cli(capsys, "scheduler", "--once", "--workers", "1")
    assert "tick: 0 queued, 0 started" in out
    assert "nothing was due; next: job 'nightly' at " in out and "`aqtra-nb jobs run nightly`" in out

    code, out, _ = run_cli(capsys, "jobs", "add", str(report), "--name", "adhoc", "--run-now")
    assert code == 0 and "on demand" in out
    queued = re.search(r"run (\S+) queued now; `aqtra-nb scheduler --once` starts it", out)
    assert queued, out
    code, out, _ = run_cli(capsys, "runs", "show", queued.group(1), "--json")
    assert json.loads(out)["status"] == "queued"
    code, out, _ = run_cli(capsys, "jobs", "list")
    assert re.search(r"adhoc .* next when asked \(jobs run\)", out), out


@pytest.mark.slow
def test_a_flow_run_inside_a_notebook_job_is_its_child(capsys, notebook):
    """The notebook's kernel records the flow it runs as a child of the job's run: `runs list` shows it
    under the job, `runs show` names the parent and the children."""
    inner = notebook(
        "inner.ipynb",
        "scale = 0.001",
        "from aqtra_nb import Flow\n"
        "f = Flow('inner_flow')\n"
        "f.sample_data('regions', table='regions', scale=scale)\n"
        "print('rows', f.run()['regions'].shape[0])",
    )
    assert run_cli(capsys, "jobs", "add", str(inner), "--name", "with-a-flow")[0] == 0
    code, out, _ = run_cli(capsys, "jobs", "run", "with-a-flow", "--wait")
    assert code == 0 and "succeeded" in out, out
    job_run = out.split()[1].rstrip(":")
    code, out, _ = run_cli(capsys, "runs", "list", "--json")
    (child,) = [r for r in json.loads(out) if r["parent_run"] == job_run]
    assert child["kind"] == "flow" and child["name"] == "inner_flow" and child["status"] == "succeeded"
    code, out, _ = run_cli(capsys, "runs", "list")
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(job_run))
    assert "notebook job 'with-a-flow'" in lines[at]
    assert lines[at + 1].startswith(f"  └ {child['run_id']}") and "flow 'inner_flow'" in lines[at + 1]
    code, out, _ = run_cli(capsys, "runs", "show", child["run_id"])
    assert f"inside   run {job_run}: notebook job 'with-a-flow' succeeded" in out
    code, out, _ = run_cli(capsys, "runs", "show", job_run)
    assert f"child    run {child['run_id']}: flow 'inner_flow' succeeded" in out
    from aqtra_nb.runs import default_store

    assert default_store().run_record(child["run_id"])["parent_run_id"] == job_run  # the REST API's record


def test_a_missing_smtp_connection_is_refused_when_the_job_is_added(capsys, report, tmp_path):
    job_file = tmp_path / "mailing.job.yaml"
    job_file.write_text(
        f"job: mailing\ntarget: {report.name}\nnotify: {{email: [ops@example.com], smtp: mial}}\n"
    )
    code, out, err = run_cli(capsys, "jobs", "add", str(job_file))
    assert code == 2 and out == ""
    assert "field 'notify.smtp': its email cannot be sent: unknown connection 'mial'" in err
    job_file.write_text(f"job: mailing\ntarget: {report.name}\nnotify: {{email: [ops@example.com]}}\n")
    assert run_cli(capsys, "jobs", "add", str(job_file))[0] == 0  # no server at all: the outbox
