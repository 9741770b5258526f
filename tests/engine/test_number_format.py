"""A run's results are shown for people (thousands separators, sensible decimals) while the data stays as
it is (#15)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from aqtra_nb import Flow
from aqtra_nb.engine.number_format import decimals, frame_html, frame_text


def sales() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["North", "South", None],
            "revenue": [589354.6, 1250000.5, np.nan],
            "orders": [1200, 3, 4],
            "share": [0.000123, 0.5, 0.25],
            "units": [30.0, 40.0, 1e6],
        }
    )


def test_numbers_are_shown_with_separators_and_sensible_decimals():
    text = frame_text(sales())
    assert "589,354.60" in text and "1,250,000.50" in text and "5.893546e+05" not in text
    assert "1,200" in text and "1,000,000" in text and "0.000123" in text and "—" in text
    html = frame_html(sales(), rows=2)
    assert "1,250,000.50" in html and "3 rows" in html and "None" not in html


def test_decimals_follow_the_values():
    assert decimals(pd.Series([1.0, 2.0])) == 0
    assert decimals(pd.Series([1.5, 1234.25])) == 2
    assert decimals(pd.Series([0.00012, 0.5])) == 6
    assert decimals(pd.Series([np.nan, np.inf])) == 0


def test_a_run_result_shows_its_outputs_formatted_and_keeps_the_data():
    f = Flow("report")
    f.from_frame("sales", sales()).filter("big", condition="revenue > 1000")
    result = f.run(record=False, progress=False)
    html = result._repr_html_()
    assert "big: first rows" in html and "1,250,000.50" in html and "589,354.60" in html
    assert "5.893546e+05" not in html
    assert result["big"]["revenue"].tolist() == [589354.6, 1250000.5]  # the data is unchanged
    shown = result.show("big")
    assert shown.frame is result["big"] and "1,250,000.50" in repr(shown)
