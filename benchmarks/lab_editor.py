"""Benchmarks of the JupyterLab flow editor, measured in headless Chromium: a real `jupyter server` with
the aqtra-nb extension (server and the installed prebuilt lab extension) on loopback, driven by
Playwright.

1. **Opening a 50-step flow**: a generated flow (a `read_parquet` input, then 49 `derive` and `filter`
   steps, mostly chained, every seventh one branching off an earlier step: 49 edges). In a fresh page
   (its own browser context, a new empty Lab workspace), once JupyterLab has started, the file is opened
   with the `docmanager:open` command (the Flow Editor); times are taken in the page, every animation
   frame, from just before the command until:
   - the editor (`.aqtra-flow-editor`) is on screen;
   - all 50 `.aqtra-node` elements are visible (a size, not `visibility: hidden`);
   - the canvas is interactive: the nodes are laid out (50 distinct positions from the ELK layout, not
     all at the origin), all 49 edges (`[data-aqtra-edge]`) are drawn and the view is fitted to them
     (the steps' bounds centred in the canvas);
   - the server's validation shows on the steps (each node's hover title lists its columns).
   Also the same from `page.goto` of `lab/…/tree/<file>`: JupyterLab's own start included.
2. **Preview after an edit, 1M orders**: a flow reading `data/orders.parquet` (from
   `aqtra_nb.datasets.write_sales`) then a `filter` step. The filter step is selected and its preview
   shown; then its condition is typed into the step form (`.aqtra-step-form`, key by key) and the time
   is taken in the page from the last keystroke (its `input` event) to the frame where the preview shows
   the new result (the row count and every row's `order_id` as the server computes them for the new
   condition).
   The editor waits a moment after the last edit before it asks for a preview (a debounce, the
   `setTimeout` of the preview effect in flow-editor.tsx), so that is part of the number; the page's
   resource timing of the preview request splits it: keystroke → request sent (the debounce), request →
   reply (loopback and server), reply → on screen (parsing and React). Next to it: the editor's own
   request time (the preview's head, "step: N rows in S s") and the server's time for the same
   `POST /aqtra/api/flows/preview` sent with requests (the first request of each new condition, and
   the same request 5 times).

    python benchmarks/lab_editor.py              # 1M orders, 3 opens, 3 edits
    python benchmarks/lab_editor.py --repeats 7
    python benchmarks/lab_editor.py --quick      # 50k orders (scale 0.05), 1 repeat: a smoke test

Needs Chromium (/usr/bin/chromium or $AQTRA_CHROMIUM), Playwright (the `test` or `export` extra) and
JupyterLab with the lab extension installed (`pip install -e ".[dev]"`). Everything (the server's root,
`AQTRA_HOME`, Lab's workspaces and settings) lives in a temporary folder: runs are not recorded in your
run history and your Lab workspaces are left alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Literal

import requests
from _common import machine
from _jupyter import TOKEN, JupyterServer, jupyter_server

TARGET_OPEN, TARGET_PREVIEW = 1.0, 0.5  # seconds
WAIT = 120_000  # ms
PATIENCE = 5_000  # ms: how long after the canvas is drawn the view may take to be fitted to it
FLOW_50 = "bench50.flow.yaml"
FLOW_PREVIEW = "preview.flow.yaml"
VALIDATE = "import sys; from aqtra_nb.cli import main; sys.exit(main())"  # `aqtra-nb` of this interpreter


# -- a Jupyter server on loopback, Lab in a fresh page ---------------------------------------------------


def lab_server(root: Path) -> AbstractContextManager[JupyterServer]:
    """`jupyter server` with the aqtra-nb extension (enabled by its installed config), Lab's workspaces and
    settings in `root/.lab`, its store in `root/.home`."""
    lab = root / ".lab"
    extra = [
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.workspaces_dir={lab / 'workspaces'}",
        f"--LabApp.user_settings_dir={lab / 'settings'}",
    ]
    return jupyter_server(root, {"AQTRA_HOME": str(root / ".home"), "AQTRA_DATABASE_URL": ""}, extra)


def lab_url(server: JupyterServer, workspace: str, tree: str = "") -> str:
    """Lab in a new workspace (its own name, in the temporary workspaces folder: nothing is restored from
    an earlier page), optionally opening a file."""
    return f"{server.url}/lab/workspaces/{workspace}{'/tree/' + tree if tree else ''}?token={TOKEN}"


@contextmanager
def fresh_page(browser, url: str, script: str) -> Iterator:
    """A page at `url` in a browser context of its own (nothing cached or stored by an earlier page),
    with `script` run before the page's own scripts."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.add_init_script(script)
        page.goto(url, timeout=WAIT)
        yield page
    finally:
        context.close()


