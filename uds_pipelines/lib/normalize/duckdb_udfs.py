"""DuckDB functions so SQL can normalize whole tables: `uds_email_norm`, `uds_phone_e164`, ..."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from uds_pipelines.lib.normalize.address import address_key, place_key, postcode_key
from uds_pipelines.lib.normalize.country import normalize_country
from uds_pipelines.lib.normalize.dates import birth_date_iso
from uds_pipelines.lib.normalize.email import FAST_EMAIL_PATTERN, SPECIAL_TLDS, normalize_email
from uds_pipelines.lib.normalize.names import normalize_name, split_full_name
from uds_pipelines.lib.normalize.phone import normalize_phone

# The SQL fast path is the same test as `is_plain_ascii_email`; the rest goes to Python.
_MACROS = f"""
CREATE OR REPLACE TEMP MACRO uds__email_fast(e) AS
    regexp_full_match(e, '{FAST_EMAIL_PATTERN.replace("'", "''")}', 'i')
    AND length(e) <= 254
    AND length(split_part(e, '@', 1)) <= 64
    AND strpos(e, '--') = 0
    AND lower(regexp_extract(e, '\\.([A-Za-z]+)$', 1)) NOT IN {SPECIAL_TLDS!r};
CREATE OR REPLACE TEMP MACRO uds__email_fast_key(n) AS (
    WITH parts AS (
        SELECT split_part(n, '@', 1) AS local_part, split_part(n, '@', 2) AS domain
    ), folded AS (
        SELECT CASE WHEN starts_with(local_part, '+') THEN local_part
                    ELSE regexp_replace(local_part, '\\+.*$', '') END AS base, domain
        FROM parts
    )
    SELECT CASE WHEN domain IN ('gmail.com', 'googlemail.com') THEN replace(base, '.', '') || '@gmail.com'
                ELSE base || '@' || domain END
    FROM folded
);
CREATE OR REPLACE TEMP MACRO uds_email_norm(e) AS
    CASE WHEN e IS NULL THEN NULL
         WHEN uds__email_fast(trim(e)) THEN lower(trim(e))
         ELSE uds__email_norm_py(e) END;
CREATE OR REPLACE TEMP MACRO uds_email_key(e) AS
    CASE WHEN e IS NULL THEN NULL
         WHEN uds__email_fast(trim(e)) THEN uds__email_fast_key(lower(trim(e)))
         ELSE uds__email_key_py(e) END;
"""


# `uds_name_first` and `uds_name_last` split one full name; the split is cached between the two.
_split_full_name = lru_cache(maxsize=262_144)(split_full_name)


def _arrow_udf(scalar: Callable[..., str | None], arity: int) -> Callable[..., pa.Array]:
    """Vectorize a cached scalar function over Arrow chunks; repeats across chunks hit its lru_cache."""
    # DuckDB checks the Python signature against the declared parameters, so no *args here.
    if arity == 1:

        def udf1(values: pa.Array) -> pa.Array:
            # once per distinct value of the chunk: countries, first names and last names repeat
            # hundreds of times in DuckDB's 2,048-row chunks, and a Python call costs more than the hash
            distinct = pc.unique(values)
            results = pa.array([scalar(v) for v in distinct.to_pylist()], type=pa.string())
            return pc.take(results, pc.index_in(values, value_set=distinct))

        return udf1

    def udf2(first: pa.Array, second: pa.Array) -> pa.Array:
        rows = zip(first.to_pylist(), second.to_pylist(), strict=True)
        return pa.array([scalar(a, b) for a, b in rows], type=pa.string())

    return udf2


def _register(
    con: duckdb.DuckDBPyConnection, name: str, scalar: Callable[..., str | None], arity: int
) -> None:
    try:
        con.remove_function(name)
    except Exception:  # noqa: BLE001 - not registered yet on this connection
        pass
    con.create_function(
        name,
        _arrow_udf(scalar, arity),
        [duckdb.sqltype("VARCHAR")] * arity,
        duckdb.sqltype("VARCHAR"),
        type="arrow",
        null_handling="special",
    )


def register_duckdb_udfs(
    con: duckdb.DuckDBPyConnection, default_region: str = "US"
) -> duckdb.DuckDBPyConnection:
    """Register the `uds_*` normalization functions on `con` (idempotent); returns `con`.

    uds_email_norm(email), uds_email_key(email), uds_email_reason(email),
    uds_phone_e164(phone, country), uds_phone_reason(phone, country),
    uds_name_norm(name), uds_name_key(name), uds_name_first(full_name), uds_name_last(full_name)
    (`split_full_name`: 'Doe, Jane' -> Jane / Doe, particles stay in the surname), uds_country(country),
    uds_birth_date(text, order) (ISO text; `order` 'dmy', 'mdy' or NULL), uds_address_key(line),
    uds_place_key(city), uds_postcode_key(postcode).
    """
    region = (default_region or "US").upper()
    scalars: dict[str, tuple[Callable[..., str | None], int]] = {
        "uds__email_norm_py": (lambda e: normalize_email(e).normalized, 1),
        "uds__email_key_py": (lambda e: normalize_email(e).match_key, 1),
        "uds_email_reason": (lambda e: normalize_email(e).reason, 1),
        "uds_phone_e164": (lambda p, c: normalize_phone(p, c, region).e164, 2),
        "uds_phone_reason": (lambda p, c: normalize_phone(p, c, region).reason, 2),
        "uds_name_norm": (lambda n: normalize_name(n).normalized, 1),
        "uds_name_key": (lambda n: normalize_name(n).match_key, 1),
        "uds_name_first": (lambda n: _split_full_name(n)[0], 1),
        "uds_name_last": (lambda n: _split_full_name(n)[1], 1),
        "uds_country": (normalize_country, 1),
        "uds_birth_date": (birth_date_iso, 2),
        "uds_address_key": (address_key, 1),
        "uds_place_key": (place_key, 1),
        "uds_postcode_key": (postcode_key, 1),
    }
    for name, (scalar, arity) in scalars.items():
        _register(con, name, scalar, arity)
    con.execute(_MACROS)
    return con
