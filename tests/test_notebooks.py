"""The tutorial notebooks run top to bottom on a real kernel, and `%%flow` works in IPython.

Kernel tests are marked slow (a kernel takes seconds to start); the `%%flow` tests through IPython's
InteractiveShell run in this process and are fast.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 120


def problems(nb: nbformat.NotebookNode) -> list[str]:
    """Error outputs, and tracebacks written to stderr (e.g. by a thread), cell by cell. A cell tagged
    `raises-exception` (a tutorial's mistake on purpose) must fail, with a message, not a traceback."""
    found = []
    for index, cell in enumerate(nb.cells):
        expected = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if expected and len(errors) != 1:
            found.append(f"cell {index} is tagged raises-exception but has {len(errors)} error outputs")
        for output in errors if expected else []:
            shown = "\n".join(output.traceback)
            if len(shown) > 600 or "site-packages" in shown:
                found.append(f"cell {index}: a traceback where the message should be:\n{shown}")
        for output in cell.get("outputs", []):
            if output.output_type == "error" and not expected:
                found.append(f"cell {index}: {output.ename}: {output.evalue}")
            elif output.output_type == "stream" and output.name == "stderr" and "Traceback" in output.text:
                found.append(f"cell {index}: traceback on stderr:\n{output.text}")
    return found


def execute(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        allow_errors=True,  # collect every error output, then fail with all of them below
    )
    client.execute()
    return nb


def outputs_text(cell: nbformat.NotebookNode) -> str:
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/plain", ""))
            parts.append(output.data.get("text/html", ""))
    return "\n".join(parts)


def test_there_are_notebooks():
    assert any(path.name == "01-first-flow.ipynb" for path in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_have_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {index} has outputs; clear them before committing"
            assert cell.execution_count is None, f"cell {index} has an execution count"
        assert "/home/" not in cell.source and "/work/" not in cell.source, f"cell {index}: absolute path"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    nb = execute(nbformat.read(path, as_version=4), cwd)
    assert not problems(nb), "\n".join(problems(nb))
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code_cells)
    assert list(cwd.iterdir()) == [], "the notebook should work in its own temporary folder"


# -- %%flow through a real kernel ----------------------------------------------------------------------


@pytest.mark.slow
def test_flow_magic_in_a_real_kernel(tmp_path):
    pd.DataFrame({"region": ["North", "South", "North"], "amount": [10.0, 20.0, 5.0]}).to_csv(
        tmp_path / "sales.csv", index=False
    )
    cells = [
        "%load_ext aqtra_nb",
        "import pandas as pd\ngoals = pd.DataFrame({'region': ['North', 'South'], 'goal': [10.0, 40.0]})",
        """%%flow --as res --show scored -p factor=2
flow: magic_demo
parameters:
  factor: {type: number, default: 1}
steps:
  - {id: sales, component: read_csv, with: {path: sales.csv}}
  - id: totals
    component: aggregate
    input: sales
    with: {by: [region], aggregations: {total: "sum(amount * @factor)"}}
  - {id: goals, component: from_frame, with: {name: goals}}
  - {id: joined, component: join, inputs: [totals, goals], with: {on: region}}
  - {id: scored, component: derive, input: joined, with: {columns: {met: "total >= goal"}}}
""",
        "print(res.status, res['scored'].sort_values('region').to_json(orient='values'))",
        """%%flow
flow: broken
steps:
  - {id: sales, component: read_csv, with: {path: sales.csv}}
  - {id: big, component: filter, input: sales, with: {condition: "amout > 1"}}
""",
        "print('still running')",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb = execute(nb, tmp_path)
    assert not problems(nb), "\n".join(problems(nb))
    run_cell, check_cell, broken_cell, after_cell = nb.cells[2], nb.cells[3], nb.cells[4], nb.cells[5]
    html = [o.data["text/html"] for o in run_cell.outputs if "text/html" in o.get("data", {})]
    assert any("magic_demo" in h and "succeeded" in h for h in html)  # the RunResult table
    assert "met" in outputs_text(run_cell)  # --show scored
    assert 'succeeded [["North",30.0,10.0,true],["South",40.0,40.0,true]]' in outputs_text(check_cell)
    text = outputs_text(broken_cell)
    assert "error:" in text and "amout" in text and "Did you mean 'amount'?" in text
    assert "still running" in outputs_text(after_cell)


# -- %%flow through IPython's InteractiveShell ----------------------------------------------------------


@pytest.fixture
def shell(tmp_path, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    ip = InteractiveShell.instance(config=config)
    ip.run_line_magic("load_ext", "aqtra_nb")
    monkeypatch.chdir(tmp_path)  # a `%%flow` cell's relative paths resolve against the working directory
    pd.DataFrame(
        {
            "order_id": [1, 2, 3, 4],
            "region": ["North", "South", "North", "East"],
            "amount": [50.0, 20.0, 30.0, 5.0],
        }
    ).to_csv("orders.csv", index=False)
    before = set(ip.user_ns)
    yield ip
    for name in set(ip.user_ns) - before:
        del ip.user_ns[name]


def run_magic(shell, line: str, cell: str):
    """Run `%%flow line` on `cell`; returns (printed text, rich outputs)."""
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        value = shell.run_cell_magic("flow", line, cell)
    assert value is None
    return captured.stdout, captured.outputs


FROM_FRAME = """
flow: with_frames
parameters:
  min_amount: {type: number, default: 0}
steps:
  - {id: orders, component: read_csv, with: {path: orders.csv}}
  - {id: regions, component: from_frame, with: {name: region_names}}
  - {id: named, component: lookup, inputs: [orders, regions], with: {on: region, columns: [country]}}
  - {id: big, component: filter, input: named, with: {condition: "amount >= @min_amount"}}
  - id: totals
    component: aggregate
    input: big
    with: {by: [country], aggregations: {revenue: "sum(amount)", n: "count()"}}
"""


def test_magic_takes_frames_from_the_user_namespace(shell):
    shell.user_ns["region_names"] = pd.DataFrame(
        {"region": ["North", "South", "East"], "country": ["Sweden", "Italy", "Poland"]}
    )
    printed, outputs = run_magic(shell, "--as res -p min_amount=10 --show named --rows 2", FROM_FRAME)
    result = shell.user_ns["res"]
    assert result.status == "succeeded"
    totals = result["totals"].sort_values("country").reset_index(drop=True)
    expected = pd.DataFrame({"country": ["Italy", "Sweden"], "revenue": [20.0, 80.0], "n": [1, 2]})
    pd.testing.assert_frame_equal(totals, expected, check_dtype=False)
    # displayed: the run table, then the first 2 rows of `named`
    assert len(outputs) == 2
    assert "with_frames" in outputs[0].data["text/html"]
    assert "country" in outputs[1].data["text/plain"]
    assert len(outputs[1].data["text/plain"].splitlines()) == 3  # header + 2 rows
    assert "error" not in printed


def test_magic_default_result_name_and_pandas_frame_changes_are_seen(shell):
    shell.user_ns["region_names"] = pd.DataFrame({"region": ["North"], "country": ["Norway"]})
    run_magic(shell, "", FROM_FRAME)
    first = shell.user_ns["_flow_result"]["totals"]
    assert set(first["country"].dropna()) == {"Norway"}
    shell.user_ns["region_names"] = pd.DataFrame({"region": ["East"], "country": ["Poland"]})
    run_magic(shell, "", FROM_FRAME)
    assert set(shell.user_ns["_flow_result"]["totals"]["country"].dropna()) == {"Poland"}


def test_magic_uses_notebook_functions_in_script_steps(shell):
    def double(df):
        return df.assign(amount=df["amount"] * 2)

    shell.user_ns["double"] = double
    run_magic(
        shell,
        "--as res",
        """
flow: scripted
steps:
  - {id: orders, component: read_csv, with: {path: orders.csv}}
  - {id: doubled, component: script, input: orders, with: {function: double}}
""",
    )
    assert list(shell.user_ns["res"]["doubled"]["amount"]) == [100.0, 40.0, 60.0, 10.0]


def test_magic_validate_prints_the_plan_without_running(shell):
    shell.user_ns["region_names"] = pd.DataFrame({"region": ["North"], "country": ["Sweden"]})
    printed, outputs = run_magic(shell, "--validate --as never", FROM_FRAME)
    assert "flow 'with_frames'" in printed and "totals: aggregate <- big" in printed
    assert "never" not in shell.user_ns and outputs == []


@pytest.mark.parametrize(
    ("line", "cell", "expected"),
    [
        # unknown column, with a hint
        (
            "",
            "flow: bad\nsteps:\n  - {id: o, component: read_csv, with: {path: orders.csv}}\n"
            "  - {id: f, component: filter, input: o, with: {condition: 'amout > 1'}}\n",
            ["step 'f'", "field 'condition'", "Did you mean 'amount'?"],
        ),
        # not YAML
        ("", "flow: [unclosed\n", ["not valid YAML"]),
        # unknown component
        ("", "flow: bad\nsteps:\n  - {id: o, component: read_cvs}\n", ["read_cvs", "read_csv"]),
        # a frame that is not in the notebook: lists the frames there are, not IPython's own names
        (
            "",
            "flow: bad\nsteps:\n  - {id: o, component: from_frame, with: {name: missing_frame}}\n",
            ["no frame named 'missing_frame'", "frames passed: some_frame"],
        ),
        # unknown parameter
        ("-p min_amout=3", FROM_FRAME, ["unknown parameter 'min_amout'", "min_amount"]),
        # bad magic arguments
        ("--rows many", FROM_FRAME, ["--rows", "usage: %%flow"]),
        ("--bogus", FROM_FRAME, ["unrecognized arguments: --bogus"]),
        ("-p 'unclosed", FROM_FRAME, ["No closing quotation"]),
        ("--show nmaed", FROM_FRAME, ["--show: no step 'nmaed'", "Did you mean 'named'?"]),
    ],
    ids=[
        "unknown-column",
        "not-yaml",
        "unknown-component",
        "missing-frame",
        "unknown-parameter",
        "bad-rows",
        "unknown-option",
        "unclosed-quote",
        "unknown-show-step",
    ],
)
def test_magic_prints_errors_instead_of_raising(shell, line, cell, expected):
    shell.user_ns["some_frame"] = pd.DataFrame({"region": ["North"], "country": ["Sweden"]})
    shell.user_ns["region_names"] = shell.user_ns["some_frame"]
    printed, outputs = run_magic(shell, f"{line} --as res", cell)
    assert printed.startswith("error: ")
    for text in expected:
        assert text in printed
    assert "In, Out" not in printed and "get_ipython" not in printed
    assert "res" not in shell.user_ns and outputs == []


def test_magic_error_through_run_cell_is_not_an_exception(shell):
    result = shell.run_cell("%%flow --nonsense\nflow: x\nsteps: []\n")
    assert result.success and result.error_in_exec is None
