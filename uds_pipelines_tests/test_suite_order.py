"""The suite's scheduling aid (conftest.SLOWEST_FIRST) names files that exist: a renamed slow file
would otherwise lose its early start without a word, and the suite its time budget."""

from uds_pipelines_tests.conftest import REALDATA, SLOWEST_FIRST


def test_every_slowest_first_entry_is_a_test_file():
    root = REALDATA.parent
    missing = [name for name in SLOWEST_FIRST if not (root / name).is_file()]
    assert missing == []
