"""Every code block of README.md and docs/*.md is checked as written (#18).

Python blocks run, in order, one fresh process per page, in an empty temporary folder with a new user's
environment (temporary HOME and AQTRA_HOME; tests/doc_walk.py). Every block is checked for syntax in its language: Python by `ast.parse`, YAML by a YAML
parser, JSON and TOML by their parsers, shell blocks command by command by `bash -n` (with their marks:
tests/doc_pages.py). Shell commands run in tests/test_docs_walkthrough.py, in order with the Python,
from a clean clone. The marks (`fragment`, `file`, `doc-test setup`) are described in tests/doc_pages.py.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from doc_pages import PAGES, ROOT, Block, all_blocks, blocks, check_shell
from doc_walk import Walk, new_user_env

#: pages whose Python starts a notebook job's process or runs every widget (also run by their own tests)
SLOW = {"jobs.md", "ui.md"}


# -- syntax ---------------------------------------------------------------------------------------------


def check_syntax(block: Block) -> None:
    lang = block.lang.lower()
    if lang == "python":
        ast.parse(block.text, filename=block.where)
    elif lang in ("yaml", "yml"):
        list(yaml.safe_load_all(block.text))
    elif block.shell:
        check_shell(block)
    elif lang == "json":
        json.loads(block.text)
    elif lang == "toml":
        tomllib.loads(block.text)
    else:
        assert lang in ("", "text"), f"{block.where}: no syntax check for ```{block.lang}"


@pytest.mark.parametrize("block", all_blocks(), ids=lambda b: b.where)
def test_every_block_parses(block):
    check_syntax(block)


def test_blocks_are_found_with_their_marks():
    found = all_blocks()
    assert len(found) > 60 and {b.lang for b in found} >= {"python", "yaml", "bash", "json", "toml"}
    assert any(b.fragment and b.lang == "python" for b in found)
    assert [b.file for b in blocks(ROOT / "docs" / "flows.md") if b.file] == ["sales_report.flow.yaml"]


# -- running --------------------------------------------------------------------------------------------


@functools.cache
def run_page(name: str, folder: Path) -> Walk:
    """The page's Python blocks, in order, in one process in an empty folder (cached per page)."""
    page = ROOT / name if name == "README.md" else ROOT / "docs" / name
    work = folder / "work"
    work.mkdir(parents=True)
    walk = Walk(page, work, new_user_env(folder), shell=False)
    walk.run()
    return walk


@pytest.fixture(scope="session")
def doc_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("docs")


def runnable_pages() -> list:
    pages = []
    for page in PAGES:
        if any(b.lang == "python" and not b.fragment for b in blocks(page)):
            marks = [pytest.mark.slow] if page.name in SLOW else []
            pages.append(pytest.param(page.name, marks=marks, id=page.name))
    return pages


@pytest.mark.parametrize("name", runnable_pages())
def test_python_blocks_run_as_written(name, doc_folder):
    walk = run_page(name, doc_folder / name)  # a block that fails raises WalkFailed with its traceback
    assert "Traceback" not in walk.errors


def test_data_doc_prints_what_it_says(doc_folder):
    """docs/data.md (SQLite in a temporary folder): the plan shows the pushdown, the upsert wrote."""
    out = "".join(run_page("data.md", doc_folder / "data.md").printed)
    assert "filter pushed into reader: amount >= 200.0 and status in ('paid', 'shipped')" in out
    assert "reads only: region, status, amount" in out
    assert "regions written" in out


def test_cache_doc_prints_what_it_says(doc_folder):
    block = next(b for b in blocks(ROOT / "docs" / "cache.md") if b.lang == "python")
    expected = re.search(r"# (\{'orders'.*\})", block.text).group(1)
    assert "".join(run_page("cache.md", doc_folder / "cache.md").printed).strip() == expected


def test_expressions_doc_prints_what_it_says(doc_folder):
    out = "".join(run_page("expressions.md", doc_folder / "expressions.md").printed)
    assert "['amount', 'status'] ['min_amount']" in out
    assert "[True, False, False]" in out and "('sum', 'amount * (1 - discount)')" in out


# -- other checks of the pages --------------------------------------------------------------------------


def test_component_reference_is_current():
    spec = importlib.util.spec_from_file_location("gen_components", ROOT / "docs" / "gen_components.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (ROOT / "docs" / "flows.md").read_text()
    assert text.endswith(module.reference()), "docs/flows.md is stale: run python docs/gen_components.py"


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "pip install -e . && aqtra-nb demo" in readme
    assert 'pip install -e ".[test]" && python -m pytest' in readme
    assert 'pip install -e ".[test]" && python -m pytest' in (ROOT / ".ci" / "run").read_text()