def wait_for_lab(page) -> None:
    """Until JupyterLab has started with the aqtra-nb extension's commands."""
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.commands.hasCommand('aqtra:show-runs')", timeout=WAIT
    )


# -- the flows ------------------------------------------------------------------------------------------


def big_flow(steps: int) -> tuple[str, int]:
    """A flow of `steps` steps: one reader, then derive and filter steps, each on the step before it
    except every seventh, which branches off the step four back. Returns (YAML text, number of edges)."""
    lines = [
        "flow: bench50",
        f"description: {steps} steps for benchmarks/lab_editor.py",
        "steps:",
        "  - id: orders",
        "    component: read_parquet",
        "    with: {path: data/orders.parquet}",
    ]
    ids = ["orders"]
    for i in range(1, steps):
        source = ids[max(0, i - 4)] if i % 7 == 0 else ids[i - 1]
        if i % 3 == 0:
            step, component, params = f"keep{i:02d}", "filter", f'{{condition: "amount >= {i}"}}'
        else:
            step, component, params = f"calc{i:02d}", "derive", f'{{columns: {{c{i:02d}: "amount * {i}"}}}}'
        lines += [
            f"  - id: {step}",
            f"    component: {component}",
            f"    input: {source}",
            f"    with: {params}",
        ]
        ids.append(step)
    return "\n".join(lines) + "\n", steps - 1


PREVIEW_FLOW = """\
flow: preview_bench
steps:
  - id: orders
    component: read_parquet
    with: {path: data/orders.parquet}
  - id: big
    component: filter
    input: orders
    with: {condition: "amount >= 100"}
"""


def prepare(folder: Path, scale: float, steps: int) -> int:
    """The sales data and both flows, each flow checked with `aqtra-nb validate`. Returns the edge count."""
    from aqtra_nb import datasets

    datasets.write_sales(folder / "data", scale=scale, formats="parquet")
    text, edges = big_flow(steps)
    (folder / FLOW_50).write_text(text)
    (folder / FLOW_PREVIEW).write_text(PREVIEW_FLOW)
    for name in (FLOW_50, FLOW_PREVIEW):
        env = {**os.environ, "AQTRA_HOME": str(folder / ".home")}
        done = subprocess.run(
            [sys.executable, "-c", VALIDATE, "validate", name],
            cwd=folder,
            capture_output=True,
            text=True,
            env=env,
        )
        if done.returncode:
            raise SystemExit(f"{name} does not validate:\n{done.stdout}{done.stderr}")
    return edges


# -- 1. opening the 50-step flow ------------------------------------------------------------------------

