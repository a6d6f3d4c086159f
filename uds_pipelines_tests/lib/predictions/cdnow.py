"""The CDNOW sample (realdata/cdnow) as the models and the summary SQL take it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

CALIBRATION_END = datetime(1997, 9, 30, 23, 59, 59, tzinfo=UTC)  # 39 weeks after 1 January 1997
HOLDOUT_END = datetime(1998, 6, 30, 23, 59, 59, tzinfo=UTC)


def published_summary(realdata: Path) -> pd.DataFrame:
    return pd.read_csv(realdata / "cdnow" / "cdnow_customers_summary_with_transactions.csv")


def purchases(realdata: Path, con: duckdb.DuckDBPyConnection, table: str = "cdnow_purchases") -> str:
    """Load the purchase lines as `table` (customer_id, currency, ordered_at, amount); returns its name."""
    rows = [line.split() for line in (realdata / "cdnow" / "CDNOW_sample.txt").read_text().splitlines()]
    frame = pd.DataFrame(rows, columns=["master_id", "customer_id", "day", "cds", "amount"])
    frame = frame.assign(
        customer_id=frame["customer_id"].astype(int).astype(str),
        currency="usd",
        ordered_at=pd.to_datetime(frame["day"], format="%Y%m%d", utc=True),
        amount=frame["amount"].astype(float),
    )[["customer_id", "currency", "ordered_at", "amount"]]
    con.register("_cdnow_frame", frame)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _cdnow_frame")
    return table
