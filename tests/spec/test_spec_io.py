"""Flow files: load, dump, round trips, and errors that name the file, line, step and field."""

import json

import pytest

from aqtra_nb import Flow
from aqtra_nb.errors import FlowValidationError, ParameterError
from aqtra_nb.spec import dump_flow, load_flow, parse_assignments, parse_flow, resolve_parameters
from aqtra_nb.spec.models import ParameterSpec

FLOW = """\
flow: demo
description: a demo
parameters:
  min_amount: {type: number, default: 100}
  day: {type: date, default: "2024-01-31"}
steps:
  - id: orders
    component: sample_data
    with: {table: orders, scale: 0.001}
  - id: big
    component: filter
    input: orders
    with: {condition: "amount >= @min_amount"}
"""


def test_yaml_and_json_round_trip(tmp_path):
    spec = parse_flow(FLOW)
    yaml_path, json_path = tmp_path / "a.flow.yaml", tmp_path / "a.flow.json"
    dump_flow(spec, yaml_path)
    dump_flow(spec, json_path)
    assert load_flow(yaml_path) == spec
    assert load_flow(json_path) == spec
    assert json.loads(json_path.read_text())["steps"][1]["with"] == {"condition": "amount >= @min_amount"}


def test_builder_and_file_are_the_same_object(tmp_path):
    f = Flow("demo", parameters={"min_amount": 100.0})
    orders = f.sample_data("orders", table="orders", scale=0.001)
    orders.filter("big", condition="amount >= @min_amount")
    path = f.save(tmp_path / "demo.flow.yaml")
    loaded = Flow.load(path)
    assert loaded.spec == f.spec
    assert loaded.to_yaml() == f.to_yaml()


def test_yaml_on_key_stays_a_string():
    spec = parse_flow("flow: x\nsteps:\n  - {id: a, component: join, inputs: [b, c], with: {on: key}}\n")
    assert spec.steps[0].with_ == {"on": "key"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("flow: [unclosed\n", "line 2: not valid YAML at column 1"),
        ("- just a list\n", "must be a mapping"),
        ("flow: x\nstepz: []\n", "field 'stepz': unknown key"),
        (
            "flow: x\nsteps:\n  - {component: filter}\n",
            "f.flow.yaml, line 3, field 'steps.0.id': required key is missing",
        ),
        (
            "flow: x\nsteps:\n  - id: a\n    component: filter\n    with: {}\n    inptu: b\n",
            "line 6, step 'a', field 'inptu': unknown key; remove it or check its spelling. Did you mean 'input' or 'inputs'?",
        ),
        ("flow: x\nsteps:\n  - {id: 'bad id', component: filter}\n", "must start with a letter"),
        ("flow: x\nparameters:\n  n: {type: float}\n", "field 'parameters.n.type'"),
    ],
)
def test_document_errors_are_located(text, expected):
    with pytest.raises(FlowValidationError) as info:
        parse_flow(text, source="f.flow.yaml")
    message = str(info.value)
    assert message.startswith("f.flow.yaml")
    assert expected in message
    if "line " in message:  # the line is the error's own field, shown once in its location
        assert f"line {info.value.line}" in message and message.count("line ") == 1


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FlowValidationError, match="flow file not found"):
        load_flow(tmp_path / "nope.flow.yaml")


