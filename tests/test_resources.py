"""Settings and resources: one settings object (config wins over the environment), resources made at an
edge and seen by the code under it (threads, Dask tasks, run processes), and the import boundaries that
keep inner modules from reaching up for them."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from traitlets.config import Config

from aqtra_nb import Flow, resources
from aqtra_nb.connections import ConnectionSpec, ConnectorError
from aqtra_nb.expr.parse import python_ast
from aqtra_nb.jobs import api as jobs
from aqtra_nb.resources import Resources, current, install, store_or_current, use
from aqtra_nb.settings import AqtraNb
from aqtra_nb.store import Store

PACKAGE = Path(__file__).parents[1] / "aqtra_nb"


@pytest.fixture
def two_stores(tmp_path: Path) -> tuple[Resources, Resources]:
    made = []
    for name in ("a", "b"):
        settings = AqtraNb(home=str(tmp_path / name), database_url=f"sqlite:///{tmp_path / name}.db")
        made.append(Resources(settings))
    return made[0], made[1]


@pytest.fixture
def flow_file(tmp_path: Path) -> Path:
    path = tmp_path / "regions.flow.yaml"
    path.write_text("flow: regions\nsteps:\n  - {id: rows, component: sample_data, with: {table: regions}}\n")
    return path


# -- settings --------------------------------------------------------------------------------------------


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AQTRA_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AQTRA_DATABASE_URL", raising=False)
    monkeypatch.setenv("AQTRA_SMTP_URL", "smtp://mail.example.com:25")
    monkeypatch.setenv("AQTRA_IN_MEMORY_BYTES", "1234")
    monkeypatch.setenv("AQTRA_LOG_LEVEL", "debug")
    settings = AqtraNb()
    assert settings.home_path == tmp_path / "home"
    assert settings.store_url == f"sqlite:///{tmp_path / 'home' / 'aqtra.db'}"
    assert settings.smtp_url == "smtp://mail.example.com:25"
    assert settings.in_memory_bytes == 1234
    assert settings.log_level == "DEBUG"
    monkeypatch.setenv("AQTRA_DATABASE_URL", "postgresql+psycopg://app@db/aqtra")
    assert AqtraNb().store_url == "postgresql+psycopg://app@db/aqtra"


def test_config_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("AQTRA_DATABASE_URL", "sqlite:///from-env.db")
    monkeypatch.setenv("AQTRA_SMTP_URL", "smtp://env.example.com")
    config = Config({"AqtraNb": {"database_url": "sqlite:///from-config.db", "run_workers": 5}})
    settings = AqtraNb(config=config)
    assert settings.store_url == "sqlite:///from-config.db"
    assert settings.run_workers == 5
    assert settings.smtp_url == "smtp://env.example.com"  # not configured: the environment's


def test_a_started_process_reads_back_the_settings_it_was_given(monkeypatch, tmp_path):
    config = Config(
        {"AqtraNb": {"home": str(tmp_path), "database_url": "sqlite:///c.db", "log_level": "INFO"}}
    )
    for name, value in AqtraNb(config=config).environment(smtp_url="smtp://mail").items():
        monkeypatch.setenv(name, value)
    child = AqtraNb()  # what a run process, a kernel or a CLI command started with that environment sees
    assert (child.home_path, child.store_url, child.log_level) == (tmp_path, "sqlite:///c.db", "INFO")
    assert child.smtp_url == "smtp://mail"


def test_run_processes_get_the_current_settings_and_the_runs_store(two_stores):
    from aqtra_nb.jobs.worker import child_environment

    a, _ = two_stores
    with use(a):
        env = child_environment()
        assert env["AQTRA_DATABASE_URL"] == a.settings.database_url
        assert env["AQTRA_HOME"] == a.settings.home
        assert child_environment("sqlite:///other.db")["AQTRA_DATABASE_URL"] == "sqlite:///other.db"


# -- resources -------------------------------------------------------------------------------------------


def test_use_switches_the_store_that_inner_code_sees(two_stores, flow_file):
    a, b = two_stores
    with use(a):
        jobs.schedule(flow_file, name="only_in_a")
        assert current() is a and store_or_current() is a.store
    with use(b):
        assert jobs.jobs() == []
    with use(a):
        assert [job.name for job in jobs.jobs()] == ["only_in_a"]
    assert [job.name for job in jobs.jobs(store=a)] == ["only_in_a"]  # resources passed down work too
    assert current() is not a  # outside the block: the environment's resources again


def test_without_an_edge_current_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AQTRA_DATABASE_URL", f"sqlite:///{tmp_path / 'one.db'}")
    first = current()
    assert current() is first  # made once
    monkeypatch.setenv("AQTRA_DATABASE_URL", f"sqlite:///{tmp_path / 'two.db'}")
    assert current().store_url.endswith("two.db")


def test_installed_resources_reach_threads_the_edge_did_not_start(monkeypatch, two_stores):
    a, _ = two_stores
    monkeypatch.setattr(resources, "_PROCESS", [])
    install(a)
    seen = []
    thread = threading.Thread(target=lambda: seen.append(current()))
    thread.start()
    thread.join()
    assert seen == [a]


def test_secrets_of_resources_use_the_key_in_their_home(monkeypatch, two_stores):
    monkeypatch.delenv("AQTRA_SECRET_KEY", raising=False)
    a, _ = two_stores
    a.secrets.set("RESOURCE_PW", "pw-in-a")
    assert (a.settings.home_path / "secret.key").exists()
    a.connections().add("with_secret", ConnectionSpec(kind="sql", url="sqlite:///${secret:RESOURCE_PW}.db"))
    assert a.connections().get("with_secret").resolved["url"] == "sqlite:///pw-in-a.db"


def test_dask_tasks_resolve_connections_from_the_current_store(two_stores, tmp_path):
    a, _ = two_stores
    data = tmp_path / "warehouse.db"
    engine = sa.create_engine(f"sqlite:///{data}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE things (id INTEGER, name TEXT)"))
        connection.execute(sa.text("INSERT INTO things VALUES (1, 'x'), (2, 'y'), (3, 'z')"))
    engine.dispose()
    a.connections().add("warehouse_r", ConnectionSpec(kind="sql", url=f"sqlite:///{data}"))
    flow = Flow("resources_sql")
    flow.read_sql("src", connection="warehouse_r", table="things", partition_on="id", partitions=3)
    with pytest.raises(ConnectorError, match="unknown connection 'warehouse_r'"):
        flow.run(record=False, progress=False)  # the environment's store has no such connection
    with use(a):
        result = flow.run(progress=False, mode="partitioned", scheduler="threads")
    assert sorted(result["src"]["name"]) == ["x", "y", "z"]
    assert a.store.runs(name="resources_sql", limit=1)[0].status == "succeeded"  # recorded in `a`


def test_cli_commands_use_their_own_resources_and_leave_none_behind(monkeypatch, tmp_path, capsys):
    from aqtra_nb.cli import main

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("AQTRA_DATABASE_URL", url)
    assert main(["runs", "list", "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    assert resources._CURRENT.get() is None
    assert Store(url).runs() == []


# -- boundaries ------------------------------------------------------------------------------------------

OUTER_MODULES = {"aqtra_nb", "aqtra_nb.runs", "aqtra_nb.flow"}
OUTER_PACKAGES = ("aqtra_nb.cli", "aqtra_nb.notebook", "aqtra_nb.ui", "aqtra_nb.publish", "aqtra_nb.server")
SETTINGS_VARIABLES = {
    "AQTRA_HOME",
    "AQTRA_DATABASE_URL",
    "AQTRA_SMTP_URL",
    "AQTRA_IN_MEMORY_BYTES",
    "AQTRA_CACHE_BYTES",
    "AQTRA_CACHE_MIN_SECONDS",
    "AQTRA_PARENT_RUN",
    "AQTRA_LOG_LEVEL",
    "AQTRA_CHROMIUM",
    "AQTRA_OPENLINEAGE",
}


def _modules() -> list[tuple[str, Path, ast.Module]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.append((".".join(parts), path, python_ast(path.read_text(encoding="utf-8"))))
    return found


def _outer(module: str) -> bool:
    return module in OUTER_MODULES or any(
        module == package or module.startswith(package + ".") for package in OUTER_PACKAGES
    )


def _imported(module: str, path: Path, node: ast.AST) -> list[str]:
    """The absolute module names an import statement names (`from .. import runs`: aqtra_nb.runs)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, *([node.module] if node.module else [])])
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def in_fresh_interpreter(check: str) -> None:
    """Run `check` of this module in a new Python: after the rest of the suite, CPython 3.11.7's
    `ast.parse` can fail with "AST constructor recursion depth mismatch" (its AST builder's recursion
    bookkeeping), and these checks parse every module of the package."""
    import subprocess
    import sys

    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import test_resources as t; t.{check}()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]