# In the page: every animation frame from `t0` (performance.now()), the first time each stage is seen.
WATCH = """
(() => {
  const cfg = %s;
  window.__aqtraWatch = t0 => {
    const marks = {};
    window.__aqtraMarks = marks;
    const tick = () => {
      const now = performance.now() - t0;
      const editor = document.querySelector('.aqtra-flow-editor');
      if (editor) {
        const box = editor.getBoundingClientRect();
        if (marks.editor === undefined && box.width > 0 && box.height > 0) marks.editor = now;
        const nodes = [...editor.querySelectorAll('.aqtra-node')];
        const wrappers = nodes.map(n => n.closest('.react-flow__node'));
        const shown = nodes.filter((n, i) => {
          const b = n.getBoundingClientRect();
          return b.width > 0 && b.height > 0 && (!wrappers[i] || getComputedStyle(wrappers[i]).visibility !== 'hidden');
        }).length;
        if (marks.visible === undefined && shown === cfg.steps) marks.visible = now;
        const places = new Set(wrappers.map(w => (w ? w.style.transform : ''))).size;
        const edges = [...editor.querySelectorAll('[data-aqtra-edge]')].filter(e => {
          const path = e.querySelector('path');
          return path && (path.getAttribute('d') || '').length > 0;
        }).length;
        marks.edges = edges;
        const canvas = editor.querySelector('.react-flow').getBoundingClientRect();
        const boxes = wrappers.filter(w => w).map(w => w.getBoundingClientRect());
        const middle = (lo, hi) => (Math.min(...boxes.map(lo)) + Math.max(...boxes.map(hi))) / 2;
        const fitted = boxes.length > 0  // the view fitted to the laid-out steps: they are centred in it
          && Math.abs(middle(b => b.left, b => b.right) - (canvas.left + canvas.right) / 2) <= 2 + 0.02 * canvas.width
          && Math.abs(middle(b => b.top, b => b.bottom) - (canvas.top + canvas.bottom) / 2) <= 2 + 0.02 * canvas.height;
        if (places === cfg.steps && marks.laidout === undefined) marks.laidout = now;
        const drawn = shown === cfg.steps && places === cfg.steps && edges === cfg.edges;
        if (marks.interactive === undefined && drawn) marks.interactive = now;
        if (marks.fitted === undefined && drawn && fitted) marks.fitted = now;
        const checked = nodes.every(n => (n.title || '').includes(': ')) && !editor.querySelector('.aqtra-node-problem');
        if (marks.validated === undefined && shown === cfg.steps && checked) marks.validated = now;
        // done once drawn and validated, and fitted (or, if the view is never fitted, 5 s later)
        if (marks.interactive !== undefined && marks.validated !== undefined
            && (marks.fitted !== undefined || now - marks.interactive > cfg.patience)) {
          marks.inside = nodes.filter(n => {
            const b = n.getBoundingClientRect();
            return b.left >= canvas.left && b.right <= canvas.right && b.top >= canvas.top && b.bottom <= canvas.bottom;
          }).length;
          marks.width = nodes[0].getBoundingClientRect().width;
          marks.transform = editor.querySelector('.react-flow__viewport').style.transform;
          marks.done = true;
          return;
        }
      }
      requestAnimationFrame(tick);
    };
    tick();
  };
  if (cfg.auto) window.__aqtraWatch(0);  // from the navigation's start
})();
"""


def wait_marks(page) -> dict:
    try:
        page.wait_for_function("() => window.__aqtraMarks && window.__aqtraMarks.done", timeout=WAIT)
    except Exception as exc:  # noqa: BLE001 - say how far it got
        marks = page.evaluate("() => window.__aqtraMarks || {}")
        raise SystemExit(f"the 50-step flow never finished rendering: {marks} ({exc})") from None
    return page.evaluate("() => window.__aqtraMarks")


