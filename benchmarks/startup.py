"""Start-up of the everyday commands: wall time of `aqtra-nb --help`, `validate` and `run` of a 3-step
CSV flow, next to `python -c pass`, the imports of pandas (all a small in-memory run needs) and of pandas
with Dask's dataframe (what a partitioned run needs), and `papermill --help`; then the `python -X
importtime` total of `validate`. Prints Markdown tables.

    python benchmarks/startup.py              # best of 5
    python benchmarks/startup.py --repeat 9
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
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
    }


def best_of(command: list[str], repeat: int, cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """The best wall time and the best CPU time (user + system: less swayed by other work on the machine)."""
    wall, cpu = [], []
    for _ in range(repeat):
        used = _children_cpu()
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
        wall.append(time.perf_counter() - start)
        cpu.append(_children_cpu() - used)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return min(wall), min(cpu)


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
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command; the best counts")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="aqtra-startup-"))
    try:
        (folder / "data.csv").write_text(DATA)
        (folder / "small.flow.yaml").write_text(FLOW)
        env = {**os.environ, "AQTRA_HOME": str(folder / "home")}
        env.pop("AQTRA_DATABASE_URL", None)  # never into the user's run history
        seconds = {name: best_of(cmd, args.repeat, folder, env) for name, cmd in commands().items()}
        imports, modules = import_total(folder, env)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    papermill = seconds["papermill --help"][0]
    print(f"### CLI start-up, seconds (best of {args.repeat}; {machine()})\n")
    print("| command | wall s | CPU s | wall / papermill --help |")
    print("|---|---:|---:|---:|")
    for name, (wall, cpu) in seconds.items():
        print(f"| `{name}` | {wall:.3f} | {cpu:.3f} | {wall / papermill:.2f} |")
    print(f"\n`python -X importtime` of `validate`: {imports:.3f} s in {modules} modules")


if __name__ == "__main__":
    main()
