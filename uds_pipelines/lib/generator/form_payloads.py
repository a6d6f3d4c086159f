"""Form submission payloads in each provider's real shape (HubSpot, Typeform, Webflow, Netlify, flat)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from uds_pipelines.lib.generator.ids import ALPHABET
from uds_pipelines.lib.generator.people import Person
from uds_pipelines.lib.generator.pools import COUNTRY_NAMES, UTM
from uds_pipelines.lib.generator.variants import identity_fields

EMAIL_TEXT = "I agree to receive marketing emails from Acme."
SMS_TEXT = "I agree to receive text messages (SMS) about offers from Acme."
HUBSPOT_SUBSCRIPTIONS = {"email_marketing": 999, "sms_marketing": 1001}


@dataclass
class Submission:
    payload: dict
    record_id: str | None
    ids: dict
    note: str
    # (purpose, granted) statements made by this submission.
    consents: list[tuple[str, bool]] = field(default_factory=list)
    flat: dict | None = None


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(n * 4):0{n}x}"


def _iso(ts: int, ms: int = 0) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms:03d}Z"


def _country(rng: random.Random, code: str) -> str:
    roll = rng.random()
    return code if roll < 0.6 else (COUNTRY_NAMES[code] if roll < 0.85 else code.lower())


def _dob(rng: random.Random, person: Person) -> str:
    d = person.date_of_birth
    return d.isoformat() if rng.random() < 0.7 else f"{d.day:02d}/{d.month:02d}/{d.year}"


def _consents(rng: random.Random, forced: bool | None) -> list[tuple[str, bool]]:
    out = []
    if forced is not None:
        out.append(("email_marketing", forced))
    elif rng.random() < 0.8:
        out.append(("email_marketing", rng.random() < 0.65))
    if rng.random() < 0.4:
        out.append(("sms_marketing", rng.random() < 0.4))
    return out


def hubspot(rng: random.Random, person: Person, ts: int, forced: bool | None = None) -> Submission:
    ids, notes = identity_fields(rng, person)
    fields = [
        {"objectTypeId": "0-1", "name": "email", "value": ids["email"]},
        {"objectTypeId": "0-1", "name": "firstname", "value": ids["first_name"]},
    ]
    if ids["last_name"]:
        fields.append({"objectTypeId": "0-1", "name": "lastname", "value": ids["last_name"]})
    if ids["phone"]:
        fields.append({"objectTypeId": "0-1", "name": "phone", "value": ids["phone"]})
    fields.append({"objectTypeId": "0-1", "name": "country", "value": _country(rng, person.country)})
    if rng.random() < 0.3:
        # Older integrations post fields without objectTypeId (see the older HubSpot docs example).
        for f in fields:
            del f["objectTypeId"]
    consents = _consents(rng, forced)
    source, medium, campaign = rng.choice(UTM)
    payload = {
        "submittedAt": str(ts * 1000 + rng.randrange(1000)),
        "fields": fields,
        "context": {
            "hutk": _hex(rng, 32),
            "pageUri": f"https://www.acme.example/signup?utm_source={source}"
            f"&utm_medium={medium}&utm_campaign={campaign}",
            "pageName": "Sign up",
        },
        "legalConsentOptions": {
            "consent": {
                "consentToProcess": True,
                "text": "I agree to allow Acme to store and process my personal data.",
                "communications": [
                    {
                        "value": granted,
                        "subscriptionTypeId": HUBSPOT_SUBSCRIPTIONS[purpose],
                        "text": EMAIL_TEXT if purpose == "email_marketing" else SMS_TEXT,
                    }
                    for purpose, granted in consents
                ],
            }
        },
    }
    # A v3 submission body carries no id of its own; the pipeline hashes the payload.
    return Submission(payload, None, ids, "; ".join(notes), consents)


def typeform(rng: random.Random, person: Person, ts: int, forced: bool | None = None) -> Submission:
    ids, notes = identity_fields(rng, person)
    token = _hex(rng, 32)
    fields = [
        ("fn01", "What's your first name?", "short_text", "first_name"),
        ("em02", "What's your email address?", "email", "email"),
        ("ph03", "And your phone number?", "phone_number", "phone"),
        ("op04", "May we email you news and offers?", "yes_no", "consent_email_marketing"),
    ]
    consents = _consents(rng, forced)
    consents = [c for c in consents if c[0] == "email_marketing"]
    answers = [
        {
            "type": "text",
            "text": ids["first_name"],
            "field": {"id": "fn01", "type": "short_text", "ref": "first_name"},
        },
        {"type": "email", "email": ids["email"], "field": {"id": "em02", "type": "email", "ref": "email"}},
    ]
    if ids["phone"]:
        answers.append(
            {
                "type": "phone_number",
                "phone_number": ids["phone"],
                "field": {"id": "ph03", "type": "phone_number", "ref": "phone"},
            }
        )
    for _, granted in consents:
        answers.append(
            {
                "type": "boolean",
                "boolean": granted,
                "field": {"id": "op04", "type": "yes_no", "ref": "consent_email_marketing"},
            }
        )
    source, medium, campaign = rng.choice(UTM)
    payload = {
        "event_id": "".join(rng.choices(ALPHABET, k=10)),
        "event_type": "form_response",
        "form_response": {
            "form_id": "Ac4Me7",
            "token": token,
            "landed_at": _iso(ts - rng.randint(30, 600)),
            "submitted_at": _iso(ts).replace(".000Z", "Z"),
            "hidden": {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign},
            "definition": {
                "id": "Ac4Me7",
                "title": "Newsletter sign-up",
                "fields": [
                    {
                        "id": i,
                        "title": t,
                        "type": ty,
                        "ref": ref,
                        "allow_multiple_selections": False,
                        "allow_other_choice": False,
                    }
                    for i, t, ty, ref in fields
                ],
            },
            "answers": answers,
        },
    }
    return Submission(payload, token, ids, "; ".join(notes), consents)


def webflow(
    rng: random.Random, person: Person, ts: int, version: int, forced: bool | None = None
) -> Submission:
    ids, notes = identity_fields(rng, person)
    consents = [c for c in _consents(rng, forced) if c[0] == "email_marketing"]
    data = {"First Name": ids["first_name"], "Last Name": ids["last_name"] or "", "Email": ids["email"]}
    if ids["phone"]:
        data["Phone Number"] = ids["phone"]
        if version == 2 and ids["phone"].startswith("+") and rng.random() < 0.3:
            # Webflow's own example posts the phone as a JSON number: 15550000000.
            data["Phone Number"] = int("".join(ch for ch in ids["phone"] if ch.isdigit()))
    for _, granted in consents:
        data["Marketing Opt-in"] = "true" if granted else "false"
    sub_id = _hex(rng, 24)
    if version == 1:
        payload = {
            "name": "Contact Us",
            "site": "62749158efef318abc8d5a0f",
            "data": data,
            "d": _iso(ts, rng.randrange(1000)),
            "_id": sub_id,
        }
    else:
        schema = [
            {
                "fieldName": k,
                "fieldType": "FormTextInput" if k != "Marketing Opt-in" else "FormCheckboxInput",
                "fieldElementId": f"285042f7-d554-dc7f-102c-aa10d6a2d2{i:02x}",
            }
            for i, k in enumerate(data)
        ]
        payload = {
            "triggerType": "form_submission",
            "payload": {
                "name": "Contact Us",
                "siteId": "65427cf400e02b306eaa049c",
                "data": data,
                "schema": schema,
                "submittedAt": _iso(ts, rng.randrange(1000)),
                "id": sub_id,
                "formId": "65429eadebe8a9f3a30f62d0",
                "formElementId": "4e038d2c-6a1e-4953-7be9-a59a2b453177",
            },
        }
    return Submission(payload, sub_id, ids, "; ".join(notes), consents)


def netlify(rng: random.Random, person: Person, ts: int, forced: bool | None = None) -> Submission:
    ids, notes = identity_fields(rng, person)
    name = " ".join(p for p in (ids["first_name"], ids["last_name"]) if p)
    source, medium, campaign = rng.choice(UTM)
    data = {
        "name": name,
        "email": ids["email"],
        "phone": ids["phone"] or "",
        "message": "Please send me the catalogue",
        "utm_source": source,
        "utm_medium": medium,
        "utm_campaign": campaign,
        "ip": f"79.154.{rng.randrange(256)}.88",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "referrer": "https://www.acme.example/contact",
    }
    consents: list[tuple[str, bool]] = []
    # An unticked HTML checkbox is simply absent, so Netlify only ever states a "yes".
    if forced is not False and rng.random() < 0.5:
        data["consent_email_marketing"] = "on"
        consents.append(("email_marketing", True))
    sub_id = _hex(rng, 24)
    human = {
        k.replace("_", " ").title(): v for k, v in data.items() if k not in ("ip", "user_agent", "referrer")
    }
    payload = {
        "payload": {
            "number": rng.randint(1, 99999),
            "title": name,
            "email": ids["email"],
            "name": name,
            "first_name": name,
            "last_name": None,
            "company": None,
            "summary": f"<strong>{name}</strong>",
            "body": data["message"],
            "data": data,
            "created_at": _iso(ts, rng.randrange(1000)),
            "human_fields": human,
            "ordered_human_fields": [
                {"title": k.replace("_", " ").title(), "name": k, "value": v}
                for k, v in data.items()
                if k not in ("ip", "user_agent", "referrer")
            ],
            "id": sub_id,
            "form_id": "62179ae05b6c0b000808de23",
            "site_url": "https://www.acme.example",
            "form_name": "contact",
        },
        "site": {"id": "b3f1c1a4-0000-4000-8000-000000000001", "name": "acme"},
    }
    return Submission(payload, sub_id, ids, "; ".join(notes), consents)


def flat(rng: random.Random, person: Person, ts: int, forced: bool | None = None) -> Submission:
    ids, notes = identity_fields(rng, person)
    consents = _consents(rng, forced)
    source, medium, campaign = rng.choice(UTM) if rng.random() < 0.7 else ("", "", "")
    sub_id = "sub_" + _hex(rng, 16)
    row = {
        "submission_id": sub_id,
        "email": ids["email"],
        "phone": ids["phone"],
        "first_name": ids["first_name"],
        "last_name": ids["last_name"],
        "country": _country(rng, person.country),
        "submitted_at": _iso(ts),
        "consent_email_marketing": None,
        "consent_sms_marketing": None,
        "utm_source": source,
        "utm_medium": medium,
        "utm_campaign": campaign,
        "date_of_birth": _dob(rng, person) if rng.random() < 0.6 else None,
        "address_line1": person.address_line1 if rng.random() < 0.6 else None,
        "city": person.city if rng.random() < 0.7 else None,
        "postcode": person.postcode if rng.random() < 0.6 else None,
    }
    # Ad-targeting and analytics opt-ins come from a generator of their own, seeded by the
    # submission: every other value (and so every other file) stays what it was.
    extra = random.Random(f"purposes:{sub_id}")
    for purpose in ("ad_targeting", "analytics"):
        row[f"consent_{purpose}"] = None
        if extra.random() < 0.8:
            consents.append((purpose, extra.random() < 0.8))
    for purpose, granted in consents:
        row[f"consent_{purpose}"] = granted
    return Submission(row, sub_id, ids, "; ".join(notes), consents, flat=row)
