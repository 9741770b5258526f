"""Bad workflow files are refused when loaded, naming the file, the step and the field (exit 2 from the CLI)."""

from __future__ import annotations

import pytest
from workflow_helpers import EXAMPLES, cli

from aqtra_nb.workflows import WorkflowValidationError, load_workflow

GOOD_TAIL = """
  - id: approve
    kind: finish
  - id: reject
    kind: finish
    status: cancelled
"""

CASES = [
    # (steps and extras, step, field, message part)
    (
        "  - {id: a, kind: iff, condition: 'x > 1'}",
        "a",
        "kind",
        "unknown step kind 'iff'. Did you mean 'if'?",
    ),
    (
        "  - {id: a, kind: if, condition: 'x > 1', then: approve, els: reject}",
        "a",
        "els",
        "Did you mean 'else'?",
    ),
    (
        "  - {id: a, kind: if, condition: 'x > 1', then: aprove, else: reject}",
        "a",
        "then",
        "unknown step 'aprove'. Did you mean 'approve'?",
    ),
    ("  - {id: a, kind: if, condition: 'x >', then: approve, else: reject}", "a", "condition", "x >"),
    (
        "  - {id: a, kind: if, condition: '@limt > 1', then: approve, else: reject}",
        "a",
        "condition",
        "no parameter @limt in the workflow's `parameters`. Did you mean 'limit'?",
    ),
    ("  - {id: a, kind: ask_confirmation, title: t, reject: reject}", "a", None, "give `approve`"),
    (
        "  - {id: a, kind: ask_confirmation, title: t, approve: b, reject: reject}\n"
        "  - {id: b, kind: if, condition: \"`a.choice` == 'x'\", then: approve, else: reject}",
        "b",
        "condition",
        "step 'a' has no result 'choice'. Its results: decision, option, by, comment",
    ),
    (
        "  - {id: a, kind: if, condition: 'true', then: approve, else: reject}\n  - {id: a, kind: finish}",
        "a",
        "id",
        "used twice",
    ),
    (
        "  - {id: a, kind: if, condition: 'true', then: approve, else: reject}\n  - {id: lost, kind: finish}",
        "lost",
        None,
        "cannot be reached",
    ),
    (
        "  - {id: a, kind: switch, value: '@limit', cases: {1: approve, 2: reject, 3: b}}\n"
        "  - {id: b, kind: switch, value: '@limit', cases: {1: c}}\n  - {id: c, kind: switch, value: '@limit', cases: {1: b}}",
        "b",
        None,
        "steps b, c loop without ever reaching a `finish`",
    ),
    (
        "  - {id: a, kind: notify, webhook: 'https://h/x', subject: s, headers: {Authorization: Bearer abc}}",
        "a",
        None,
        "credential in clear",
    ),
    ("  - {id: a, kind: update_record, set: {status: done}}", "a", "set", "needs the workflow's `entity`"),
    ("  - {id: a, kind: run_flow, flow: nowhere.flow.yaml}", "a", "flow", "file not found"),
]


def write(tmp_path, steps: str, tail: str = GOOD_TAIL, head: str = "") -> str:
    path = tmp_path / "bad.workflow.yaml"
    path.write_text(
        f"workflow: bad\n{head}parameters:\n  limit: {{type: integer, default: 1}}\nsteps:\n{steps}{tail}"
    )
    return str(path)


@pytest.mark.parametrize(("steps", "step", "field", "message"), CASES)
def test_bad_files_name_step_and_field(tmp_path, steps, step, field, message):
    path = write(tmp_path, steps)
    with pytest.raises(WorkflowValidationError) as info:
        load_workflow(path)
    error = info.value
    assert message in str(error)
    assert error.file == path and error.step == step
    if field:
        assert error.field == field
    assert error.line and f", line {error.line}, step " in str(error)


def test_a_branch_that_does_not_end_in_finish(tmp_path):
    path = write(
        tmp_path,
        "  - {id: a, kind: if, condition: 'true', then: approve, else: tell}\n",
        tail=(
            "  - {id: approve, kind: finish}\n"
            "  - {id: tell, kind: notify, email: [x@example.com], subject: s}\n"
        ),
    )
    with pytest.raises(
        WorkflowValidationError, match="branch does not end in `finish`: 'tell' is the last step"
    ) as info:
        load_workflow(path)
    assert (info.value.step, info.value.field) == ("tell", "next")


def test_record_fields_and_flow_parameters_are_checked(tmp_path):
    (tmp_path / "purchase_models.py").write_text((EXAMPLES / "purchase_models.py").read_text())
    (tmp_path / "f.flow.yaml").write_text((EXAMPLES / "place_order.flow.yaml").read_text())
    head = "entity: purchase_models:Requisition\n"
    cases = [
        (
            "  - {id: a, kind: if, condition: 'amout > 1', then: approve, else: reject}",
            "condition",
            "'amout' is not a field of purchase_models:Requisition. Did you mean 'amount'?",
        ),
        ("  - {id: a, kind: update_record, set: {staus: x}}", "set.staus", "Did you mean 'status'?"),
        ("  - {id: a, kind: update_record, set: {id: 3}}", "set.id", "'id' is not a field of"),
        (
            "  - {id: a, kind: run_flow, flow: f.flow.yaml, parameters: {request: 1}}",
            "parameters.request",
            "has no parameter 'request'. Did you mean 'request_id'?",
        ),
        (
            "  - {id: a, kind: notify, email: ['${requestor}'], subject: s}",
            "email",
            "Did you mean 'requester'?",
        ),
    ]
    for steps, field, message in cases:
        with pytest.raises(
            WorkflowValidationError, match=message.replace("?", r"\?").replace("$", r"\$")
        ) as info:
            load_workflow(write(tmp_path, steps, head=head))
        assert (info.value.step, info.value.field) == ("a", field)
    with pytest.raises(WorkflowValidationError, match="unknown entity 'Nope'") as info:
        load_workflow(write(tmp_path, "  - {id: a, kind: finish}\n", tail="", head="entity: Nope\n"))
    assert info.value.field == "entity"


def test_cli_exits_2_with_the_field(tmp_path):
    steps = "  - id: a\n    kind: if\n    condition: x > 1\n    then: approve\n    else: rejct\n"
    path = write(tmp_path, steps)
    done = cli("workflows", "start", path, check=2)
    assert "step 'a', field 'else': unknown step 'rejct'. Did you mean 'reject'?" in done.stderr
    assert "workflow.yaml, line 9, step 'a'" in done.stderr and "Traceback" not in done.stderr


def test_json_schema_validates_the_example(capsys):
    import json

    import jsonschema
    import yaml

    from aqtra_nb.cli import main

    assert main(["workflows", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    document = yaml.safe_load((EXAMPLES / "purchase_request.workflow.yaml").read_text())
    jsonschema.validate(document, schema)
    document["steps"][0]["kind"] = "iff"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)
