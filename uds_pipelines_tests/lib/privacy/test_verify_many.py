"""The one-pass verification scan finds every needle variant of many erased people at once, in
Parquet text, nested JSON payloads and exported files, and no lookalike of them."""

import json

import pandas as pd

from uds_pipelines.lib import lake
from uds_pipelines.lib.privacy import verify_erased
from uds_pipelines.lib.privacy.needles import sha256_hex

PEOPLE = 2000


def _spellings(i: int) -> dict[str, str]:
    """Identifier spellings of person i as the lake may carry them (case, JSON escapes, phones, ids)."""
    return {
        "email": f"Person.{i}+Shop@Mail{i % 7}.Example.com",
        "phone": f"+1415{i:07d}",
        "formatted": f"(415) {i // 10000:03d}-{i % 10000:04d}",
        "customer": f"uds_{i:012d}",
        "stripe": f"cus_A{i:08d}",
        "unicode": f"jos\u00e9{i}@mail.example.org",
    }


def _planted(i: int, kind: str) -> str:
    value = _spellings(i)[kind]
    if kind == "email":
        return f"contact {value.upper()}, thanks"  # case differs from the request
    if kind == "unicode":
        return json.dumps({"note": value})  # \u00e9 escaped in payload text
    return f"ref: {value}."  # followed by a full stop


def test_every_variant_of_many_erased_people_is_found(tmp_path):
    data = tmp_path / "data"
    kinds = list(_spellings(0))
    identifiers = {v for i in range(PEOPLE) for v in _spellings(i).values()}
    rows = [(i, kind, _planted(i, kind)) for i in range(PEOPLE) for kind in kinds]
    lake.write_parquet_atomic(
        pd.DataFrame({"id": [r[0] for r in rows], "note": [r[2] for r in rows]}),
        data / "lake" / "misc" / "notes.parquet",
    )
    payloads = [
        json.dumps({"data": {"object": {"billing": {"email": _spellings(i)["email"].lower()}}}})
        for i in range(PEOPLE)
    ]
    hashed = [sha256_hex(_spellings(i)["email"].lower()) for i in range(PEOPLE)]
    lake.write_parquet_atomic(
        pd.DataFrame({"payload": payloads, "hash": hashed}), data / "lake" / "landed" / "stripe" / "s.parquet"
    )
    (data / "exports").mkdir(parents=True)
    (data / "exports" / "a.csv").write_text(
        "customer_id,phone\n"
        + "".join(f"{_spellings(i)['customer']},{_spellings(i)['formatted']}\n" for i in range(PEOPLE))
    )
    (data / "exports" / "b.json").write_text(
        json.dumps([{"stripe": _spellings(i)["stripe"]} for i in range(PEOPLE)], indent=1)
    )
    found = {(f.path, f.detail) for f in verify_erased(data, None, identifiers)}
    assert found == {
        ("lake/misc/notes.parquet", f"parquet column note: {len(rows)} row(s)"),
        ("lake/landed/stripe/s.parquet", f"parquet column payload: {PEOPLE} row(s)"),
        ("lake/landed/stripe/s.parquet", f"parquet column hash: {PEOPLE} row(s)"),
        ("exports/a.csv", f"lines/blocks: {PEOPLE} match(es)"),
        ("exports/b.json", f"lines/blocks: {PEOPLE} match(es)"),
    }


def test_lookalikes_of_erased_people_are_not_found(tmp_path):
    data = tmp_path / "data"
    identifiers = {v for i in range(PEOPLE) for v in _spellings(i).values()}
    lookalikes = []
    for i in range(PEOPLE):
        s = _spellings(i)
        lookalikes += [
            "x" + s["email"],  # longer local part
            s["email"] + "x",  # longer domain
            s["phone"] + "9",  # longer number
            s["customer"] + "_2",  # longer id
            "cus_B" + s["stripe"][5:],  # same digits, other id
            s["email"].replace("+Shop", "+Shops"),  # other tag
        ]
    lake.write_parquet_atomic(pd.DataFrame({"note": lookalikes}), data / "lake" / "misc" / "t.parquet")
    (data / "exports").mkdir(parents=True)
    (data / "exports" / "c.csv").write_text("\n".join(lookalikes))
    assert verify_erased(data, None, identifiers) == []


def test_a_tables_files_are_searched_together_and_reported_one_by_one(tmp_path):
    """A day-partitioned table's folder is read in one query; files whose columns do not unite, and
    one that is not readable Parquet, are searched alone: each finding still names its own file."""
    data = tmp_path / "data"
    folder = data / "lake" / "events"
    for day in range(30):
        note = "ping ANN@Example.com" if day in (3, 17) else f"nobody {day}"
        lake.write_parquet_atomic(
            pd.DataFrame({"note": [note, "x"], "n": [day, 1]}), folder / f"d{day:02d}.parquet"
        )
    # the same column name with a type that does not unite with text
    lake.write_parquet_atomic(pd.DataFrame({"note": [[1, 2]], "n": [3]}), folder / "odd.parquet")
    (folder / "broken.parquet").write_bytes(b"PAR1 not really ann@example.com")
    found = {(f.path, f.detail) for f in verify_erased(data, None, {"ann@example.com"})}
    assert found == {
        ("lake/events/d03.parquet", "parquet column note: 1 row(s)"),
        ("lake/events/d17.parquet", "parquet column note: 1 row(s)"),
        ("lake/events/broken.parquet", "unreadable parquet bytes"),
    }
