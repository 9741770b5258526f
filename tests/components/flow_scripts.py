"""Functions that `script` steps in the component tests import by dotted path (not a test module)."""

from __future__ import annotations

import pandas as pd


def net_amount(df: pd.DataFrame, rate: float = 0.0) -> pd.DataFrame:
    """Adds `net` = amount after discount and a flat `rate` of tax."""
    return df.assign(net=df["amount"] * (1 - df["discount"].fillna(0)) * (1 + rate))


def not_a_frame(df: pd.DataFrame) -> list:
    return list(df.columns)


def fail_on_web(df: pd.DataFrame) -> pd.DataFrame:
    """Raises on a partition holding a `web` order: an upstream failure in the middle of a run."""
    if (df["channel"] == "web").any():
        raise RuntimeError("web orders are not allowed")
    return df


CONSTANT = 42
