"""Ground-truth accumulators: what every generated record is, and which consent statements it makes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

RECORDS_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("record_id", pa.string()),
        ("person_id", pa.string()),
        ("file", pa.string()),
        ("position", pa.int64()),
        ("expected", pa.string()),
        ("note", pa.string()),
    ]
)

CONSENTS_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("identifier_type", pa.string()),
        ("identifier", pa.string()),
        ("purpose", pa.string()),
        ("granted", pa.bool_()),
        ("captured_at", pa.timestamp("us", tz="UTC")),
        ("source", pa.string()),
        ("record_id", pa.string()),
        ("file", pa.string()),
    ]
)

TOTALS_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("currency", pa.string()),
        ("charges", pa.int64()),
        ("charged_minor", pa.int64()),
        ("refunded_minor", pa.int64()),
    ]
)

LAND, QUARANTINE, DUPLICATE = "land", "quarantine", "duplicate"


@dataclass
class Truth:
    """Column lists for records.parquet and consents.parquet, filled as files are written."""

    records: dict[str, list] = field(default_factory=lambda: {n: [] for n in RECORDS_SCHEMA.names})
    consents: dict[str, list] = field(default_factory=lambda: {n: [] for n in CONSENTS_SCHEMA.names})

    def record(
        self,
        source: str,
        record_id: str | None,
        person_id: str | None,
        file: str,
        position: int,
        expected: str = LAND,
        note: str = "",
    ) -> None:
        cols = self.records
        cols["source"].append(source)
        cols["record_id"].append(record_id)
        cols["person_id"].append(person_id)
        cols["file"].append(file)
        cols["position"].append(position)
        cols["expected"].append(expected)
        cols["note"].append(note)

    def consent(
        self,
        person_id: str | None,
        identifier_type: str,
        identifier: str,
        purpose: str,
        granted: bool,
        captured_at: datetime,
        source: str,
        record_id: str | None,
        file: str,
    ) -> None:
        cols = self.consents
        for name, value in zip(
            CONSENTS_SCHEMA.names,
            (person_id, identifier_type, identifier, purpose, granted, captured_at, source, record_id, file),
            strict=True,
        ):
            cols[name].append(value)

    def extend(self, other: Truth) -> None:
        for name in RECORDS_SCHEMA.names:
            self.records[name].extend(other.records[name])
        for name in CONSENTS_SCHEMA.names:
            self.consents[name].extend(other.consents[name])

    def records_table(self) -> pa.Table:
        return pa.table(self.records, schema=RECORDS_SCHEMA)

    def consents_table(self) -> pa.Table:
        return pa.table(self.consents, schema=CONSENTS_SCHEMA)

    def count(self, source: str) -> int:
        return sum(1 for s in self.records["source"] if s == source)


def totals_table(totals: dict[tuple[str, str], list[int]]) -> pa.Table:
    """Per person and currency: successful charges, amount charged and amount refunded (minor units)."""
    keys = sorted(totals)
    return pa.table(
        {
            "person_id": [k[0] for k in keys],
            "currency": [k[1] for k in keys],
            "charges": [totals[k][0] for k in keys],
            "charged_minor": [totals[k][1] for k in keys],
            "refunded_minor": [totals[k][2] for k in keys],
        },
        schema=TOTALS_SCHEMA,
    )
