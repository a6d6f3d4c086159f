"""Guardrails: blocked and junk values are not followed, per-type limits cut the weakest links first."""

from __future__ import annotations

import duckdb
import pytest

from uds_pipelines.lib.identity.guardrails import GuardrailConfig, blocked_rule_sql
from uds_pipelines_tests.lib.identity.helpers import Runner, ids_by_record


def _rules(pairs: list[tuple[str, str]], config: GuardrailConfig | None = None) -> list[str | None]:
    con = duckdb.connect()
    con.execute("CREATE TABLE v (id_type VARCHAR, id_value VARCHAR, pos INTEGER)")
    con.executemany("INSERT INTO v VALUES (?, ?, ?)", [(t, val, i) for i, (t, val) in enumerate(pairs)])
    rows = con.execute(
        f"SELECT {blocked_rule_sql(config or GuardrailConfig())} FROM v ORDER BY pos"
    ).fetchall()
    return [r[0] for r in rows]


def test_blocked_emails_and_placeholder_phones() -> None:
    blocked = [
        ("email", "test@test.com"),
        ("email", "Example@Example.com"),
        ("email", "noreply@shop.io"),
        ("email", "no-reply@shop.io"),
        ("email", "donotreply@bank.co.uk"),
        ("email", "null@corp.de"),
        ("email", "jane@example.com"),
        ("email", "jane@mail.test.com"),
        ("phone", "+10000000000"),
        ("phone", "+15555555555"),
        ("phone", "+11234567890"),
        ("phone", "+447777777777"),
    ]
    allowed = [
        ("email", "jane@contest.com"),
        ("email", "noreplyfan@gmail.com"),
        ("email", "testuser@gmail.com"),
        ("phone", "+14155550123"),
        ("phone", "+447911123456"),
        ("stripe_customer", "test@test.com"),
    ]
    rules = _rules(blocked + allowed)
    assert all(r is not None for r in rules[: len(blocked)]), list(zip(blocked, rules, strict=True))
    assert rules[len(blocked) :] == [None] * len(allowed)
    assert _rules([("phone", "+15555555555")], GuardrailConfig(block_placeholder_phones=False)) == [None]


def test_junk_email_star_stays_separate_and_is_reported(tmp_path) -> None:
    records = {("form", f"f{i:04d}"): [("email", "test@test.com")] for i in range(1000)}
    out = Runner(tmp_path).run(records)
    assert out["identity_map"]["customer_id"].nunique() == 1000
    report = out["guardrail_report"]
    row = report[report["rule"] == "blocked_value"].iloc[0]
    assert (row["id_type"], row["records_affected"], row["links_cut"]) == ("email", 1000, 1000)
    assert "test@test.com" not in report.to_csv()


def test_shared_phone_over_max_records_is_junk(tmp_path) -> None:
    records = {
        ("survey", f"s{i:04d}"): [("phone", "+14155550123"), ("email", f"u{i}@mail.io")] for i in range(1000)
    }
    records[("form", "x1")] = [("email", "u1@mail.io")]
    out = Runner(tmp_path).run(records)
    ids = ids_by_record(out["identity_map"])
    assert out["identity_map"]["customer_id"].nunique() == 1000
    assert ids[("form", "x1")] == ids[("survey", "s0001")]
    report = out["guardrail_report"]
    assert report[["rule", "id_type", "records_affected", "links_cut"]].values.tolist() == [
        ["max_records_per_value", "phone", 1000, 1000]
    ]
    assert (
        report["id_value_masked"].iloc[0].endswith("23")
        and "4155550" not in report["id_value_masked"].iloc[0]
    )


def test_per_type_limit_cuts_phone_before_stripe_customer(tmp_path) -> None:
    records = {
        ("form", "a1"): [
            ("email", "a1@m.io"),
            ("email", "a2@m.io"),
            ("email", "a3@m.io"),
            ("phone", "+14155550100"),
        ],
        ("stripe", "cus_A"): [("stripe_customer", "cus_A"), ("email", "a1@m.io")],
        ("form", "a2"): [("stripe_customer", "cus_A")],
        ("survey", "b1"): [
            ("email", "b1@m.io"),
            ("email", "b2@m.io"),
            ("email", "b3@m.io"),
            ("phone", "+14155550100"),
        ],
    }
    out = Runner(tmp_path).run(records)
    ids = ids_by_record(out["identity_map"])
    assert ids[("form", "a1")] == ids[("stripe", "cus_A")] == ids[("form", "a2")]
    assert ids[("survey", "b1")] != ids[("form", "a1")]
    report = out["guardrail_report"]
    assert report[["rule", "id_type", "links_cut"]].values.tolist() == [["per_type_limit", "phone", 2]]
    assert out["stats"]["type_limit_rounds"] == 1

    relaxed = GuardrailConfig.from_dict({"max_values_per_type": {"email": 10}})
    out = Runner(tmp_path / "relaxed", relaxed).run(records)
    assert out["identity_map"]["customer_id"].nunique() == 1


def test_config_from_dict_and_yaml(tmp_path) -> None:
    path = tmp_path / "guardrails.yaml"
    path.write_text(
        "max_records_per_value: 20\nmax_values_per_type: {phone: 2}\n"
        "blocked_values: {email: [me@here.com]}\ntype_priority: [email, phone]\n"
    )
    config = GuardrailConfig.from_yaml(path)
    assert config.max_records_per_value == 20
    assert config.max_values_per_type == {
        "email": 5,
        "phone": 2,
        "stripe_customer": 10,
        "external_id": 5,
        "event_user": 5,
    }
    assert config.blocked_values["email"] == ("me@here.com",)
    assert config.type_priority == ("email", "phone")
    assert _rules([("email", "me@here.com"), ("email", "a@a.com")], config) == ["blocked_value", None]
    with pytest.raises(ValueError, match="unknown guardrail setting"):
        GuardrailConfig.from_dict({"max_record_per_value": 3})
    with pytest.raises(ValueError, match="max_records_per_value"):
        GuardrailConfig.from_dict({"max_records_per_value": 1})
