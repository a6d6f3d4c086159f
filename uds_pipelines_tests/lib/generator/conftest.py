"""One generated data set shared by the generator tests (generation is the slow part)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from uds_pipelines.lib.generator import GenerationSummary, generate


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp("gen")
    return out, generate(out, people=300, seed=11, workers=1)


@pytest.fixture(scope="session")
def records(generated):
    return pq.read_table(generated[0] / "ground_truth" / "records.parquet").to_pandas()


@pytest.fixture(scope="session")
def people(generated):
    return pq.read_table(generated[0] / "ground_truth" / "people.parquet").to_pandas()
