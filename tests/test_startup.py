"""Start-up of the everyday commands: `validate` of a CSV flow imports no store, no Jupyter and no notebook
runner; looking a component up loads only its group's module (#16, #18)."""

import json
import subprocess
import sys
from importlib.metadata import entry_points

from aqtra_nb.components import ComponentRegistry
from aqtra_nb.components.library import BUILTINS
from aqtra_nb.components.registry import ENTRY_POINT_GROUP

HEAVY = [
    "sqlalchemy",
    "alembic",
    "aqtra_nb.store",
    "aqtra_nb.store.models",
    "aqtra_nb.entities.model",
    "papermill",
    "nbformat",
    "ipywidgets",
    "voila",
    "jupyter_server",
    "tornado",
]

FLOW = """\
flow: small
steps:
  - id: orders
    component: read_csv
    with: {path: data.csv}
  - id: big
    component: filter
    input: orders
    with: {condition: "amount > 6"}
  - id: totals
    component: derive
    input: big
    with: {columns: {value: "amount * qty"}}
"""


def loaded_after(code: str, cwd) -> dict:
    """Run `code` in a fresh interpreter; the modules of `HEAVY` it left in `sys.modules`, and its output."""
    script = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    *output, loaded = done.stdout.splitlines()
    return {"loaded": json.loads(loaded), "output": "\n".join(output)}


def test_validate_of_a_csv_flow_imports_no_store_and_no_jupyter(tmp_path):
    (tmp_path / "data.csv").write_text("region,amount,qty\nnorth,10.5,2\nsouth,5.0,3\n")
    (tmp_path / "small.flow.yaml").write_text(FLOW)
    found = loaded_after(
        "from aqtra_nb.cli import main\nassert main(['validate', 'small.flow.yaml']) == 0", tmp_path
    )
    assert "ok: 3 steps" in found["output"]
    assert found["loaded"] == []


def test_an_unrecorded_run_imports_no_store_and_no_distributed(tmp_path):
    """`distributed` is imported by Dask when it is given a scheduler by name (0.2 s): we give it the
    function; the store only when the run is recorded."""
    (tmp_path / "data.csv").write_text("region,amount,qty\nnorth,10.5,2\nsouth,5.0,3\n")
    (tmp_path / "small.flow.yaml").write_text(FLOW)
    code = (
        "import sys\nfrom aqtra_nb.cli import main\n"
        "for mode in ('in_memory', 'partitioned'):\n"
        "    assert main(['run', '--no-progress', '--no-record', '--no-cache', '--mode', mode, "
        "'small.flow.yaml']) == 0\n"
        "print('distributed' in sys.modules)"
    )
    found = loaded_after(code, tmp_path)
    assert found["output"].endswith("False")
    assert found["loaded"] == []


def test_help_imports_no_store(tmp_path):
    code = "from aqtra_nb.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    found = loaded_after(code, tmp_path)
    assert "records" in found["output"] and "workflows" in found["output"]
    assert found["loaded"] == []


def test_import_aqtra_nb_loads_neither_pandas_nor_ipython(tmp_path):
    code = "import sys, aqtra_nb\nprint([m for m in ('pandas', 'IPython', 'dask') if m in sys.modules])"
    assert loaded_after(code, tmp_path)["output"] == "[]"


def test_looking_a_component_up_loads_only_its_group(tmp_path):
    code = (
        "import sys\nfrom aqtra_nb.components import registry\nregistry.get('read_csv')\n"
        "print(sorted(m for m in sys.modules if m.startswith('aqtra_nb.components.')))"
    )
    loaded = loaded_after(code, tmp_path)["output"]
    assert "aqtra_nb.components.inputs" in loaded
    for group in ("sql", "http", "files", "entities", "relational", "library"):
        assert f"aqtra_nb.components.{group}'" not in loaded


def test_every_builtin_has_its_own_entry_point():
    """The entry points (pyproject.toml) name exactly the library's classes, each under its own name."""
    builtin = {
        ep.name: ep.value
        for ep in entry_points(group=ENTRY_POINT_GROUP)
        if ep.value.startswith("aqtra_nb.components.")
    }
    assert builtin == {c.name: f"{c.__module__}:{c.__qualname__}" for c in BUILTINS}


def test_without_installed_metadata_the_library_is_loaded(monkeypatch):
    module = sys.modules[ComponentRegistry.__module__]  # the package's `registry` is the instance
    monkeypatch.setattr(module, "entry_points", lambda group: [])
    fresh = ComponentRegistry()
    assert fresh.get("read_csv").name == "read_csv"
    assert fresh.names() == sorted(c.name for c in BUILTINS)


def test_a_store_at_the_heads_opens_without_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'aqtra.db'}"
    code = f"from aqtra_nb.store import Store\nStore({url!r}).close()"
    assert "alembic" in loaded_after(code, tmp_path)["loaded"]  # a new database is migrated
    assert "alembic" not in loaded_after(code, tmp_path)["loaded"]  # then it is at the heads


def test_the_heads_read_from_the_migration_files_are_alembics():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from aqtra_nb.store.database import MIGRATIONS, _heads

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert _heads() == set(ScriptDirectory.from_config(config).get_heads())


def test_an_in_memory_run_of_a_small_csv_imports_no_dask_dataframe(tmp_path):
    """Dask's dataframe module takes 0.3 s to import: one small local CSV is read by pandas alone, as Dask
    would read it (`tests/components/test_csv_one_block.py`), and in-memory steps run on pandas frames."""
    (tmp_path / "data.csv").write_text("region,amount,qty\nnorth,10.5,2\nsouth,5.0,3\n")
    (tmp_path / "small.flow.yaml").write_text(FLOW)
    code = (
        "import os, sys\nos.environ['AQTRA_HOME'] = 'home'\nfrom aqtra_nb.cli import main\n"
        "assert main(['validate', 'small.flow.yaml']) == 0\n"
        "assert main(['run', '--no-progress', '--mode', 'in_memory', 'small.flow.yaml']) == 0\n"
        "print('dask.dataframe' in sys.modules)"
    )
    found = loaded_after(code, tmp_path)
    assert "totals" in found["output"] and found["output"].endswith("False")
