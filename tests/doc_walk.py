"""Running a page of README.md or docs/*.md as a reader would: its Python blocks in one process, its shell
commands one by one (tests/test_docs_walkthrough.py says the rules), in a clean clone or an empty folder."""

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

from doc_pages import ROOT, Block, blocks, covered, setup_commands

#: the developer's settings a new user does not have
PRIVATE = ("AQTRA_", "JUPYTER", "OPENLINEAGE", "PYTHON", "VIRTUAL_ENV", "IPYTHONDIR")
#: facts about the machine, kept: where its Chromium is (`publish --export`)
MACHINE = ("AQTRA_CHROMIUM",)
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
    sys.stderr.flush()
    print(flush=True)
    print("{DONE}", status, flush=True)
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
    """This machine's environment as a new user has it: no settings of the developer's, a home of its own."""
    env = {k: v for k, v in os.environ.items() if k in MACHINE or not k.startswith(PRIVATE)}
    env |= {"HOME": str(folder / "user"), "AQTRA_HOME": str(folder / "aqtra-home"), "PYTHONUNBUFFERED": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    (folder / "user").mkdir(parents=True, exist_ok=True)
    return env


class WalkFailed(AssertionError):
    pass


@dataclass
class Walk:
    """One page's blocks run in order in `cwd`; `log` says what ran, what was skipped and why, `printed`
    what the Python blocks printed (their stderr goes to `errors`). With `shell=False` only the Python
    blocks run (all of them), as tests/test_docs.py runs them."""

    page: Path
    cwd: Path
    env: dict[str, str]
    shell: bool = True
    log: list[str] = field(default_factory=list)
    printed: list[str] = field(default_factory=list)
    _python: subprocess.Popen | None = None
    _output: queue.Queue | None = None

    def __post_init__(self) -> None:
        scratch = self.cwd.parent
        self._state = scratch / "shell-state"  # the folder and variables a command leaves
        self._stderr = scratch / "python-stderr.txt"

    @property
    def errors(self) -> str:
        return self._stderr.read_text() if self._stderr.exists() else ""

    def run(self) -> list[str]:
        for block in blocks(self.page):
            if block.file:
                (self.cwd / block.file).write_text(block.text)
        for command in setup_commands(self.page):
            self._bash(command, f"{self.page.name} setup", command)
        found = blocks(self.page)
        if self.shell:  # Python after the last command changes nothing the walk checks
            found = found[: 1 + max((i for i, block in enumerate(found) if block.shell), default=-1)]
        try:
            for block in found:
                if block.shell and self.shell:
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
                if not covered(mark):
                    raise WalkFailed(
                        f"{block.where}: `{command.code}` is not run, and {mark.test} does not run it"
                    )
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
            with self._stderr.open("w") as stderr:
                self._python = subprocess.Popen(
                    [sys.executable, "-c", DRIVER],
                    env=self.env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
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
        self.printed += output[:-1] if output[-1:] == ["\n"] else output  # the driver's line end
        if line is None or line.split()[-1] != "ok":
            printed = "".join(output)[-3000:]
            raise WalkFailed(f"{block.where}: Python block failed:\n{printed}\n{self.errors[-6000:]}")
        self.log.append(f"ran {block.line} in {time.perf_counter() - started:.1f} s: python block")


def _lines(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


def walk(page: Path, folder: Path) -> list[str]:
    """Walk one page from a clean clone in `folder` (the clone in `folder/clone`)."""
    clone = clean_clone(folder / "clone")
    return Walk(page, clone, new_user_env(folder)).run()
