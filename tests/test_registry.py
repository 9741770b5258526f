"""Components are found through the `aqtra_nb.components` entry-point group, built-ins and plug-ins alike."""

import sys
import textwrap
from typing import ClassVar

import pandas as pd
import pytest

from aqtra_nb import Flow
from aqtra_nb.components import Component, ComponentRegistry, Params, registry
from aqtra_nb.components.base import NoParams
from aqtra_nb.components.registry import ENTRY_POINT_GROUP
from aqtra_nb.errors import AqtraError, UnknownComponent

PLUGIN = '''
from pydantic import Field

from aqtra_nb.components import Component, Params, partitionwise


class AddConstantParams(Params):
    column: str = Field(description="New column name.")
    value: float = Field(1.0, description="The constant.")


class AddConstant(Component[AddConstantParams]):
    """Add a constant column (a third-party plug-in)."""

    name = "add_constant"

    def transform(self, inputs):
        return partitionwise(self.ctx, inputs[0], _add, self.params.column, self.params.value)


def _add(frame, column, value):
    return frame.assign(**{column: value})
'''


@pytest.fixture
def plugin_installed(tmp_path, monkeypatch):
    """A tiny package with installed metadata (a .dist-info) declaring the entry point, on sys.path."""
    (tmp_path / "aqtra_plugin_demo").mkdir()
    (tmp_path / "aqtra_plugin_demo" / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    info = tmp_path / "aqtra_plugin_demo-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: aqtra-plugin-demo\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nadd_constant = aqtra_plugin_demo:AddConstant\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.reload()
    yield
    monkeypatch.delitem(sys.modules, "aqtra_plugin_demo", raising=False)
    monkeypatch.undo()
    registry.reload()


def test_builtins_come_from_the_entry_point():
    fresh = ComponentRegistry()
    expected = """read_csv read_parquet read_json read_excel from_frame empty sample_data select derive filter join
    lookup aggregate sort limit distinct union pivot unpivot explode fill_missing cast window script write_csv
    write_parquet to_frame read_sql write_sql read_model lookup_reference load_references write_model
    http_get http_post import_file export_file""".split()
    assert sorted(fresh.names()) == sorted(expected)


def test_third_party_component_is_picked_up(plugin_installed):
    assert "add_constant" in registry
    f = Flow("p")
    f.from_frame("src", pd.DataFrame({"x": [1, 2]})).add_constant("c", column="k", value=2.5)
    assert list(f.run(progress=False)["c"]["k"]) == [2.5, 2.5]
    with pytest.raises(AqtraError, match="unknown parameter 'colum'.*Did you mean 'column'"):
        f.step("src").add_constant("d", colum="k")


def test_the_params_model_is_the_type_argument():
    class Offset(Params):
        by: int = 1

    class Shift(Component[Offset]):
        name = "shift"

    class LaterShift(Shift):
        name = "later_shift"

    class Untyped(Component):  # a plug-in written before components were generic
        name = "untyped"
        Params: ClassVar = Offset

    assert Shift.Params is Offset and LaterShift.Params is Offset and Untyped.Params is Offset
    assert Component.Params is NoParams


def test_unknown_component_suggests_close_names():
    with pytest.raises(UnknownComponent, match=r"unknown component 'agregate'\. Did you mean 'aggregate'\?"):
        registry.get("agregate")


def test_duplicate_names_are_refused():
    fresh = ComponentRegistry()
    existing = fresh.get("filter")

    class Other(existing):
        name = "filter"

    with pytest.raises(AqtraError, match="already registered"):
        fresh.register(Other)
