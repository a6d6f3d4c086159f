"""Stripe-Signature parsing and verification, including rotation and several v1 entries."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from uds_pipelines.lib.webhooks.signature import (
    SignatureError,
    compute_signature,
    parse_signature_header,
    sign_header,
    verify_signature,
)

BODY = b'{"id":"evt_1","object":"event","type":"customer.created"}'
NOW = 1_760_000_000


def test_compute_signature_matches_stripe_scheme() -> None:
    expected = hmac.new(b"whsec_test", f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert compute_signature(BODY, NOW, "whsec_test") == expected
    assert sign_header(BODY, "whsec_test", NOW) == f"t={NOW},v1={expected}"


def test_valid_header_returns_timestamp() -> None:
    assert verify_signature(BODY, sign_header(BODY, "whsec_a", NOW), ["whsec_a"], now=NOW + 10) == NOW


def test_any_secret_any_v1_matches() -> None:
    good = compute_signature(BODY, NOW, "whsec_old")
    header = f"t={NOW},v1={'0' * 64},v1={good},v0={'f' * 64}"
    assert verify_signature(BODY, header, ["whsec_new", "whsec_old"], now=NOW) == NOW


def test_v0_only_is_rejected() -> None:
    header = f"t={NOW},v0={compute_signature(BODY, NOW, 'whsec_a')}"
    with pytest.raises(SignatureError, match="no v1 signature"):
        verify_signature(BODY, header, ["whsec_a"], now=NOW)


@pytest.mark.parametrize("offset", [301, -301, 10_000])
def test_timestamp_outside_tolerance(offset: int) -> None:
    with pytest.raises(SignatureError, match="tolerance"):
        verify_signature(BODY, sign_header(BODY, "whsec_a", NOW), ["whsec_a"], now=NOW + offset)


def test_tolerance_edge_is_accepted() -> None:
    assert verify_signature(BODY, sign_header(BODY, "whsec_a", NOW), ["whsec_a"], now=NOW + 300) == NOW


def test_body_tampering_and_wrong_secret_rejected() -> None:
    header = sign_header(BODY, "whsec_a", NOW)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(BODY + b" ", header, ["whsec_a"], now=NOW)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(BODY, header, ["whsec_b"], now=NOW)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("  ", "missing"),
        ("garbage", "malformed"),
        ("t=abc,v1=00", "bad timestamp"),
        ("t=1,t=2,v1=00", "bad timestamp"),
        ("v1=00", "no timestamp"),
        ("t=123", "no v1"),
    ],
)
def test_malformed_headers(header: str | None, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify_signature(BODY, header, ["whsec_a"], now=NOW)


def test_parse_keeps_every_v1_and_ignores_other_schemes() -> None:
    parsed = parse_signature_header("t=5, v1=AB ,v0=cd,v1=ef,x=1")
    assert parsed.timestamp == 5
    assert parsed.signatures == ("ab", "ef")


def test_no_secret_configured() -> None:
    with pytest.raises(SignatureError, match="no webhook secret"):
        verify_signature(BODY, sign_header(BODY, "whsec_a", NOW), [], now=NOW)
