"""App specs: located errors, reference checks, the JSON Schema, and the example app built from its file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from aqtra_nb import datasets
from aqtra_nb.cli import main
from aqtra_nb.ui import App, Chart, DataGrid, Metric
from aqtra_nb.ui.spec import AppSpecError, app_json_schema, load_app_spec, parse_app_spec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "notebooks" / "sales_dashboard.app.yaml"
FLOW = ROOT / "notebooks" / "flows" / "sales_dashboard.flow.yaml"


@pytest.fixture(scope="module")
def example_dir(tmp_path_factory) -> Path:
    """The example app and its flow as in the repository, with sample data in ../data."""
    root = tmp_path_factory.mktemp("app")
    (root / "flows").mkdir()
    shutil.copy(EXAMPLE, root)
    shutil.copy(FLOW, root / "flows")
    datasets.write_sales(root / "data", scale=0.002, formats="parquet")
    return root


def error(text: str, folder: Path) -> AppSpecError:
    with pytest.raises(AppSpecError) as info:
        parse_app_spec(text, source="my.app.yaml", folder=folder)
    return info.value


FLOWS = "app: t\nflows:\n  sales: {path: flows/sales_dashboard.flow.yaml}\ncomponents:\n"


@pytest.mark.parametrize(
    ("components", "field", "words"),
    [
        (
            "  c: {type: chart, step: kpis, x: a, y: b, colour: red}\n",
            "components.c.colour",
            ["unknown key", "line 5"],
        ),
        ("  c: {type: chrat, step: kpis}\n", "components.c", ["'chrat'", "'chart'"]),
        ("  c: {type: chart, step: kpis, x: a}\n", "components.c.y", ["required key is missing"]),
        (
            "  c: {type: chart, step: kpi, x: a, y: b}\n",
            "components.c.step",
            ["no step 'kpi'", "Did you mean 'kpis'"],
        ),
        (
            "  c: {type: metric, flow: sale, step: kpis, label: R, value: revenue}\n",
            "components.c.flow",
            ["'sales'"],
        ),
        (
            "  c: {type: metric, step: kpis, label: R, value: 'sum(revenue'}\n",
            "components.c.value",
            ["expression"],
        ),
        (
            "  g: {type: datagrid, step: net, filters: ['amount >']}\n",
            "components.g.filters.0",
            ["expression"],
        ),
        (
            "  g: {type: datagrid, step: net, page_size: 0}\n",
            "components.g.page_size",
            ["greater than or equal"],
        ),
        ("  f: {type: form, fields: [min_amont]}\n", "components.f.fields", ["Did you mean 'min_amount'"]),
        (
            "  b: {type: button, label: Go, action: {do: run_flow, form: filter}}\n  filters: {type: form}\n",
            "components.b.action.form",
            ["no form 'filter'", "'filters'"],
        ),
        (
            "  b: {type: button, label: Go, action: {do: refresh}}\n",
            "components.b.action.refresh",
            ["refresh needs"],
        ),
        (
            "  g: {type: datagrid, entity: NoSuchEntity}\n",
            "components.g.entity",
            ["unknown entity 'NoSuchEntity'"],
        ),
    ],
)
def test_component_errors_name_the_file_field_and_line(example_dir, components, field, words):
    exc = error(FLOWS + components, example_dir)
    assert exc.file == "my.app.yaml" and exc.field == field, str(exc)
    for word in words:
        assert word in str(exc)


@pytest.mark.parametrize(
    ("layout", "field", "words"),
    [
        ("layout: {type: page, children: [a, b]}\n", "layout.children.1", ["no component 'b'"]),
        ("layout: {type: page, children: [a, a]}\n", "layout.children.1", ["placed twice"]),
        (
            "layout: {type: grid, columns: 0, children: [a]}\n",
            "layout.columns",
            ["greater than or equal to 1"],
        ),
        ("layout:\n  type: tabs\n  tabs: {One: {type: panle}}\n", "layout.tabs.One", ["'panle'", "line 6"]),
        ("layout: {type: tabs}\n", "layout.tabs", ["required key is missing"]),
    ],
)
def test_layout_errors(example_dir, layout, field, words):
    exc = error("app: t\ncomponents:\n  a: {type: markdown, text: hi}\n" + layout, example_dir)
    assert exc.field == field, str(exc)
    for word in words:
        assert word in str(exc)


def test_file_level_errors(tmp_path):
    with pytest.raises(AppSpecError, match="app file not found"):
        load_app_spec(tmp_path / "missing.app.yaml")
    assert "not valid YAML" in str(error("app: [", tmp_path))
    assert "must be a mapping" in str(error("- a", tmp_path))
    exc = error("app: t\ntitel: x\n", tmp_path)
    assert exc.field == "titel" and "unknown key" in str(exc)
    exc = error("app: t\nflows: {s: {path: nowhere.flow.yaml}}\n", tmp_path)
    assert "flow file not found" in str(exc) and exc.field == "flows.s.path" and exc.file == "my.app.yaml"
    (tmp_path / "bad.flow.yaml").write_text("flow: b\nsteps:\n  - {id: x, component: read_csv, colour: 1}\n")
    with pytest.raises(Exception, match="bad.flow.yaml.*colour"):  # named by the flow file itself
        parse_app_spec("app: t\nflows: {s: {path: bad.flow.yaml}}\n", source="my.app.yaml", folder=tmp_path)


def test_unknown_flow_parameter_in_spec(example_dir):
    exc = error(
        "app: t\nflows:\n  s: {path: flows/sales_dashboard.flow.yaml, parameters: {regoin: North}}\n",
        example_dir,
    )
    assert exc.field == "flows.s.parameters.regoin" and "Did you mean 'region'" in str(exc)


def test_json_schema_accepts_the_example_and_rejects_mistakes():
    schema = app_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    document = yaml.safe_load(EXAMPLE.read_text())
    jsonschema.validate(document, schema)
    document["components"]["revenue"]["colour"] = "red"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)


def test_cli_prints_the_app_schema(capsys):
    assert main(["schema", "--app"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["title"] == "aqtra-nb app" and "AppSpec" not in printed.get("$defs", {})
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "aqtra-nb flow"


def test_the_example_app_builds_and_runs(example_dir):
    app = App.from_yaml(example_dir / "sales_dashboard.app.yaml", record=False)
    widgets = app.widgets
    assert isinstance(widgets["order_table"], DataGrid) and isinstance(widgets["by_region"], Chart)
    assert isinstance(widgets["revenue"], Metric)
    assert "aqtra-page" in app.view._dom_classes
    app.start()
    app.wait(60)
    assert app.runner.status == "succeeded", app.runner.error
    orders = int(widgets["orders"].number)
    assert orders == widgets["order_table"].total_rows == 2_000
    widgets["filters"].set_values({"region": "North", "status": "paid"})
    widgets["run"].press()
    app.wait(60)
    table = widgets["order_table"]
    assert set(table.data["region"]) == {"North"} and set(table.data["status"]) == {"paid"}
    assert widgets["region_table"].rows[0][0] == "North" and len(widgets["region_table"].rows) == 1
    assert widgets["orders"].number == table.total_rows < orders


def test_records_app_spec_saves_lists_and_starts_the_workflow(tmp_path):
    from aqtra_nb import workflows
    from aqtra_nb.ui import Button, Form

    source = ROOT / "notebooks" / "workflows"
    for name in (
        "requisitions.app.yaml",
        "purchase_models.py",
        "purchase_request.workflow.yaml",
        "place_order.flow.yaml",
    ):
        shutil.copy(source / name, tmp_path)
    app = App.from_yaml(tmp_path / "requisitions.app.yaml")
    form, grid = app.widgets["new"], app.widgets["requisitions"]
    save, approve = app.widgets["save"], app.widgets["approve"]
    assert isinstance(form, Form) and isinstance(save, Button) and "aqtra-save" in save.button._dom_classes
    assert list(form.inputs) == ["item", "amount", "requester", "department"]
    before = grid.total_rows

    form.set_values({"item": "Desk", "amount": "-", "requester": "ann@example.com"})
    assert save.press() is None and set(form.errors) == {"amount"}
    form.set_values({"amount": "900"})
    assert save.press().startswith("Saved Requisition #")
    assert grid.total_rows == before + 1  # refreshed after the save

    assert approve.press() is None and "Select a record in the list first" in approve.message.value
    grid.selection = [int(grid.data.index[grid.data["item"] == "Desk"][-1])]
    assert approve.press() == "Workflow purchase_request started (waiting)."  # 900 > 500: a manager decides
    assert workflows.instances(name="purchase_request")[0].status == "waiting"


def test_start_workflow_spec_errors(example_dir):
    exc = error(
        "app: t\ncomponents:\n  b: {type: button, label: Go, action: {do: start_workflow, workflow: nope.yaml}}\n",
        example_dir,
    )
    assert exc.field == "components.b.action.workflow" and "workflow file not found" in str(exc)


def test_the_example_app_makes_its_sample_data_on_first_use(tmp_path, monkeypatch):
    """A fresh clone has no notebooks/data: building the app from the repository's root makes it."""
    notebooks = tmp_path / "notebooks"
    (notebooks / "flows").mkdir(parents=True)
    shutil.copy(EXAMPLE, notebooks)
    shutil.copy(FLOW, notebooks / "flows")
    monkeypatch.chdir(tmp_path)
    app = App.from_yaml("notebooks/sales_dashboard.app.yaml", record=False)
    assert sorted(p.name for p in (notebooks / "data").iterdir()) == sorted(
        f"{t}.parquet" for t in datasets.TABLES
    )
    app.start()
    app.wait(60)
    assert app.runner.status == "succeeded", app.runner.error
    assert (
        int(app.widgets["orders"].number)
        == datasets.sizes(load_app_spec(EXAMPLE).sample_data.scale)["orders"]
    )


def test_sample_data_settings_are_checked(tmp_path):
    shutil.copytree(FLOW.parent, tmp_path / "flows")
    text = FLOWS.replace("components:\n", "sample_data: {formats: [xlsx]}\ncomponents:\n")
    assert error(text, tmp_path).field == "sample_data.formats.0"