def open_times(
    browser, server: JupyterServer, how: Literal["command", "goto"], repeats: int, steps: int, edges: int
) -> list[dict]:
    """Marks of `repeats` opens of the big flow, each in a fresh page. `how` is "command": ms from the
    `docmanager:open` command, JupyterLab started; or "goto": ms from the navigation's start, of `page.goto`
    of Lab's URL for the file."""
    by_command = how == "command"
    watch = WATCH % json.dumps({"steps": steps, "edges": edges, "auto": not by_command, "patience": PATIENCE})
    marks = []
    for i in range(repeats):
        url = lab_url(server, f"bench-{how}-{i}", "" if by_command else FLOW_50)
        with fresh_page(browser, url, watch) as page:
            if by_command:
                wait_for_lab(page)
                page.evaluate("async () => { await window.jupyterapp.restored; }")
                page.wait_for_timeout(1000)  # let Lab's start settle (its own requests and layout)
                page.evaluate(
                    "path => { window.__aqtraWatch(performance.now());"
                    " window.jupyterapp.commands.execute('docmanager:open', {path, factory: 'Flow Editor'}); }",
                    FLOW_50,
                )
            marks.append(wait_marks(page))
    return marks


# -- 2. preview after an edit ---------------------------------------------------------------------------


def preview_body(condition: str) -> dict:
    text = PREVIEW_FLOW.replace('"amount >= 100"', json.dumps(condition))
    return {"flow": text, "step": "big", "rows": 20, "path": FLOW_PREVIEW, "parameters": {}}


def server_preview(http: requests.Session, server: JupyterServer, condition: str) -> tuple[float, dict]:
    started = time.perf_counter()
    reply = http.post(f"{server.url}/aqtra/api/flows/preview", json=preview_body(condition), timeout=120)
    seconds = time.perf_counter() - started
    reply.raise_for_status()
    return seconds, reply.json()


def conditions(
    http: requests.Session, server: JupyterServer, count: int
) -> tuple[list[tuple[str, int, str]], list[float]]:
    """`count` conditions, each with its preview's row count and order_ids as the server gives them (each
    differs from the one shown before it), and the server's seconds for each first request."""

    def ids(reply: dict) -> str:
        return ",".join(str(r[0]) for r in reply["rows"])

    shown = ids(server_preview(http, server, "amount >= 100")[1])
    chosen, seconds = [], []
    for threshold in range(150, 100_000, 50):
        if len(chosen) == count:
            return chosen, seconds
        condition = f"amount >= {threshold}"
        took, reply = server_preview(http, server, condition)
        if reply["rows"] and ids(reply) != shown:
            chosen.append((condition, len(reply["rows"]), ids(reply)))
            seconds.append(took)
            shown = ids(reply)
    raise SystemExit(f"only {len(chosen)} conditions with a preview of their own")


def select(page, step: str) -> None:
    """Click a step until the editor shows it selected (a click while the view is being fitted can miss)."""
    for _ in range(40):
        page.locator(f'.aqtra-node[data-aqtra-step="{step}"]').click()
        if page.locator(f'.aqtra-node.aqtra-selected[data-aqtra-step="{step}"]').count():
            return
        page.wait_for_timeout(250)
    raise SystemExit(f"step {step} could not be selected")


# In the page: the time of the condition field's last `input` event, and the preview requests' timings.
TIMING = """
document.addEventListener('input', e => {
  if ((e.target.id || '').endsWith('condition')) window.__aqtraLastInput = performance.now();
}, true);
window.__aqtraRequests = [];
new PerformanceObserver(list => {
  for (const entry of list.getEntries()) {
    if (entry.name.includes('flows/preview')) window.__aqtraRequests.push(entry);
  }
}).observe({type: 'resource', buffered: true});
"""

