"""Messages in plain words (#18): syntax errors of expressions say what is wrong where, pydantic's
"Value error," never reaches a message, and `runs show` names what ran."""

from __future__ import annotations

import pytest

from aqtra_nb.cli import main

FLOW = """\
flow: words
steps:
  - id: rows
    component: empty
    with: {{columns: {{amount: number, region: string}}}}
  - id: pick
    component: {component}
    input: rows
    with: {with_}
"""


@pytest.fixture
def flow_file(tmp_path):
    def write(component: str, with_: str) -> str:
        path = tmp_path / "words.flow.yaml"
        path.write_text(FLOW.format(component=component, with_=with_))
        return str(path)

    return write


def test_a_syntax_error_says_what_stands_where(flow_file, capsys):
    path = flow_file("filter", '{condition: "amount >= 100 and region === 5"}')
    assert main(["validate", path]) == 2
    err = capsys.readouterr().err
    assert "step 'pick', field 'condition'" in err
    assert "invalid syntax: unexpected '=' here; compare with '==' (at column 28" in err
    assert "invalid syntax: invalid syntax" not in err
    path = flow_file("filter", '{condition: "amount >"}')
    assert main(["validate", path]) == 2
    assert "the expression ends after '>'; something is missing" in capsys.readouterr().err


def test_no_value_error_prefix_in_messages(flow_file, capsys, tmp_path):
    path = flow_file("fill_missing", "{}")
    assert main(["validate", path]) == 2
    err = capsys.readouterr().err
    assert "field 'with': give `values` (column: value) or `value`" in err and "Value error" not in err
    assert main(["connections", "add", "db", "--kind", "sql"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: connection 'db': ") and "Value error" not in err
