"""Flow documents cannot cost unbounded work: alias bombs, deep nesting, huge files, bad encodings, pipes
and duplicate keys are one-paragraph errors (exit 2 from the CLI), never a traceback or gigabytes."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading

import pytest

from aqtra_nb.errors import FlowValidationError
from aqtra_nb.spec import load_flow, parse_flow
from aqtra_nb.spec.io import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES

BOMB = """\
flow: laughs
parameters:
  p: {type: number, default: &a [x, x, x, x, x, x, x, x, x, x]}
a1: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
a2: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
a3: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
a4: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
a5: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
a6: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
a7: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
a8: [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
steps: []
"""


def test_an_alias_bomb_is_refused_at_once():
    assert len(BOMB) < 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(FlowValidationError, match=f"more than {MAX_NODES:,} values once its aliases"):
        parse_flow(BOMB, source="bomb.flow.yaml")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB


def test_a_bomb_in_a_parameter_default_is_refused_in_a_bounded_message():
    small = BOMB.replace("a5:", "#").replace("a6:", "#").replace("a7:", "#").replace("a8:", "#")
    small = small.replace("default: &a", "default: *e\nx: &a").replace("a4: &e", "y: &e")
    with pytest.raises(FlowValidationError) as caught:
        parse_flow(small.replace("a4", "y"), source="small.flow.yaml")
    assert len(str(caught.value)) < 2_000


def test_anchors_for_sharing_still_work():
    flow = parse_flow(
        "flow: f\nsteps:\n  - id: a\n    component: read_csv\n    with: &w {path: a.csv}\n"
        "  - id: b\n    component: read_csv\n    with: *w\n"
    )
    assert flow.steps[1].with_ == {"path": "a.csv"}


def test_deep_nesting_is_an_error():
    deep = "flow: f\nsteps: " + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(FlowValidationError, match="nested more than"):
        parse_flow(deep)
    shallow_enough = "flow: f\nx: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    with pytest.raises(FlowValidationError, match=f"nested more than {MAX_DEPTH} levels"):
        parse_flow(shallow_enough)


def test_duplicate_keys_name_both_lines():
    text = "flow: f\nparameters:\n  n: {type: number, default: 1}\n  n: {type: string}\nsteps: []\n"
    with pytest.raises(FlowValidationError, match=r"key 'n' appears twice.*first at line 3") as caught:
        parse_flow(text, source="dup.flow.yaml")
    assert caught.value.line == 4


def test_encodings_sizes_and_pipes(tmp_path):
    latin = tmp_path / "latin.flow.yaml"
    latin.write_bytes("flow: f\n# café\nsteps: []\n".encode("latin-1"))
    with pytest.raises(FlowValidationError, match="not UTF-8 text") as caught:
        load_flow(latin)
    assert caught.value.line == 2
    utf16 = tmp_path / "utf16.flow.yaml"
    utf16.write_text("flow: f\nsteps: []\n", encoding="utf-16")
    with pytest.raises(FlowValidationError, match="not UTF-8"):
        load_flow(utf16)
    big = tmp_path / "big.flow.yaml"
    big.write_bytes(b"flow: f\n" + b"#" * MAX_FILE_BYTES + b"\n")
    with pytest.raises(FlowValidationError, match="the limit is"):
        load_flow(big)
    fifo = tmp_path / "pipe.flow.yaml"
    os.mkfifo(fifo)
    done: list[object] = []
    reader = threading.Thread(target=lambda: done.append(_error_of(fifo)), daemon=True)
    reader.start()
    reader.join(10)
    assert done and "not a regular file" in str(done[0])


def _error_of(path):
    try:
        load_flow(path)
    except FlowValidationError as exc:
        return exc
    return None


@pytest.mark.slow
@pytest.mark.parametrize(
    "content",
    [BOMB.encode(), b"flow: f\nsteps: " + b"[" * 3000 + b"]" * 3000, b"flow: f\n\xff\xfe\n", b"a: 1\na: 2\n"],
    ids=["bomb", "deep", "bytes", "duplicate"],
)
def test_the_cli_exits_2_with_one_paragraph(tmp_path, content):
    path = tmp_path / "bad.flow.yaml"
    path.write_bytes(content)
    done = subprocess.run(
        [sys.executable, "-m", "aqtra_nb.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr) < 1_000


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "1e999", "9" * 10_000, float("nan")])
def test_non_finite_and_huge_numbers_are_refused_as_parameters(value):
    from aqtra_nb.errors import ParameterError
    from aqtra_nb.spec import resolve_parameters
    from aqtra_nb.spec.models import ParameterSpec

    specs = {"n": ParameterSpec(type="number"), "i": ParameterSpec(type="integer")}
    for name in specs:
        with pytest.raises(ParameterError) as caught:
            resolve_parameters(specs, {**{k: 1 for k in specs}, name: value})
        assert caught.value.field == name and len(str(caught.value)) < 400
