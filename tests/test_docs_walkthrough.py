"""README.md and docs/*.md walked through as a new user would, from a clean clone (#18).

For each page with shell commands (README.md first), the repository's files (`git ls-files`: tracked
and not yet added, never ignored ones) are copied to a temporary folder, and the page's code blocks run there in order, as written:

- Shell commands (```bash, ```sh, ```console) one at a time, each in `bash -e -o pipefail`, from the
  page's current folder: a `cd` or `export` carries over to the page's next commands. A command that
  fails stops the walk with the page, the line, the command and its output. A command commented
  `# prints: TEXT` must print TEXT. A command that prompts reads a line the reader would type.
- Python blocks (not marked `fragment`) in one Python process per page, in the page's current folder, so
  a flow file the quick start saves is there for the `aqtra-nb run` after it. Python blocks after the
  page's last shell command change nothing the walk checks: tests/test_docs.py runs them.
- The environment is a new user's: HOME and AQTRA_HOME are temporary folders, PATH starts with this
  venv's `bin` (its `aqtra-nb` and `python`), and none of the developer's AQTRA_*, JUPYTER_* or
  OPENLINEAGE_* variables are passed on.
- Installing is taken as done: `pip install ...` is left out of a command (`pip install -e . && aqtra-nb
  demo` runs `aqtra-nb demo`; a command that only installs is skipped). The package is not installed
  again per page.
- A command that cannot run to completion here (a server, a cluster, Node, the network) is marked on the
  page with `<!-- shell: not run `COMMAND`: why; tests/FILE.py::TEST -->` naming the test that covers it
  (tests/test_docs.py checks the test exists); a value the reader fills in (a run id) with `<!-- shell:
  RUN_ID = COMMAND -->`. The marks are described in tests/doc_pages.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from doc_pages import PAGES, ROOT, blocks
from doc_walk import Walk, WalkFailed, new_user_env, walk


def pages_with_commands() -> list[str]:
    """Pages with a shell command that runs here (docs/api.md's all need a server: its own test runs them)."""
    return [
        page.name
        for page in PAGES
        if any(
            not block.skipped(command)
            for block in blocks(page)
            if block.shell
            for command in block.commands()
        )
    ]


@pytest.mark.slow
@pytest.mark.parametrize("name", pages_with_commands())
def test_page_walks_through_from_a_clean_clone(name, tmp_path):
    page = ROOT / name if name == "README.md" else ROOT / "docs" / name
    log = walk(page, tmp_path)
    assert any(line.startswith("ran ") for line in log), log


# -- the rules, on small pages --------------------------------------------------------------------------


def _page(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(text)
    (tmp_path / "clone").mkdir()
    return page


def test_folders_and_variables_carry_over_and_python_runs_between(tmp_path):
    page = _page(
        tmp_path,
        "```bash\nmkdir -p sub && cd sub\nexport GREETING=hello\n```\n\n"
        "```python\nimport os\nopen('from_python.txt', 'w').write(os.getcwd())\n```\n\n"
        '```bash\necho "$GREETING $HOME" > said.txt\ncat from_python.txt\n```\n',
    )
    Walk(page, tmp_path / "clone", new_user_env(tmp_path)).run()
    sub = tmp_path / "clone" / "sub"
    assert (sub / "said.txt").read_text() == f"hello {tmp_path / 'user'}\n"
    assert (sub / "from_python.txt").read_text() == str(sub)


def test_a_failing_command_names_the_page_line_command_and_output(tmp_path):
    page = _page(tmp_path, "Text\n\n```bash\necho first\nls no-such-file   # a comment\necho never\n```\n")
    with pytest.raises(WalkFailed) as failed:
        Walk(page, tmp_path / "clone", new_user_env(tmp_path)).run()
    message = str(failed.value)
    assert message.startswith("page.md:5 (block at line 3): `ls no-such-file   # a comment` exited 2")
    assert "no-such-file" in message.splitlines()[1]


def test_installs_are_skipped_marked_commands_not_run_and_placeholders_filled(tmp_path):
    page = _page(
        tmp_path,
        "<!-- shell: not run `sleep 600`: a server; tests/test_docs.py::test_every_block_parses -->\n"
        "<!-- shell: THING_ID = echo 42 -->\n"
        "```bash\npip install -e . && echo installed > done.txt\npip install nothing\nsleep 600\n"
        "echo THING_ID > id.txt\n```\n",
    )
    log = Walk(page, tmp_path / "clone", new_user_env(tmp_path)).run()
    assert (tmp_path / "clone" / "done.txt").read_text() == "installed\n"
    assert (tmp_path / "clone" / "id.txt").read_text() == "42\n"
    assert [line.split(" ")[0] for line in log] == ["ran", "installed", "not", "ran"]


def test_a_command_not_run_must_name_a_test_that_exists(tmp_path):
    page = _page(
        tmp_path,
        "<!-- shell: not run `sleep 600`: a server; tests/test_docs.py::no_such_test -->\n"
        "```bash\nsleep 600\n```\n",
    )
    with pytest.raises(WalkFailed, match="tests/test_docs.py::no_such_test does not run it"):
        Walk(page, tmp_path / "clone", new_user_env(tmp_path)).run()


def test_console_blocks_run_the_lines_after_a_prompt(tmp_path):
    page = _page(tmp_path, "```console\n$ echo hi > said.txt\nhi\n$ cat said.txt \\\n    said.txt\n```\n")
    (block,) = blocks(page)
    assert [(c.line, c.code) for c in block.commands()] == [
        (2, "echo hi > said.txt"),
        (4, "cat said.txt      said.txt"),
    ]
    log = Walk(page, tmp_path / "clone", new_user_env(tmp_path)).run()
    assert len(log) == 2 and (tmp_path / "clone" / "said.txt").read_text() == "hi\n"


def test_a_missing_printed_text_fails(tmp_path):
    page = _page(tmp_path, "```bash\necho added 2   # prints: added 1\n```\n")
    with pytest.raises(WalkFailed, match="does not print 'added 1'"):
        Walk(page, tmp_path / "clone", new_user_env(tmp_path)).run()


def test_the_readme_demo_runs_and_the_test_suite_is_marked(tmp_path):
    (first, *_) = [b for b in blocks(ROOT / "README.md") if b.shell]
    demo, suite = first.commands()
    assert demo.to_run == "aqtra-nb demo" and first.skipped(demo) is None
    assert first.skipped(suite) is not None


def test_a_failing_python_block_shows_what_it_printed_and_its_traceback(tmp_path):
    page = _page(tmp_path, "```python\nprint('before')\n1 / 0\n```\n")
    with pytest.raises(WalkFailed) as failed:
        Walk(page, tmp_path / "clone", new_user_env(tmp_path), shell=False).run()
    message = str(failed.value)
    assert message.startswith("page.md:1: Python block failed:\nbefore\n")
    assert 'File "page.md:1", line 2' in message and "ZeroDivisionError" in message
