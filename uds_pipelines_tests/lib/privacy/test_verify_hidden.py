"""The erasure verification reads every file under the data dir: hidden files, temp files, hidden folders."""

import json
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from uds_pipelines.lib.privacy import verify_erased
from uds_pipelines.lib.privacy.verify import LEFTOVER

SECRET = "planted.person@example.com"
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]


def _compressed_batch(path) -> None:
    """A landed-Stripe-like Parquet file whose compressed bytes do not show the e-mail in clear."""
    rng = random.Random(1)
    payloads = [
        json.dumps({"id": f"evt_{i}", "note": " ".join(rng.choice(WORDS) for _ in range(40)),
                    "email": SECRET if i == 17 else f"x{i}@ex.org"})
        for i in range(200)
    ]  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"payload": payloads}), path, compression="zstd")
    assert SECRET.encode() not in path.read_bytes().lower()  # only decoding can find it


@pytest.mark.parametrize(
    "relative",
    [
        # a killed writer's temp file: the whole batch, written, never renamed
        "lake/landed/stripe/.stripe-0123456789abcdef.parquet.5f1e2d3c4b5a.tmp",
        "lake/landed/stripe/.stripe-0123456789abcdef.parquet",  # hidden name ending in .parquet
        "lake/.work/batch.parquet",  # a Parquet file in a hidden folder
        "lake/landed/stripe/stripe-0123456789abcdef.parquet.held",  # held batch, never released
    ],
)
def test_an_erased_identifier_in_a_hidden_or_temp_parquet_file_is_found(tmp_path, relative):
    data = tmp_path / "data"
    _compressed_batch(data / relative)
    findings = verify_erased(data, None, {SECRET})
    assert [(f.path, f.kind) for f in findings] == [(relative, LEFTOVER)]
    assert all(SECRET not in f.detail for f in findings)


@pytest.mark.parametrize(
    "relative", [".spool/events-1.jsonl.tmp", "lake/landed/forms/.forms-abc.jsonl.part", "exports/.a.csv"]
)
def test_an_erased_identifier_in_a_hidden_text_file_is_found(tmp_path, relative):
    path = tmp_path / "data" / relative
    path.parent.mkdir(parents=True)
    path.write_text(f'{{"email": "{SECRET.upper()}"}}\n')
    findings = verify_erased(tmp_path / "data", None, {SECRET})
    assert [(f.path, f.kind, f.count) for f in findings] == [(relative, LEFTOVER, 1)]