SHOWN = """
async ({rows, ids, timeout}) => {
  const started = performance.now();
  return await new Promise((resolve, reject) => {
    const tick = () => {
      const preview = document.querySelector('.aqtra-preview[data-aqtra-rows]');
      const shown = preview ? [...preview.querySelectorAll('tbody tr')].map(tr => tr.querySelector('td').textContent).join(',') : '';
      if (preview && preview.dataset.aqtraRows === String(rows) && shown === ids) {
        const now = performance.now(), typed = window.__aqtraLastInput;
        const request = window.__aqtraRequests.filter(r => r.startTime >= typed).pop();
        resolve({
          ms: now - typed,
          debounce: request ? request.startTime - typed : NaN,
          request: request ? request.responseEnd - request.startTime : NaN,
          render: request ? now - request.responseEnd : NaN,
          requests: window.__aqtraRequests.filter(r => r.startTime >= typed).length,
          head: preview.querySelector('.aqtra-preview-head').textContent,
        });
      } else if (performance.now() - started > timeout) {
        reject(new Error(`no preview of ${rows} rows, orders ${ids}: ${preview ? preview.textContent.slice(0, 200) : 'none'}`));
      } else {
        requestAnimationFrame(tick);
      }
    };
    tick();
  });
}
"""


def edit_latencies(browser, server: JupyterServer, edits: list[tuple[str, int, str]]) -> list[dict]:
    """For each condition typed into the filter step's form, seconds: `shown` from the last keystroke to
    the new preview on screen, split into `debounce`, `request` and `render`; `editor` the editor's own
    request time (the preview's head); `requests` how many preview requests the edit made."""
    with fresh_page(browser, lab_url(server, "bench-preview"), TIMING) as page:
        wait_for_lab(page)
        page.evaluate(
            "async path => { await window.jupyterapp.restored;"
            " await window.jupyterapp.commands.execute('docmanager:open', {path, factory: 'Flow Editor'}); }",
            FLOW_PREVIEW,
        )
        page.wait_for_selector('[data-aqtra-edge="orders->big"]', state="attached", timeout=WAIT)
        select(page, "big")
        page.wait_for_selector('.aqtra-step-form[data-aqtra-step="big"]', timeout=WAIT)
        page.locator(".aqtra-preview[data-aqtra-rows]").wait_for(timeout=WAIT)
        condition = page.locator('.aqtra-step-form input[id$="condition"]')
        results = []
        for text, rows, ids in edits:
            condition.click()
            condition.press("Control+a")
            condition.press_sequentially(text)
            shown = page.evaluate(SHOWN, {"rows": rows, "ids": ids, "timeout": WAIT})
            if condition.input_value() != text:
                raise SystemExit(f"the form shows {condition.input_value()!r}, not the typed {text!r}")
            head = shown["head"]  # "big: 20 rows in 0.12 s"
            editor_seconds = float(head.rsplit(" in ", 1)[1].split()[0]) if " in " in head else float("nan")
            results.append(
                {
                    "shown": shown["ms"] / 1000,
                    "debounce": shown["debounce"] / 1000,
                    "request": shown["request"] / 1000,
                    "render": shown["render"] / 1000,
                    "editor": editor_seconds,
                    "requests": shown["requests"],
                }
            )
            page.wait_for_timeout(500)  # the validation after the edit settles too
        return results


# -- report ---------------------------------------------------------------------------------------------


def row(name: str, values: list[float], target: str = "", digits: int = 2) -> str:
    if not values:
        return f"| {name} | never | never | {target} |"
    best, median = min(values), statistics.median(values)
    return f"| {name} | {best:.{digits}f} | {median:.{digits}f} | {target} |"