def test_no_inner_module_imports_the_outer_ring():
    in_fresh_interpreter("check_no_inner_module_imports_the_outer_ring")


def check_no_inner_module_imports_the_outer_ring() -> None:
    wrong = [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno} imports {name}"
        for module, path, tree in _modules()
        if not _outer(module)
        for node in ast.walk(tree)
        for name in _imported(module, path, node)
        if name != "aqtra_nb" and _outer(name)
    ]
    assert not wrong, "take resources from `resources.current()`, not the outer ring:\n" + "\n".join(wrong)


# What the inner rings may import of the package when they are imported (docs/architecture.md, "Dependencies
# point inwards"); `errors` is open to every module. Keys are modules or packages.
MODULE_LEVEL_ALLOWED: dict[str, set[str]] = {
    "aqtra_nb.errors": set(),
    "aqtra_nb.settings": set(),
    "aqtra_nb.private_files": set(),
    "aqtra_nb.chart_assets": set(),
    "aqtra_nb.spec": {"aqtra_nb.lru"},
    "aqtra_nb.expr": {"aqtra_nb.lazy"},
    "aqtra_nb.lazy": set(),
    "aqtra_nb.lru": set(),
    "aqtra_nb.resources": {"aqtra_nb.settings"},
}
# Never imported, not even inside a function: the engine stays pure (recording is a listener).
NEVER_IMPORTED = {"aqtra_nb.engine": {"aqtra_nb.store", "aqtra_nb.recording", "aqtra_nb.runs"}}


