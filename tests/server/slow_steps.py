"""Functions that `script` steps of the server tests import (the server's run processes find this
folder through PYTHONPATH)."""

from __future__ import annotations

import time

import pandas as pd


def pause(df: pd.DataFrame, seconds: float = 1.0) -> pd.DataFrame:
    time.sleep(seconds)
    return df
