"""Email normalization: validation, Unicode domains, plus tags, Gmail folding, safe reasons."""

import json
import re

import pandas as pd
import pytest

from uds_pipelines.lib.normalize import normalize_email, normalize_emails


@pytest.mark.parametrize(
    ("raw", "normalized", "key"),
    [
        ("  Jane.Doe@Example.COM\t", "jane.doe@example.com", "jane.doe@example.com"),
        ("jane+news@x.com", "jane+news@x.com", "jane@x.com"),
        ("J.a.n.e+promo@GoogleMail.com", "j.a.n.e+promo@googlemail.com", "jane@gmail.com"),
        ("jane.doe@gmail.com", "jane.doe@gmail.com", "janedoe@gmail.com"),
        ("jane@bücher.de", "jane@bücher.de", "jane@bücher.de"),
        ("JANE@XN--BCHER-KVA.DE", "jane@bücher.de", "jane@bücher.de"),
        ("用户@例子.广告", "用户@例子.广告", "用户@例子.广告"),
        ("Jane Doe <Jane@X.com>", "jane@x.com", "jane@x.com"),
        ("mailto:jane@x.com", "jane@x.com", "jane@x.com"),
        ("+only@x.com", "+only@x.com", "+only@x.com"),
    ],
)
def test_valid_addresses(raw: str, normalized: str, key: str) -> None:
    result = normalize_email(raw)
    assert result.valid and result.reason is None
    assert result.original == raw
    assert result.normalized == normalized
    assert result.match_key == key


def test_plus_tags_and_gmail_dots_do_not_fold_other_domains_dots() -> None:
    assert normalize_email("jane.doe@outlook.com").match_key == "jane.doe@outlook.com"
    assert (
        normalize_email("Jane.Doe+a@gmail.com").match_key
        == normalize_email("janedoe@googlemail.com").match_key
    )


@pytest.mark.parametrize(
    ("raw", "reason_part"),
    [
        ("jane@", "after the @-sign"),
        ("@x.com", "before the @-sign"),
        ("a@b", "should have a period"),
        ("a b@c.com", "invalid characters"),
        ("jane.example.com", "missing @-sign"),
        ("jane@x..com", "two periods"),
        ("jane@localhost.test", "special-use"),
        ("", "missing"),
        (None, "missing"),
    ],
)
def test_invalid_addresses_have_reason(raw: str | None, reason_part: str) -> None:
    result = normalize_email(raw)
    assert not result.valid
    assert result.normalized is None and result.match_key is None
    assert reason_part in result.reason


@pytest.mark.parametrize(
    "raw", ["jane doe@example.com", "jänë,x@example.com", "jane@exa mple.com", "jane@@example.com"]
)
def test_reason_never_contains_the_address(raw: str) -> None:
    reason = normalize_email(raw).reason
    assert reason
    local, _, domain = raw.rpartition("@")
    for part in (raw, local, domain, "jane", "example"):
        assert part.lower() not in reason.lower()


def test_vectorized_keeps_index_and_repeats() -> None:
    series = pd.Series(["A@X.com", None, "bad", "A@X.com", 42], index=[10, 11, 12, 13, 14])
    frame = normalize_emails(series)
    assert list(frame.index) == [10, 11, 12, 13, 14]
    assert frame["normalized"].tolist() == ["a@x.com", None, None, "a@x.com", None]
    assert frame["valid"].tolist() == [True, False, False, True, False]
    assert frame.loc[12, "reason"] == "missing @-sign"
    assert frame.loc[14, "original"] == 42


def test_realdata_emails_are_valid(realdata) -> None:
    pattern = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
    found = set()
    for path in (realdata / "stripe").glob("*.json"):
        found.update(pattern.findall(path.read_text(encoding="utf-8")))
    assert found, "the Stripe fixtures carry example addresses"
    for address in found:
        result = normalize_email(address)
        assert result.valid, address
        assert result.normalized == address.lower()
    customer = json.loads((realdata / "stripe" / "openapi_fixture_customer.json").read_text())
    assert normalize_email(customer.get("email")).valid == (customer.get("email") is not None)
