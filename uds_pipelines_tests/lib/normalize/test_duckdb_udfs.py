"""SQL functions agree with the Python normalizers, over real Parquet and on tricky inputs."""

import random
import string

import duckdb
import pandas as pd
import pytest

from uds_pipelines.lib.lake import write_parquet_atomic
from uds_pipelines.lib.normalize import (
    normalize_country,
    normalize_email,
    normalize_email_strict,
    normalize_name,
    normalize_phone,
    register_duckdb_udfs,
)

TRICKY_EMAILS = [
    "jane@x.com",
    " Jane.Doe+News@Example.COM ",
    "J.a.n.e+x@GoogleMail.com",
    "jane.doe@gmail.com",
    "+tag@x.com",
    "a+b+c@x.com",
    "jane@bücher.de",
    "jane@XN--BCHER-KVA.DE",
    "用户@例子.广告",
    "Jane <jane@x.com>",
    "mailto:jane@x.com",
    "jane@",
    "@x.com",
    "a@b",
    "a b@c.com",
    "a..b@x.com",
    "a.@x.com",
    ".a@x.com",
    "jane@-x.com",
    "jane@x-.com",
    "jane@x..com",
    "jane@x.c",
    "jane@x.c0m",
    "jane@localhost",
    "jane@x.test",
    "jane@x.local",
    "jane@x.onion",
    "o'brien@x.ie",
    "x_y{z}|~@x.co.uk",
    "jane@sub.do--main.com",
    "jane@1.2.3.4",
    "jane@[1.2.3.4]",
    '"q"@x.com',
    "\tjane@x.com\n",
    "JANE@X.COM",
    "jane@x.com.",
    "a" * 64 + "@x.com",
    "a" * 65 + "@x.com",
    "x@" + "a" * 63 + ".com",
    "x@" + "a" * 64 + ".com",
    "x@" + ".".join(["a" * 60] * 5) + ".com",
    "jane@x_y.com",
    "jäne@x.com",
    "Ｊａｎｅ@x.com",
    "",
    "   ",
    None,
    "no-at-sign",
    "a@b@c.com",
]


def _fuzz_emails(count: int) -> list[str]:
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + ".+-_@'!#~ "
    out = []
    for _ in range(count):
        local = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        domain = "".join(
            rng.choice(string.ascii_lowercase + ".-" + string.digits) for _ in range(rng.randint(1, 10))
        )
        out.append(f"{local}@{domain}.{rng.choice(['com', 'de', 'test', 'c', 'io', 'x1'])}")
    return out


@pytest.fixture
def con():
    connection = duckdb.connect()
    register_duckdb_udfs(connection, default_region="US")
    yield connection
    connection.close()


def test_email_sql_agrees_with_python(con, tmp_path) -> None:
    emails = TRICKY_EMAILS + _fuzz_emails(3000)
    path = write_parquet_atomic(
        pd.DataFrame({"i": range(len(emails)), "e": emails}), tmp_path / "emails.parquet"
    )
    rows = con.execute(
        f"SELECT i, uds_email_norm(e), uds_email_key(e) FROM read_parquet('{path}') ORDER BY i"
    ).fetchall()
    fast = con.execute(
        f"SELECT count(*) FROM read_parquet('{path}') WHERE uds__email_fast(trim(e))"
    ).fetchone()[0]
    assert fast > 500, "the SQL fast path should take the common plain-ASCII addresses"
    mismatches = []
    for (_i, norm, key), raw in zip(rows, emails, strict=True):
        expected = normalize_email_strict(raw)
        python = normalize_email(raw)
        if (norm, key) != (expected.normalized, expected.match_key) or python != expected:
            mismatches.append((raw, norm, key, python, expected))
    assert mismatches == []
    valid = sum(1 for _, norm, _ in rows if norm is not None)
    assert 0 < valid < len(rows)


def test_phone_name_country_sql_agree_with_python(con, tmp_path) -> None:
    frame = pd.DataFrame(
        {
            "phone": [
                "+44 (0)20 7946 0958",
                "030 901820",
                "030 901820",
                "(415) 555-0123 x9",
                "abc",
                None,
                "0000000000",
            ],
            "country": ["GB", "Germany", None, "US", "DE", "FR", None],
            "name": ["İSMAİL", "Weiß", "Zoë 🌟", None, "VAN DER BERG", "🌟", " jane  DOE "],
        }
    )
    path = write_parquet_atomic(frame, tmp_path / "people.parquet")
    rows = con.execute(
        f"""SELECT uds_phone_e164(phone, country), uds_phone_reason(phone, country), uds_name_key(name),
                   uds_name_norm(name), uds_country(country) FROM read_parquet('{path}')"""
    ).fetchall()
    assert len(rows) == len(frame)
    for row, (phone, country, name) in zip(rows, frame.itertuples(index=False), strict=True):
        p = normalize_phone(phone, country, "US")
        n = normalize_name(name)
        assert row == (p.e164, p.reason, n.match_key, n.normalized, normalize_country(country))
    assert rows[1][0] == "+4930901820" and rows[2][0] is None  # same digits, different country


def test_default_region_and_reregistration(tmp_path) -> None:
    connection = duckdb.connect()
    register_duckdb_udfs(connection, default_region="US")
    register_duckdb_udfs(connection, default_region="DE")  # idempotent: replaces, does not fail
    assert connection.execute("SELECT uds_phone_e164('030 901820', NULL)").fetchone()[0] == "+4930901820"
    assert connection.execute("SELECT uds_email_key(NULL)").fetchone()[0] is None


def test_birth_date_and_address_sql_agree_with_python(con) -> None:
    from uds_pipelines.lib.normalize import address_key, place_key, postcode_key
    from uds_pipelines.lib.normalize.dates import birth_date_iso

    values = [
        ("1979-12-05", None, "Hauptstraße 5", "München", "10115"),
        ("05/12/1979", "dmy", "10, Downing St.", None, "sw1a 1aa"),
        ("05/12/1979", None, None, "Frankfurt am Main", None),
        ("25/12/1979", None, "  ", "", "01310-100"),
        (None, "mdy", "Av. Paulista 1000", "São Paulo", ""),
        ("soon", None, "1-2-3 Shibuya", "Tokyo", "100-0001"),
    ]
    con.execute("CREATE TABLE t (i INT, dob VARCHAR, ord VARCHAR, line VARCHAR, city VARCHAR, pc VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", [(i, *v) for i, v in enumerate(values)])
    rows = con.execute(
        "SELECT uds_birth_date(dob, ord), uds_address_key(line), uds_place_key(city), uds_postcode_key(pc) "
        "FROM t ORDER BY i"
    ).fetchall()
    expected = [
        (birth_date_iso(d, o), address_key(a), place_key(c), postcode_key(p)) for d, o, a, c, p in values
    ]
    assert rows == expected
    assert rows[1][0] == "1979-12-05" and rows[2][0] is None
