"""The `aqtra-nb` command: real subprocesses, exit codes, one-paragraph errors, JSON output."""

import json
import os
import subprocess
import sys

import jsonschema
import pytest
import yaml

from aqtra_nb import datasets

FLOW = """\
flow: cli_demo
parameters:
  min_amount: {type: number, default: 100}
steps:
  - id: orders
    component: read_parquet
    with: {path: data/orders.parquet}
  - id: big
    component: filter
    input: orders
    with: {condition: "amount >= @min_amount"}
  - id: totals
    component: aggregate
    input: big
    with: {by: [region], aggregations: {revenue: "sum(amount)", n: "count()"}}
  - id: save
    component: write_csv
    input: totals
    with: {path: out/totals.csv}
"""


def cli(*args, cwd=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "aqtra_nb.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env=env,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    datasets.write_sales(folder / "data", scale=0.005, formats=("parquet",))
    (folder / "report.flow.yaml").write_text(FLOW)
    return folder


def test_run_json(project):
    done = cli("run", str(project / "report.flow.yaml"), "-p", "min_amount=50", "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["status"] == "succeeded"
    assert record["parameters"] == {"min_amount": 50.0}
    assert set(record["steps"]) == {"orders", "big", "totals", "save"}
    assert record["steps"]["totals"]["rows"] == 8
    assert all(step["seconds"] >= 0 for step in record["steps"].values())
    assert (project / "out" / "totals.csv").exists()


def test_run_show_prints_a_step(project):
    done = cli("run", str(project / "report.flow.yaml"), "--show", "totals", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "totals:" in done.stdout and "revenue" in done.stdout


def test_a_reader_with_a_pushed_filter_says_rows_read_of_rows_in_the_source(project):
    """`orders` gets the filter `amount >= 1000` pushed in: it reads fewer rows than the file holds."""
    import pyarrow.parquet as pq

    done = cli(
        "run", str(project / "report.flow.yaml"), "-p", "min_amount=1000", "--no-progress", "--no-cache"
    )
    assert done.returncode == 0, done.stderr
    in_file = pq.ParquetFile(project / "data" / "orders.parquet").metadata.num_rows
    line = next(line for line in done.stdout.splitlines() if line.strip().startswith("orders"))
    read = int(line.split("read_parquet")[1].split(" of ")[0].replace(",", ""))
    assert f" of {in_file:,} rows" in line and 0 < read < in_file
    totals = next(line for line in done.stdout.splitlines() if line.strip().startswith("totals"))
    assert " of " not in totals  # no filter was pushed into an aggregate


def test_user_mistakes_exit_2_without_traceback(project):
    bad = project / "bad.flow.yaml"
    bad.write_text(FLOW.replace("amount >= @min_amount", "amout >= @min_amount"))
    done = cli("run", str(bad))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0  # one paragraph
    assert "step 'big', field 'condition': unknown column 'amout'" in done.stderr
    assert "Did you mean 'amount'?" in done.stderr

    done = cli("run", str(project / "report.flow.yaml"), "-p", "min_amout=5")
    assert done.returncode == 2 and "Did you mean 'min_amount'?" in done.stderr

    done = cli("run", str(project / "missing.flow.yaml"))
    assert done.returncode == 2 and "flow file not found" in done.stderr


def test_step_failure_exits_1_and_names_the_step(project):
    failing = project / "fail.flow.yaml"
    failing.write_text(
        FLOW.replace("data/orders.parquet", "data/orders.parquet").replace(
            "with: {path: out/totals.csv}",
            "with: {path: out/totals.csv}\n  - id: cast\n    component: cast\n"
            "    input: orders\n    with: {types: {status: integer}}\n  - id: keep\n    component: to_frame\n"
            "    input: cast\n",
        )
    )
    done = cli("run", str(failing), "--json")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    record = json.loads(done.stdout)
    assert record["status"] == "failed" and record["step"] == "cast"
    assert "step 'cast'" in done.stderr and "cast failed" in done.stderr


def test_validate_and_preview(project):
    done = cli("validate", str(project / "report.flow.yaml"))
    assert done.returncode == 0, done.stderr
    assert "reads only: region, amount" in done.stdout and "ok: 4 steps" in done.stdout
    done = cli("validate", str(project / "report.flow.yaml"), "--json")
    assert json.loads(done.stdout)["totals"] == {"region": "str", "revenue": "float64", "n": "int64"}
    done = cli("preview", str(project / "report.flow.yaml"), "big", "--rows", "5")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip().splitlines()) == 6  # header + 5 rows


def test_components_listing_and_detail():
    done = cli("components")
    assert done.returncode == 0
    names = {line.split()[0] for line in done.stdout.splitlines()}
    for name in ["read_csv", "filter", "aggregate", "window", "script", "write_parquet", "to_frame"]:
        assert name in names
    done = cli("components", "aggregate")
    assert "by:" in done.stdout and "aggregations:" in done.stdout
    done = cli("components", "agregate")
    assert done.returncode == 2 and "Did you mean 'aggregate'?" in done.stderr


def test_schema_validates_flow_files(project):
    done = cli("schema")
    assert done.returncode == 0
    schema = json.loads(done.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    document = yaml.safe_load(FLOW)
    assert not list(validator.iter_errors(document))
    document["steps"][1]["with"]["conditon"] = document["steps"][1]["with"].pop("condition")
    assert list(validator.iter_errors(document))
    document = yaml.safe_load(FLOW)
    document["steps"][2]["with"]["by"] = "region"  # must be a list
    assert list(validator.iter_errors(document))


def test_sample_data(tmp_path):
    done = cli("sample-data", str(tmp_path), "--scale", "0.001", "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "orders.csv").exists() and not (tmp_path / "orders.parquet").exists()
    done = cli("sample-data", str(tmp_path), "--scale", "-1")
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_the_step_cache_from_the_command_line(project, tmp_path):
    env = {**os.environ, "AQTRA_HOME": str(tmp_path / "home"), "AQTRA_CACHE_MIN_SECONDS": "-1"}

    def run(*extra):
        done = cli("run", "report.flow.yaml", "--json", *extra, cwd=project, env=env)
        assert done.returncode == 0, done.stderr
        return {sid: step["cached"] for sid, step in json.loads(done.stdout)["steps"].items()}

    assert run() == {"orders": False, "big": False, "totals": False, "save": False}
    assert run() == {"orders": True, "big": True, "totals": True, "save": False}  # the sink always runs
    # the filter is pushed into the Parquet reader: a new bound changes what the reader reads, too
    assert run("-p", "min_amount=500") == {"orders": False, "big": False, "totals": False, "save": False}
    assert run("--no-cache") == {"orders": False, "big": False, "totals": False, "save": False}
    shown = cli("runs", "show", "--json", _last_run(env), cwd=project, env=env)
    assert json.loads(shown.stdout)["steps"]["totals"]["cached"] is False

    listed = cli("cache", "list", "--json", cwd=project, env=env)
    entries = json.loads(listed.stdout)
    assert {e["step"] for e in entries} == {"orders", "big", "totals"} and len(entries) == 6
    assert all(e["flow"] == "cli_demo" and e["rows"] >= 0 for e in entries)
    table = cli("cache", "list", cwd=project, env=env).stdout
    assert "cli_demo" in table and "6 entries" in table
    bad = cli("cache", "clear", "--older-than", "soon", cwd=project, env=env)
    assert bad.returncode == 2 and "--older-than 'soon'" in bad.stderr and "Traceback" not in bad.stderr
    kept = cli("cache", "clear", "--older-than", "1h", cwd=project, env=env)
    assert kept.stdout.startswith("removed 0 entries")
    assert cli("cache", "clear", "--flow", "other", cwd=project, env=env).stdout.startswith("removed 0")
    assert cli("cache", "clear", "--flow", "cli_demo", cwd=project, env=env).stdout.startswith("removed 6")
    assert json.loads(cli("cache", "list", "--json", cwd=project, env=env).stdout) == []


def _last_run(env) -> str:
    done = cli("runs", "list", "--json", "--limit", "1", env=env)
    return json.loads(done.stdout)[0]["run_id"]


def _commands(parser) -> set[str]:
    (sub,) = [action for action in parser._actions if action.dest == "command"]
    return set(sub.choices)


def test_the_group_table_names_the_module_of_every_command():
    """`aqtra-nb COMMAND` builds only its group's parser (cli.GROUPS): a command registered by another
    module than the table says would be unknown when it runs."""
    from aqtra_nb.cli import GROUPS, _parser

    assert _commands(_parser(None)) == {command for commands in GROUPS.values() for command in commands}
    for commands in GROUPS.values():
        for command in commands:
            assert _commands(_parser(command)) == set(commands), command


def test_a_reader_that_stops_early_ends_the_command_quietly():
    """`aqtra-nb schema | head -1`: the schema (over 64 KiB, more than a pipe holds) meets a closed pipe."""
    process = subprocess.Popen(
        [sys.executable, "-m", "aqtra_nb.cli", "schema"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout.readline().strip() == b"{"
    process.stdout.close()  # as `head -1` does after its line
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
