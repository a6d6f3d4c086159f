"""The generated data has the variations, shapes and traps later stages are tested against."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import phonenumbers
import pyarrow.parquet as pq

from uds_pipelines.lib.generator.pools import JUNK_EMAILS, JUNK_PHONES, is_junk_phone
from uds_pipelines.lib.generator.surveys import NPS_Q, OPTIN_Q
from uds_pipelines.lib.generator.variants import phone_formats

STRIPE_TYPES = {
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "charge.succeeded",
    "charge.refunded",
    "invoice.paid",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "checkout.session.completed",
}


def stripe_events(out: Path) -> list[tuple[str, int, dict]]:
    """Well-formed events in processing order (file name, line)."""
    events = []
    for path in sorted((out / "inbox" / "stripe").glob("*.jsonl")):
        for pos, line in enumerate(path.read_bytes().splitlines(), start=1):
            try:
                obj = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                continue
            if (
                isinstance(obj, dict)
                and isinstance(obj.get("id"), str)
                and isinstance(obj.get("created"), int)
                and obj.get("data", {}).get("object")
            ):
                events.append((path.name, pos, obj))
    return events


def inbox_text(out: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace") for p in (out / "inbox").rglob("*") if p.is_file()
    )


def test_phones_are_valid_in_at_least_five_countries(people, generated):
    regions = set()
    for e164, country in zip(people["phone_e164"], people["country"], strict=True):
        number = phonenumbers.parse(e164, None)
        assert phonenumbers.is_valid_number(number)
        regions.add(phonenumbers.region_code_for_number(number))
        assert phonenumbers.region_code_for_number(number) == country
    assert len(regions) >= 5
    # The written variants still parse back to the person's number in their country.
    by_email = {
        e: (p, c) for e, p, c in zip(people["email"], people["phone_e164"], people["country"], strict=True)
    }
    rows = list(csv.DictReader(io.StringIO((generated[0] / "inbox/forms/flat_001.csv").read_text("utf-8"))))
    written: set[str] = set()
    for row in rows:
        email = row["email"].strip().lower()
        if email in by_email and row["phone"] and not is_junk_phone(row["phone"]):
            e164, country = by_email[email]
            parsed = phonenumbers.parse(row["phone"], country)
            assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == e164
            written.add(row["phone"])
    assert len(written) >= 10
    assert any(p.startswith("+") and " " in p for p in written), "international format"
    assert any(not p.startswith(("+", "00")) for p in written), "national format"
    assert any(" " not in p and p.startswith("+") for p in written), "E.164"


def test_identifier_variations_and_junk_are_present(generated, people):
    text = inbox_text(generated[0])
    lower = text.lower()
    assert sum(junk.lower() in lower for junk in JUNK_EMAILS) >= 2
    assert sum(junk in text for junk in JUNK_PHONES) >= 2
    assert "+news@" in text or "+shop@" in text or "+promo@" in text
    emails = set(people["email"])
    upper = [e for e in emails if e.upper() in text]
    assert upper, "some emails appear upper-cased"
    assert any(n in text for n in ("Müller", "José", "Zoë", "Jürgen", "François", "Satō"))
    assert any(
        f'"{n}' in text or f",{n}" in text for n in ("Bob", "Liz", "Mike", "Kate", "Tom", "Max", "Alex")
    )


def test_people_appear_in_several_sources_and_some_in_one(records):
    landed = records[records["expected"] == "land"].copy()
    landed["kind"] = landed["source"].map(
        {
            "stripe_event": "stripe",
            "stripe_customer": "stripe",
            "survey_response": "survey",
            "form_submission": "form",
            "privacy_request": "privacy",
        }
    )
    per_person = landed[landed["kind"] != "privacy"].groupby("person_id")["kind"].nunique()
    assert (per_person == 1).any() and (per_person >= 2).any() and (per_person == 3).any()


def test_stripe_event_shapes(generated):
    events = stripe_events(generated[0])
    types = {e["type"] for _, _, e in events}
    assert STRIPE_TYPES <= types
    currencies = set()
    for _, _, e in events:
        assert e["object"] == "event" and e["api_version"] == "2024-06-20" and e["livemode"] is False
        assert e["id"].startswith("evt_") and "pending_webhooks" in e and "request" in e
        obj = e["data"]["object"]
        currencies.add(obj.get("currency"))
        if e["type"] == "invoice.paid":
            assert obj["charge"].startswith("ch_") and obj["subscription"].startswith("sub_")
        if e["type"] == "charge.refunded":
            assert obj["refunds"]["data"][0]["object"] == "refund" and obj["amount_refunded"] > 0
        if e["type"].startswith("customer.subscription"):
            item = obj["items"]["data"][0]
            assert item["price"]["unit_amount"] > 0 and item["price"]["recurring"]["interval"] in (
                "month",
                "year",
            )
            assert item["quantity"] >= 1
        if e["type"] == "checkout.session.completed":
            assert obj["consent"]["promotions"] in ("opt_in", "opt_out", None)
            assert "@" in obj["customer_details"]["email"]
    assert {"usd", "eur", "gbp", "jpy"} <= currencies
    invoices = {
        e["data"]["object"]["id"]: e["data"]["object"]["charge"]
        for _, _, e in events
        if e["type"] == "invoice.paid"
    }
    invoiced = [
        e["data"]["object"]
        for _, _, e in events
        if e["type"] == "charge.succeeded" and e["data"]["object"]["invoice"]
    ]
    assert invoiced and all(
        invoices.get(c["invoice"]) == c["id"] for c in invoiced if c["invoice"] in invoices
    )


def test_some_customer_events_arrive_before_customer_created(generated):
    first_created: dict[str, tuple] = {}
    first_other: dict[str, tuple] = {}
    for name, pos, e in stripe_events(generated[0]):
        obj = e["data"]["object"]
        cid = obj["id"] if obj["object"] == "customer" else obj.get("customer")
        target = first_created if e["type"] == "customer.created" else first_other
        target.setdefault(cid, (name, pos))
    late = [c for c in first_created if c in first_other and first_other[c] < first_created[c]]
    assert late


def test_single_event_files_and_list_object(generated):
    stripe = generated[0] / "inbox" / "stripe"
    singles = list(stripe.glob("evt_*.json"))
    assert singles and all(json.loads(p.read_text())["object"] == "event" for p in singles)
    lists = [json.loads(p.read_text()) for p in stripe.glob("events_list_*.json")]
    assert len(lists) == 1 and lists[0]["object"] == "list" and lists[0]["data"]


def test_survey_layouts(generated):
    folder = generated[0] / "inbox" / "surveys"
    layouts = {
        p.name.rsplit("_", 1)[0]: list(csv.reader(io.StringIO(p.read_text("utf-8-sig"))))
        for p in folder.glob("*.csv")
    }
    assert set(layouts) == {"qualtrics_3row", "qualtrics_legacy", "surveymonkey", "typeform", "google_forms"}
    assert (folder / "qualtrics_legacy_001.csv").read_bytes().startswith(b"\xef\xbb\xbfV1,V2,")
    legacy = layouts["qualtrics_legacy"]
    assert legacy[1][:3] == ["ResponseID", "ResponseSet", "Name"] and legacy[2][0].startswith("R_")
    assert all(row[-1] == "" for row in legacy), "legacy exports end every line with a comma"
    q = layouts["qualtrics_3row"]
    assert q[2][q[0].index("Q1")] == '{"ImportId":"QID1"}' and NPS_Q in q[1] and OPTIN_Q in q[1]
    assert (
        "ResponseId" in q[0] and "RecipientEmail" in q[0] and q[3][q[0].index("ResponseId")].startswith("R_")
    )
    sm = layouts["surveymonkey"]
    assert sm[0][0] == "Respondent ID" and "Response" in sm[1] and "Open-Ended Response" in sm[1]
    assert sm[0][sm[0].index("How did you hear about us?") + 1] == "" and NPS_Q in sm[0] and OPTIN_Q in sm[0]
    tf = layouts["typeform"]
    assert tf[0][0] == "#" and tf[0][-2:] == ["Submit Date (UTC)", "Network ID"] and NPS_Q in tf[0]
    gf = layouts["google_forms"]
    assert gf[0][:2] == ["Timestamp", "Email Address"] and OPTIN_Q in gf[0]
    nps_col = gf[0].index(NPS_Q)
    assert all(r[nps_col] == "" or 0 <= int(r[nps_col]) <= 10 for r in gf[1:])


def test_consent_withdrawals_over_time(generated):
    consents = pq.read_table(generated[0] / "ground_truth" / "consents.parquet").to_pandas()
    assert set(consents["source"]) >= {"stripe", "survey", "form", "privacy"}
    email = consents[consents["purpose"] == "email_marketing"].sort_values("captured_at")
    withdrawn = 0
    for _, group in email.groupby("person_id"):
        granted = list(group["granted"])
        if True in granted and granted[-1] is False and granted.index(True) < len(granted) - 1:
            withdrawn += 1
    assert withdrawn >= 3


def test_privacy_requests_target_real_people(generated, people, records):
    out = generated[0]
    customers = records[records["source"] == "stripe_customer"].groupby("person_id")["record_id"].apply(set)
    by_id = people.set_index("person_id")
    truth = records[records["source"] == "privacy_request"].set_index(["file", "position"])
    types = set()
    for path in (out / "inbox" / "privacy").glob("*.jsonl"):
        for pos, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            req = json.loads(line)
            row = truth.loc[(f"privacy/{path.name}", pos)]
            if row["expected"] != "land":
                continue
            types.add(req["type"])
            person = by_id.loc[row["person_id"]]
            if "email" in req:
                local, _, domain = req["email"].strip().lower().partition("@")
                canon_local, _, canon_domain = person["email"].partition("@")
                assert domain == canon_domain and local.split("+")[0].replace(".", "") == canon_local.replace(
                    ".", ""
                )
            elif "phone" in req:
                parsed = phonenumbers.parse(req["phone"], person["country"])
                assert (
                    phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                    == person["phone_e164"]
                )
            else:
                assert req["customer_id"] in customers[row["person_id"]]
    assert types == {"erasure", "access", "consent"}
    erasures = records[(records["source"] == "privacy_request") & records["note"].str.startswith("erasure")]
    assert set(erasures["person_id"]) == set(people[people["erased"]]["person_id"])


def test_every_phone_format_parses_back_to_the_number(people):
    notes = set()
    for e164, country in zip(people["phone_e164"], people["country"], strict=True):
        for value, note in phone_formats(e164, country):
            parsed = phonenumbers.parse(value, country)
            assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == e164, (
                note,
                country,
            )
            notes.add(note)
    assert {"phone e164", "phone international", "phone national", "phone (0)", "phone 00 prefix"} <= notes


def test_stripe_totals_match_the_charges_in_the_inbox(generated, records):
    out = generated[0]
    owner = dict(
        zip(
            records.loc[records["source"] == "stripe_customer", "record_id"],
            records.loc[records["source"] == "stripe_customer", "person_id"],
            strict=True,
        )
    )
    seen: dict[str, dict] = {}
    for _, _, e in stripe_events(out):
        seen[e["id"]] = e
    for path in (out / "inbox" / "stripe").glob("*.json"):
        obj = json.loads(path.read_text("utf-8"))
        for e in obj["data"] if obj["object"] == "list" else [obj]:
            seen[e["id"]] = e
    expected: dict[tuple[str, str], list[int]] = {}
    for e in seen.values():
        if e["type"] in ("charge.succeeded", "charge.refunded"):
            charge = e["data"]["object"]
            tally = expected.setdefault((owner[charge["customer"]], charge["currency"]), [0, 0, 0])
            if e["type"] == "charge.succeeded":
                tally[0] += 1
                tally[1] += charge["amount"]
            else:
                tally[2] += charge["amount_refunded"]
    totals = pq.read_table(out / "ground_truth" / "stripe_totals.parquet").to_pandas()
    got = {
        (r.person_id, r.currency): [r.charges, r.charged_minor, r.refunded_minor] for r in totals.itertuples()
    }
    assert got == expected
    assert (totals["refunded_minor"] > 0).any()