def _within(module: str, part: str) -> bool:
    return module == part or module.startswith(part + ".")


def _part(module: str, parts) -> str | None:
    """The key of `parts` (a module or package) that `module` belongs to, the most specific one."""
    found = [part for part in parts if _within(module, part)]
    return max(found, key=len) if found else None


def _module_level(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The import statements that run when the module is imported: not those inside functions, nor those
    under `if TYPE_CHECKING:` (lazy imports are deliberate: they keep start-up light)."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append(node)
            elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
            elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for block in ("body", "orelse", "finalbody"):
                    visit(getattr(node, block, []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(tree.body)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module → the package's modules it imports when it is imported (`from . import x` names module x;
    `from .store import Store` the package `store`). Parents a module is inside of are left out: Python
    imports them first, whatever the module says."""
    modules = _modules()
    names = {module for module, _, _ in modules}
    graph: dict[str, set[str]] = {}
    for module, path, tree in modules:
        targets = set()
        for node in _module_level(tree):
            base, *named = _imported(module, path, node)
            if isinstance(node, ast.Import):
                targets.update(name for name in (base, *named) if name in names)
                continue
            submodules = [name for name in named if name in names]
            targets.update(submodules or ([base] if base in names else []))
        graph[module] = {target for target in targets if target != module and not _within(module, target)}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    work.append((target, iter(sorted(graph.get(target, ())))))
                    break
                if target in stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
    return cycles


def test_the_import_graph_finds_a_cycle():
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_the_import_graph_skips_lazy_imports():
    tree = ast.parse(
        "import a\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import b\nelse:\n    import c\n"
        "try:\n    import d\nexcept ImportError:\n    import e\n"
        "def f():\n    import g\nclass C:\n    import h\n"
    )
    names = [alias.name for node in _module_level(tree) for alias in node.names]
    assert names == ["a", "TYPE_CHECKING", "c", "d", "e", "h"]


def test_modules_import_no_cycle_and_inwards_only():
    in_fresh_interpreter("check_modules_import_no_cycle_and_inwards_only")


def check_modules_import_no_cycle_and_inwards_only() -> None:
    graph = import_graph()
    cycles = import_cycles(graph)
    assert not cycles, "modules that import each other when imported:\n" + "\n".join(
        " <-> ".join(cycle) for cycle in cycles
    )
    outwards = [
        f"{module} imports {target}"
        for module, targets in graph.items()
        if (part := _part(module, MODULE_LEVEL_ALLOWED)) is not None
        for target in targets
        if not _within(target, part)
        and not _within(target, "aqtra_nb.errors")
        and not any(_within(target, allowed) for allowed in MODULE_LEVEL_ALLOWED[part])
    ]
    assert not outwards, "inner rings import only what docs/architecture.md says:\n" + "\n".join(outwards)
    never = [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno} imports {name}"
        for module, path, tree in _modules()
        if (part := _part(module, NEVER_IMPORTED)) is not None
        for node in ast.walk(tree)
        for name in _imported(module, path, node)
        if any(_within(name, banned) for banned in NEVER_IMPORTED[part])
    ]
    assert not never, "the engine stays pure (recording is an event listener):\n" + "\n".join(never)


def _environment_reads(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, variable) of every `os.environ[...]`, `os.environ.get(...)`, `os.getenv(...)` and
    `... in os.environ`, with module-level string constants followed."""
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name) and isinstance(node.value.value, str)
    }

    def value(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return constants.get(node.id) if isinstance(node, ast.Name) else None

    def is_environ(node: ast.AST) -> bool:
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
        return name == "environ"

    reads = []
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Subscript) and is_environ(node.value) and isinstance(node.ctx, ast.Load):
            key = node.slice
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            getter = node.func.attr in ("get", "setdefault") and is_environ(node.func.value)
            if getter or node.func.attr == "getenv":
                key = node.args[0]
        elif isinstance(node, ast.Compare) and any(is_environ(c) for c in node.comparators):
            key = node.left
        if key is not None and value(key) is not None:
            reads.append((node.lineno, value(key)))
    return reads


