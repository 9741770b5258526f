"""Expressions cannot make unbounded text: `*`, `+`, `concat` and `replace` are checked before they run."""

from __future__ import annotations

import pandas as pd
import pytest

from aqtra_nb.errors import ExpressionError
from aqtra_nb.expr import parse_expression
from aqtra_nb.expr.limits import MAX_TEXT_VALUE


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"status": pd.Series(["paid", "open", None] * 400, dtype="str"), "n": [1, 2, 3] * 400}
    )


def evaluate(text: str, frame: pd.DataFrame):
    return parse_expression(text).evaluate(frame, {})


@pytest.mark.parametrize(
    "text",
    [
        "len(status * 10000000) > 0",
        "'a' * 1000000000",
        "1000000000 * 'a'",
        "len(status * (n * 1000000)) > 0",
        "len(concat(status * 300000, status * 300000, status * 300000, status)) > 0",
        "len(replace(status, '', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx') * 10000) > 0",
        "len(replace(status * 200000, 'a', 'bbbbbbbbbb')) > 0",
        "len(status * 200000 + status * 200000 + status * 200000) > 0",
    ],
)
def test_text_beyond_the_limits_is_refused_before_it_is_made(text, frame):
    with pytest.raises(ExpressionError, match="would make text values of up to") as caught:
        evaluate(text, frame)
    assert caught.value.position is not None  # points at the operation


def test_the_total_is_bounded_too(frame):
    big = pd.concat([frame] * 100, ignore_index=True)  # 120,000 rows
    with pytest.raises(ExpressionError, match="in all"):
        evaluate("len(status * 20000) > 0", big)  # 80,000 per value, but ~6.4 G characters in all


def test_text_within_the_limits_is_computed(frame):
    assert evaluate("status * 2", frame).iloc[0] == "paidpaid"
    assert evaluate("3 * 'ab'", frame) == "ababab"
    assert evaluate("concat(status, '-', n)", frame).iloc[1] == "open-2"
    assert evaluate("replace(status, 'a', 'AA')", frame).iloc[0] == "pAAid"
    assert evaluate("len(status * 250000)", frame.head(2)).iloc[0] == MAX_TEXT_VALUE
    assert pd.isna(evaluate("status * 2", frame).iloc[2])


def test_a_step_names_itself_and_its_field(tmp_path):
    from aqtra_nb import Flow

    path = tmp_path / "s.csv"
    pd.DataFrame({"status": ["paid", "open"]}).to_csv(path, index=False)
    f = Flow("big")
    f.read_csv("orders", path=str(path)).derive("longer", columns={"x": "status * 10000000"})
    with pytest.raises(Exception, match="would make text values") as caught:
        f.run(record=False)
    assert "longer" in str(caught.value)


@pytest.mark.slow
def test_random_expressions_with_large_literals_stay_within_a_memory_limit():
    """Under a 3 GiB address-space limit, random expressions raise AqtraErrors, never a MemoryError."""
    import resource
    import subprocess
    import sys
    from pathlib import Path

    limit = 3 * 2**30

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    script = Path(__file__).with_name("memory_fuzz.py")
    done = subprocess.run(
        [sys.executable, str(script), "400"], preexec_fn=limited, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("ok 400")
