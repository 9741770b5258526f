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

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from doc_pages import PAGES, ROOT, Block, blocks, setup_commands

#: the developer's settings a new user does not have
PRIVATE = ("AQTRA_", "JUPYTER", "OPENLINEAGE", "PYTHON", "VIRTUAL_ENV", "IPYTHONDIR")
COMMAND_TIMEOUT = 300
#: what the reader types when a command prompts (`aqtra-nb secrets set NAME`)
TYPED = "typed-at-the-prompt\n"
DONE = "@@ doc block done @@"

#: runs the page's Python blocks in one namespace: a JSON line per block on stdin, DONE ok|error after
DRIVER = f"""
import json, os, sys, traceback
namespace = {{"__name__": "__main__"}}
for line in sys.stdin:
    block = json.loads(line)
    os.chdir(block["cwd"])
    try:
        exec(compile(block["code"], block["where"], "exec"), namespace)
        status = "ok"
    except BaseException:
        traceback.print_exc()
        status = "error"
    sys.stdout.flush()
    sys.stderr.flush()
    print("\\n{DONE}", status, flush=True)
"""


def clean_clone(target: Path) -> Path:
    """The repository's files as a clone would have them, copied to `target`: tracked files and files
    not yet added (not ignored ones: no build output, caches or data), as they are in the working tree,
    so that Python started in the clone imports the same `aqtra_nb` as this venv's `aqtra-nb`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    for name in filter(None, listed.stdout.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def new_user_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(PRIVATE)}
    env |= {"HOME": str(folder / "user"), "AQTRA_HOME": str(folder / "aqtra-home"), "PYTHONUNBUFFERED": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    (folder / "user").mkdir(parents=True, exist_ok=True)
    return env


class WalkFailed(AssertionError):
    pass


@dataclass
class Walk:
    """One page's blocks run in order in `cwd`; `log` says what ran, what was skipped and why."""

    page: Path
    cwd: Path
    env: dict[str, str]
    log: list[str] = field(default_factory=list)
    _python: subprocess.Popen | None = None
    _output: queue.Queue | None = None

    def __post_init__(self) -> None:
        self._state = self.cwd.parent / "shell-state"  # the folder and variables a command leaves

    def run(self) -> list[str]:
        for block in blocks(self.page):
            if block.file:
                (self.cwd / block.file).write_text(block.text)
        for command in setup_commands(self.page):
            self._bash(command, f"{self.page.name} setup", command)
        found = blocks(self.page)
        last_shell = max((i for i, block in enumerate(found) if block.shell), default=-1)
        try:
            for block in found[: last_shell + 1]:
                if block.shell:
                    self._shell_block(block)
                elif block.lang == "python" and not block.fragment:
                    self._python_block(block)
        finally:
            if self._python:
                self._python.stdin.close()
                self._python.wait(timeout=60)
        return self.log

    # -- shell ------------------------------------------------------------------------------------------

    def _shell_block(self, block: Block) -> None:
        for command in block.commands():
            if mark := block.skipped(command):
                self.log.append(f"not run {command.line}: {command.code} ({mark.why}; {mark.test})")
                continue
            code = command.to_run
            if not code:
                self.log.append(f"installed already {command.line}: {command.code}")
                continue
            for name, source in block.placeholders().items():
                if re.search(rf"\b{name}\b", code):
                    value = self._bash(source, f"{self.page.name}:{command.line} {name}", source).strip()
                    if not value:
                        raise WalkFailed(f"{self.page.name}:{command.line}: `{source}` printed no {name}")
                    code = re.sub(rf"\b{name}\b", value, code)
            where = f"{self.page.name}:{command.line} (block at line {block.line})"
            started = time.perf_counter()
            output = self._bash(code, where, command.text)
            if command.prints and command.prints not in output:
                raise WalkFailed(f"{where}: `{command.text}` does not print {command.prints!r}:\n{output}")
            self.log.append(f"ran {command.line} in {time.perf_counter() - started:.1f} s: {code}")

    def _bash(self, code: str, where: str, written: str) -> str:
        """Run one command in the page's folder and environment; keep the folder and variables it leaves."""
        state = self._state
        script = f'{code}\npwd > "{state}.cwd"; env -0 > "{state}.env"\n'
        try:
            done = subprocess.run(
                ["bash", "-e", "-o", "pipefail", "-c", script],
                cwd=self.cwd,
                env=self.env,
                input=TYPED,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=COMMAND_TIMEOUT,
            )
        except subprocess.TimeoutExpired as timeout:
            message = f"{where}: `{written}` still running after {COMMAND_TIMEOUT} s:\n{timeout.output}"
            raise WalkFailed(message) from None
        if done.returncode != 0:
            raise WalkFailed(f"{where}: `{written}` exited {done.returncode}:\n{done.stdout[-6000:]}")
        self.cwd = Path(Path(f"{state}.cwd").read_text().strip())
        pairs = Path(f"{state}.env").read_text().split("\0")
        self.env = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
        return done.stdout

    # -- python -----------------------------------------------------------------------------------------

    def _python_block(self, block: Block) -> None:
        if self._python is None:
            self._python = subprocess.Popen(
                [sys.executable, "-c", DRIVER],
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            self._output = queue.Queue()
            threading.Thread(target=_lines, args=(self._python.stdout, self._output), daemon=True).start()
        started = time.perf_counter()
        message = {"code": block.text, "where": block.where, "cwd": str(self.cwd)}
        self._python.stdin.write(json.dumps(message) + "\n")
        self._python.stdin.flush()
        output = []
        while True:
            try:
                line = self._output.get(timeout=COMMAND_TIMEOUT)
            except queue.Empty:
                raise WalkFailed(
                    f"{block.where}: Python block still running after {COMMAND_TIMEOUT} s"
                ) from None
            if line is None or line.startswith(DONE):
                break
            output.append(line)
        if line is None or line.split()[-1] != "ok":
            raise WalkFailed(f"{block.where}: Python block failed:\n{''.join(output)[-6000:]}")
        self.log.append(f"ran {block.line} in {time.perf_counter() - started:.1f} s: python block")


def _lines(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


def walk(page: Path, folder: Path) -> list[str]:
    """Walk one page from a clean clone in `folder` (the clone in `folder/clone`)."""
    clone = clean_clone(folder / "clone")
    return Walk(page, clone, new_user_env(folder)).run()


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


def test_a_missing_printed_text_fails(tmp_path):
    page = _page(tmp_path, "```bash\necho added 2   # prints: added 1\n```\n")
    with pytest.raises(WalkFailed, match="does not print 'added 1'"):
        Walk(page, tmp_path / "clone", new_user_env(tmp_path)).run()


def test_the_readme_demo_runs_and_the_test_suite_is_marked(tmp_path):
    (first, *_) = [b for b in blocks(ROOT / "README.md") if b.shell]
    demo, suite = first.commands()
    assert demo.to_run == "aqtra-nb demo" and first.skipped(demo) is None
    assert first.skipped(suite) is not None