def test_settings_variables_are_read_in_settings_only():
    in_fresh_interpreter("check_settings_variables_are_read_in_settings_only")


def check_settings_variables_are_read_in_settings_only() -> None:
    reads = {module: _environment_reads(tree) for module, _, tree in _modules()}
    assert {name for _, name in reads["aqtra_nb.settings"]} == SETTINGS_VARIABLES  # the check sees them
    wrong = [
        f"{module}:{line} reads ${name}"
        for module, found in reads.items()
        if module != "aqtra_nb.settings"
        for line, name in found
        if name in SETTINGS_VARIABLES
    ]
    assert not wrong, "read settings from `AqtraNb` (or `resources.current().settings`):\n" + "\n".join(wrong)


def test_a_store_password_never_travels_with_entity_tasks():
    import pickle

    from aqtra_nb.components.entities import StoreHandle
    from aqtra_nb.errors import AqtraError

    store = Store("postgresql+psycopg://app:s3cret-pw@db.example/aqtra", upgrade=False)
    sent = pickle.dumps(StoreHandle(store))
    assert b"s3cret-pw" not in sent
    with use(Resources(store=store)):  # a worker whose own settings name the same database
        assert pickle.loads(sent).store is store
    with pytest.raises(AqtraError, match="set AQTRA_DATABASE_URL on the workers"):
        pickle.loads(sent).store  # noqa: B018 - this process's environment names another store
    store.close()