def fits(marks: list[dict]) -> str:
    """A note when some opens never had their view fitted (their times are left out of the row)."""
    missed = sum("fitted" not in m for m in marks)
    return f"not fitted in {missed} of {len(marks)} opens" if missed else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="orders in millions (1 = 1M)")
    parser.add_argument("--repeats", type=int, default=3, help="opens of the big flow, and edits timed")
    parser.add_argument("--steps", type=int, default=50, help="steps of the big flow")
    parser.add_argument("--quick", action="store_true", help="scale 0.05, one repeat: a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        args.scale, args.repeats = 0.05, 1

    from aqtra_nb.publish.browser import launch_args, sync_playwright

    with tempfile.TemporaryDirectory(prefix="aqtra-lab-bench-") as tmp:
        folder = Path(tmp)
        edges = prepare(folder, args.scale, args.steps)
        with lab_server(folder) as server, sync_playwright() as playwright:
            http = requests.Session()
            http.headers.update(server.headers)
            browser = playwright.chromium.launch(**launch_args())
            opens = open_times(browser, server, "command", args.repeats, args.steps, edges)
            gotos = open_times(browser, server, "goto", args.repeats, args.steps, edges)
            edits, first_request = conditions(http, server, args.repeats)
            latencies = edit_latencies(browser, server, edits)
            browser.close()
            repeated = [server_preview(http, server, edits[-1][0])[0] for _ in range(5)]

    def stage(marks: list[dict], end: str, start: str | None = None) -> list[float]:
        return [(m[end] - (m[start] if start else 0)) / 1000 for m in marks if end in m]

    rows = int(args.scale * 1_000_000)
    n = args.repeats
    print(f"\n## JupyterLab flow editor ({machine()})\n")
    print(f"Opening a {args.steps}-step flow ({edges} edges), seconds, {n} fresh pages each:\n")
    print("| measure | best | median | target |")
    print("|---|---|---|---|")
    print(row("open command → editor on screen", stage(opens, "editor")))
    print(row(f"open command → {args.steps} nodes visible", stage(opens, "visible")))
    print(row("open command → nodes laid out (distinct ELK positions)", stage(opens, "laidout")))
    print(
        row(
            f"open command → interactive canvas (laid out, {edges} edges drawn)",
            stage(opens, "interactive"),
            f"< {TARGET_OPEN:.0f}",
        )
    )
    print(row(f"editor on screen → {args.steps} nodes visible", stage(opens, "visible", "editor")))
    print(row("editor on screen → interactive canvas", stage(opens, "interactive", "editor")))
    print(row("open command → view fitted to the laid-out steps", stage(opens, "fitted"), fits(opens)))
    print(row("open command → server's validation on the steps", stage(opens, "validated")))
    print(
        row(
            "`goto` of lab/…/tree/<file> → interactive canvas (Lab's start included)",
            stage(gotos, "interactive"),
        )
    )
    print(row("`goto` of lab/…/tree/<file> → view fitted", stage(gotos, "fitted"), fits(gotos)))
    print(
        "\nThe view each page ended with (nodes inside the canvas, a node's width on screen, the viewport):\n"
    )
    for name, marks in (("open command", opens), ("`goto`", gotos)):
        for m in marks:
            fitted = "fitted" if "fitted" in m else f"not fitted {PATIENCE / 1000:.0f} s after drawing"
            print(
                f"- {name}: {m['inside']} of {args.steps} nodes inside, {m['width']:.0f} px wide, "
                f"`{m['transform']}` ({fitted})"
            )
    print()
    print(f"Preview of the filter step over {rows:,} orders after an edit of its condition, seconds:\n")
    print("| measure | best | median | target |")
    print("|---|---|---|---|")
    print(
        row(
            f"last keystroke → new preview on screen ({len(latencies)} edits)",
            [t["shown"] for t in latencies],
            f"< {TARGET_PREVIEW:.1f}",
            3,
        )
    )
    parts = {
        "… last keystroke → preview request sent (the editor's debounce)": "debounce",
        "… request sent → reply received (loopback and server)": "request",
        "… reply received → on screen (parse, React, paint)": "render",
        "the editor's own request time (preview head, 2 decimals)": "editor",
    }
    for name, key in parts.items():
        print(row(name, [t[key] for t in latencies], "", 2 if key == "editor" else 3))
    print(row("server: POST flows/preview, first request of each condition", first_request, "", 3))
    print(row("server: POST flows/preview, the same request again (5 times)", repeated, "", 3))
    extra = sorted({t["requests"] for t in latencies} - {1})
    if extra:
        print(f"\nSome edits made {extra} preview requests after the last keystroke (expected: one).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
