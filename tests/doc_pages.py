"""The code blocks of README.md and docs/*.md, their marks, and the commands of their shell blocks.

Used by tests/test_docs.py (every block parses; Python blocks run) and tests/test_docs_walkthrough.py
(each page's blocks run in order from a clean clone). Marks are HTML comments on the lines just above a
block (blank lines between are allowed):

- `<!-- fragment: why -->`: a Python block that does not run on its own (it is still parsed).
- `<!-- file: NAME -->`: the block is written to NAME before the page runs.
- `<!-- doc-test setup: COMMAND -->` (anywhere on the page): run first, in the page's folder.
- `<!-- shell: not run `COMMAND`: why; TEST -->`: that command of the block (the line as written, without
  its trailing comment and a leading `pip install ... &&`; `*` for every command of the block) is not
  run by the walk-through, because it starts a server, needs a cluster, Node or the network; TEST is
  the test that covers it and must exist: `tests/FILE.py::NAME`, or a script such as `.ci/run` that
  runs the command itself.
- `<!-- shell: PLACEHOLDER = COMMAND -->`: the block's commands name a value the reader fills in (a run
  id, a task id); before each command that uses it the walk-through runs COMMAND and puts its output in
  the placeholder's place.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = ("bash", "sh", "shell", "console")
FENCE = re.compile(r"^```(\w*)\s*$")
MARK = re.compile(r"^<!--\s*(fragment|file|doc-test setup|shell)\b:?\s*(.*?)\s*-->\s*$")
NOT_RUN = re.compile(r"^not run `(?P<command>[^`]+)`:\s*(?P<why>.+?);\s*(?P<test>\S+)$")
PLACEHOLDER = re.compile(r"^(?P<name>[A-Z][A-Z0-9_]*)\s*=\s*(?P<command>.+)$")
#: installing is taken as done by the walk-through: `pip install X && rest` runs `rest`
INSTALL = re.compile(r"^pip install\b[^&;|]*(?:&&\s*|$)")
#: a command's trailing `# prints: TEXT` comment, which the walk-through checks
PRINTS = re.compile(r"#\s*prints:\s*(?P<text>.+?)\s*$")


@dataclass(frozen=True)
class NotRun:
    command: str  # as written, or "*"
    why: str
    test: str  # tests/FILE.py::NAME, or a script that runs the command


@dataclass(frozen=True)
class Command:
    line: int  # in the page
    text: str  # logical line as written (continuations joined), comment included

    @property
    def code(self) -> str:
        """The command without its trailing comment."""
        comment = _comment_start(self.text)
        return self.text[:comment].rstrip() if comment is not None else self.text.strip()

    @property
    def to_run(self) -> str:
        """The command as the walk-through runs it: without a leading `pip install ... &&`."""
        return INSTALL.sub("", self.code)

    @property
    def prints(self) -> str | None:
        comment = _comment_start(self.text)
        found = PRINTS.search(self.text[comment:]) if comment is not None else None
        return found.group("text") if found else None


def _comment_start(text: str) -> int | None:
    """Where a shell comment starts in one command line (outside quotes, after whitespace), if it has one."""
    quote = None
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or text[index - 1].isspace()):
            return index
    return None


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence
    lang: str
    text: str
    marks: tuple[tuple[str, str], ...] = field(default=())

    @property
    def where(self) -> str:
        page = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page.name
        return f"{page}:{self.line}"

    @property
    def fragment(self) -> bool:
        return any(kind == "fragment" for kind, _ in self.marks)

    @property
    def file(self) -> str | None:
        return next((value for kind, value in self.marks if kind == "file"), None)

    @property
    def shell(self) -> bool:
        return self.lang.lower() in SHELL

    def not_run(self) -> list[NotRun]:
        found = []
        for kind, value in self.marks:
            if kind == "shell" and (mark := NOT_RUN.match(value)):
                found.append(NotRun(mark["command"], mark["why"], mark["test"]))
        return found

    def placeholders(self) -> dict[str, str]:
        return {
            mark["name"]: mark["command"]
            for kind, value in self.marks
            if kind == "shell" and not NOT_RUN.match(value) and (mark := PLACEHOLDER.match(value))
        }

    def commands(self) -> list[Command]:
        """The shell block's commands: one per line, `\\` continuations joined, comment-only lines left out
        (in a ```console block, only the lines after a `$ ` prompt: the others are output)."""
        found, pending, start = [], "", 0
        console = self.lang.lower() == "console"
        for offset, line in enumerate(self.text.splitlines()):
            if not pending:
                start = self.line + 1 + offset
                if console:
                    if not line.startswith("$ "):
                        continue
                    line = line[2:]
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            found.append(Command(start, pending + line))
            pending = ""
        return found

    def skipped(self, command: Command) -> NotRun | None:
        """The `not run` mark that covers this command, if one does."""
        return next((m for m in self.not_run() if m.command in ("*", command.to_run)), None)


def blocks(page: Path) -> list[Block]:
    found, lines = [], page.read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        text = "\n".join(lines[index + 1 : end]) + "\n"
        found.append(Block(page, index + 1, opening.group(1), text, tuple(_marks_before(lines, index))))
        index = end + 1
    return found


def _marks_before(lines: list[str], index: int):
    """The `<!-- ... -->` marks on the lines just above a fence (blank lines between are allowed)."""
    index -= 1
    while index >= 0 and (not lines[index].strip() or MARK.match(lines[index])):
        mark = MARK.match(lines[index])
        if mark and mark.group(1) != "doc-test setup":
            yield mark.group(1), mark.group(2)
        index -= 1


def setup_commands(page: Path) -> list[str]:
    return [
        m.group(2)
        for line in page.read_text().splitlines()
        if (m := MARK.match(line)) and m.group(1) == "doc-test setup"
    ]


def all_blocks() -> list[Block]:
    return [block for page in PAGES for block in blocks(page)]


def check_shell(block: Block) -> None:
    """Each command parses on its own (`bash -n`), and each `not run` mark names a command of the block
    and an existing test."""
    for command in block.commands():
        done = subprocess.run(["bash", "-n"], input=command.code, capture_output=True, text=True)
        assert done.returncode == 0, f"{block.page.name}:{command.line}: {command.text}\n{done.stderr}"
    codes = {command.to_run for command in block.commands()}
    for mark in block.not_run():
        assert mark.command == "*" or mark.command in codes, f"{block.where}: no command `{mark.command}`"
        assert covered(mark), f"{block.where}: `{mark.command}` names no test that runs it: {mark.test}"
    for name in block.placeholders():
        assert re.search(rf"\b{name}\b", block.text), f"{block.where}: placeholder {name} is not used"
    for kind, value in block.marks:
        understood = NOT_RUN.match(value) or PLACEHOLDER.match(value)
        assert kind != "shell" or understood, f"{block.where}: a shell mark is `not run ...` or `NAME = ...`"


def covered(mark: NotRun) -> bool:
    """The mark names a test function (`tests/FILE.py::NAME`) or a script that runs the command."""
    path, _, function = mark.test.partition("::")
    file = ROOT / path
    if not file.is_file():
        return False
    if function:
        return f"def {function}(" in file.read_text()
    return mark.command != "*" and mark.command in file.read_text()
