"""Hand-built identifier tables and a small runner for the identity tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from uds_pipelines.lib import catalog, connection
from uds_pipelines.lib.identity import GuardrailConfig, resolve_identities, write_outputs

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def identifiers_frame(records: dict[tuple[str, str], list[tuple[str, str]]]) -> pd.DataFrame:
    """One row per identifier, plus each record's own `record` identifier (as the real builder adds)."""
    rows = []
    for (source, record_id), idents in records.items():
        rows.append((source, record_id, "record", f"{source}:{record_id}", T0))
        rows.extend((source, record_id, t, v, T0) for t, v in idents)
    return pd.DataFrame(rows, columns=["source", "record_id", "id_type", "id_value", "observed_at"])


class Runner:
    """Runs resolution run after run on one lake, the way the pipeline does: the previous map and
    registry are the lake's views, the outputs its catalog tables (all in `out_dir`)."""

    def __init__(self, lake_dir: Path, config: GuardrailConfig | None = None) -> None:
        self.lake_dir = lake_dir
        self.out_dir = catalog.path(lake_dir, "identity_map").parent
        self.config = config or GuardrailConfig()
        self.runs = 0

    def run(self, records: dict[tuple[str, str], list[tuple[str, str]]], **kwargs) -> dict[str, pd.DataFrame]:
        self.runs += 1
        con = connection.connect(self.lake_dir)
        try:
            con.register("ids", identifiers_frame(records))
            result = resolve_identities(
                con,
                "ids",
                config=kwargs.pop("config", self.config),
                run_id=f"run-{self.runs}",
                now=T0 + timedelta(days=self.runs),
                **kwargs,
            )
            written = write_outputs(con, self.lake_dir, result, include_links=True)
            frames = {name: pd.read_parquet(path) for name, path in written.items()}
            frames["stats"] = result.stats
            return frames
        finally:
            con.close()


def ids_by_record(identity_map: pd.DataFrame) -> dict[tuple[str, str], str]:
    return {
        (s, r): c for s, r, c in identity_map[["source", "record_id", "customer_id"]].itertuples(index=False)
    }
