"""Start-up of the everyday commands (#18 item 10): wall time of `aqtra-nb --help`, `validate` and `run`
of a 3-step CSV flow, and the store's listings (`jobs list`, `workflows list`, `tasks list`), next to
`python -c pass`, the imports of pandas (all a small in-memory run needs) and of pandas with Dask's
dataframe (what a partitioned run needs), and `papermill --help`; then a trivial notebook run by the
papermill CLI and by `aqtra-nb jobs run --wait` side by side; then the `python -X importtime` total of
`validate`. Commands take turns, round after round, so that a change in the machine's load falls on all
of them. Prints Markdown tables.

    python benchmarks/startup.py              # best of 5
    python benchmarks/startup.py --repeat 9
    python benchmarks/startup.py --only notebook
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

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

DATA = "region,amount,qty\nnorth,10.5,2\nsouth,20.0,3\nnorth,5.25,1\neast,7.0,4\n"

# the trivial notebook of benchmarks/jobs.py: a parameters cell, two small cells
NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "n = 1", "outputs": []},
        {"cell_type": "code", "metadata": {}, "source": "x = n * 2", "outputs": []},
        {"cell_type": "code", "metadata": {}, "source": "print('x =', x)", "outputs": []},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def script(name: str, module: str) -> list[str]:
    """A console script next to this Python (what a user types), else `python -m module`."""
    found = Path(sys.executable).parent / name
    return [str(found)] if found.exists() else [sys.executable, "-m", module]


def commands() -> dict[str, list[str]]:
    python, aqtra = [sys.executable], script("aqtra-nb", "aqtra_nb.cli")
    return {
        "python -c pass": [*python, "-c", "pass"],
        "python -c 'import pandas'": [*python, "-c", "import pandas"],
        "python -c 'import pandas, dask.dataframe'": [*python, "-c", "import pandas, dask.dataframe"],
        "papermill --help": script("papermill", "papermill") + ["--help"],
        "aqtra-nb --help": [*aqtra, "--help"],
        "aqtra-nb validate small.flow.yaml": [*aqtra, "validate", "small.flow.yaml"],
        "aqtra-nb run --no-progress small.flow.yaml": [*aqtra, "run", "--no-progress", "small.flow.yaml"],
        "aqtra-nb run --no-progress --no-record small.flow.yaml": [
            *aqtra,
            "run",
            "--no-progress",
            "--no-record",
            "small.flow.yaml",
        ],
        "aqtra-nb jobs list": [*aqtra, "jobs", "list"],
        "aqtra-nb workflows list": [*aqtra, "workflows", "list"],
        "aqtra-nb tasks list": [*aqtra, "tasks", "list"],
    }


def notebook_commands() -> dict[str, list[str]]:
    """The same notebook run once by each: what a crontab line runs, and the one-shot job run."""
    papermill = script("papermill", "papermill")
    return {
        "papermill trivial.ipynb out.ipynb -p n 3": [
            *papermill,
            "trivial.ipynb",
            "out.ipynb",
            "-p",
            "n",
            "3",
            "--no-progress-bar",
        ],
        "aqtra-nb jobs run trivial --wait -p n=3": [
            *script("aqtra-nb", "aqtra_nb.cli"),
            "jobs",
            "run",
            "trivial",
            "--wait",
            "-p",
            "n=3",
        ],
    }


def rounds(
    commands: dict[str, list[str]], repeat: int, cwd: Path, env: dict[str, str], settle=lambda: None
) -> dict[str, Timing]:
    """Each command once per round, `repeat` rounds: wall and CPU time (user + system: less swayed by
    other work on the machine) of every run. `settle()` after each command waits for work it left
    running (the HTML copy `jobs run --wait` has its run process write after it returned)."""
    timings: dict[str, Timing] = {name: ([], []) for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            used = _children_cpu()
            start = time.perf_counter()
            done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
            timings[name][0].append(time.perf_counter() - start)
            timings[name][1].append(_children_cpu() - used)
            if done.returncode != 0:
                raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
            settle()
    return timings


def html_copies_written(runs: Path, timeout: float = 120) -> None:
    """Until every job run under `runs` has its HTML copy, and a moment for its process to exit."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        folders = [f for f in runs.glob("*") if f.is_dir()]
        if all((f / "trivial.html").exists() for f in folders):
            time.sleep(0.2)
            return
        time.sleep(0.05)
    raise SystemExit(f"no HTML copy in {runs} after {timeout} s")


Timing = tuple[list[float], list[float]]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def import_total(cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """Seconds of `python -X importtime` (the sum of each module's own time) and modules imported by
    `validate` of the small flow."""
    code = "from aqtra_nb.cli import main; main(['validate', 'small.flow.yaml'])"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], cwd=cwd, env=env, capture_output=True, text=True
    )
    own = [int(m.group(1)) for m in re.finditer(r"import time:\s+(\d+) \|", done.stderr)]
    return sum(own) / 1e6, len(own)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds; the best and the median count")
    parser.add_argument("--only", choices=["commands", "notebook"], help="one of the two tables")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="aqtra-startup-"))
    try:
        (folder / "data.csv").write_text(DATA)
        (folder / "small.flow.yaml").write_text(FLOW)
        (folder / "trivial.ipynb").write_text(json.dumps(NOTEBOOK))
        env = {**os.environ, "AQTRA_HOME": str(folder / "home")}
        env.pop("AQTRA_DATABASE_URL", None)  # never into the user's run history
        add = [*script("aqtra-nb", "aqtra_nb.cli"), "jobs", "add", "trivial.ipynb", "--name", "trivial"]
        subprocess.run(add, cwd=folder, env=env, check=True, capture_output=True)  # the store made here
        print(f"### CLI start-up, seconds ({args.repeat} rounds; {machine()})")
        if args.only != "notebook":
            timings = rounds(commands(), args.repeat, folder, env)
            imports, modules = import_total(folder, env)
            table(timings, "papermill --help")
            print(f"\n`python -X importtime` of `validate`: {imports:.3f} s in {modules} modules")
        if args.only != "commands":
            runs = folder / "home" / "runs"
            timings = rounds(notebook_commands(), args.repeat, folder, env, lambda: html_copies_written(runs))
            table(timings, next(iter(timings)), cpu=False)  # the run process outlives `jobs run --wait`
        print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def table(timings: dict[str, Timing], peer: str, cpu: bool = True) -> None:
    """Best and median wall, best CPU (of the command and the children it waited for), and the median's
    ratio to `peer`'s median (same rounds)."""
    base = statistics.median(timings[peer][0])
    print(f"\n| command | best wall s | median wall s |{' best CPU s |' if cpu else ''} median / `{peer}` |")
    print(f"|---|---:|---:|{'---:|' if cpu else ''}---:|")
    for name, (wall, used) in timings.items():
        median = statistics.median(wall)
        shown = f" {min(used):.3f} |" if cpu else ""
        print(f"| `{name}` | {min(wall):.3f} | {median:.3f} |{shown} {median / base:.2f} |")


if __name__ == "__main__":
    main()