def test_parameters_are_typed_and_misspellings_fail_loudly():
    specs = {
        "min_amount": ParameterSpec(type="number", default=100),
        "day": ParameterSpec(type="date", default="2024-01-31"),
        "flag": ParameterSpec(type="boolean", default=False),
        "n": ParameterSpec(type="integer", default=3),
        "regions": ParameterSpec(type="list", default=["North"]),
    }
    values = resolve_parameters(
        specs, parse_assignments(["min_amount=50", "flag=yes", "regions=North,South"])
    )
    assert values["min_amount"] == 50.0 and isinstance(values["min_amount"], float)
    assert values["flag"] is True
    assert values["regions"] == ["North", "South"]
    assert str(values["day"]) == "2024-01-31"
    with pytest.raises(ParameterError, match=r"unknown parameter 'min_amout'\. Did you mean 'min_amount'\?"):
        resolve_parameters(specs, {"min_amout": 1})
    with pytest.raises(ParameterError, match="parameter 'n' expects an integer, got 'x'"):
        resolve_parameters(specs, {"n": "x"})
    with pytest.raises(ParameterError, match="expects a date"):
        resolve_parameters(specs, {"day": "31/01/2024"})
    with pytest.raises(ParameterError, match="has no default and was not given"):
        resolve_parameters({"x": ParameterSpec(type="string")}, {})
    with pytest.raises(ParameterError, match="NAME=VALUE"):
        parse_assignments(["novalue"])


def test_choices_are_enforced():
    spec = {"mode": ParameterSpec(type="string", default="a", choices=["a", "b"])}
    assert resolve_parameters(spec, {"mode": "b"}) == {"mode": "b"}
    with pytest.raises(ParameterError, match="must be one of"):
        resolve_parameters(spec, {"mode": "c"})


def test_relative_paths_stay_relative_to_the_flow_file_after_chdir(tmp_path, monkeypatch):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "data.csv").write_text("x\n1\n2\n")
    (folder / "f.flow.yaml").write_text(
        "flow: f\nsteps:\n  - {id: src, component: read_csv, with: {path: data.csv}}\n"
    )
    monkeypatch.chdir(folder)
    flow = Flow.load("f.flow.yaml")
    monkeypatch.chdir(tmp_path)
    assert list(flow.run(progress=False)["src"].x) == [1, 2]


def test_a_text_parsed_again_gives_a_fresh_equal_document():
    """Parsed texts are kept (the editor validates on every keystroke), never shared between callers."""
    import datetime as dt

    from aqtra_nb.errors import FlowValidationError
    from aqtra_nb.spec.io import parse_yaml

    text = "flow: t\nsteps:\n  - {id: a, component: read_csv, with: {path: a.csv, n: [1, 2.5, true]}}\n"
    first = parse_yaml(text, source=None, error=FlowValidationError)
    first["steps"][0]["with"]["n"].append("changed")
    second = parse_yaml(text, source=None, error=FlowValidationError)
    assert second["steps"][0]["with"] == {"path": "a.csv", "n": [1, 2.5, True]}
    assert type(second["steps"][0]["with"]["n"][0]) is int
    dated = "when: 2026-12-03\n1: one\n"  # a date and an integer key: not JSON, still parsed right
    assert parse_yaml(dated, source=None, error=FlowValidationError) == {
        "when": dt.date(2026, 12, 3),
        1: "one",
    }
    assert parse_yaml(dated, source=None, error=FlowValidationError) == {
        "when": dt.date(2026, 12, 3),
        1: "one",
    }


def test_parameters_as_a_json_schema_form():
    """The run form of a flow: each parameter's type, default, choices and description; required ones."""
    import jsonschema

    from aqtra_nb.spec.params import parameters_json_schema

    spec = parse_flow(FLOW)
    schema = parameters_json_schema(spec.parameters)
    assert schema["properties"]["min_amount"] == {"title": "min_amount", "type": "number", "default": 100}
    assert (
        schema["properties"]["day"]["format"] == "date"
        and schema["properties"]["day"]["default"] == "2024-01-31"
    )
    assert schema["required"] == []
    picky = parse_flow(
        "flow: p\nparameters:\n  region: {type: string, choices: [N, S], description: where}\n"
        "  tags: {type: list, default: [a]}\nsteps:\n  - {id: a, component: sample_data}\n"
    )
    form = parameters_json_schema(picky.parameters)
    assert form["required"] == ["region"] and form["properties"]["region"]["enum"] == ["N", "S"]
    assert form["properties"]["tags"] == {
        "title": "tags",
        "type": "array",
        "items": {"type": "string"},
        "default": ["a"],
    }
    jsonschema.validate({"region": "N"}, form)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"region": "West"}, form)
