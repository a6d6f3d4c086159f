from pathlib import Path

import pytest

REALDATA = Path(__file__).parent / "realdata"


@pytest.fixture
def realdata() -> Path:
    """Real exports and payloads written by others (see realdata/*/SOURCES.md)."""
    return REALDATA
