"""Survey inbox files: respondents spread over every export layout, with ragged rows in one file."""

from __future__ import annotations

import random

from uds_pipelines.lib.generator.malformed import ragged_row
from uds_pipelines.lib.generator.people import Person
from uds_pipelines.lib.generator.pools import is_junk_email
from uds_pipelines.lib.generator.survey_layouts import LAYOUTS, NPS_Q, OPTIN_Q, WRITERS, Answers
from uds_pipelines.lib.generator.truth import LAND, QUARANTINE, Truth
from uds_pipelines.lib.generator.writer import Inbox

__all__ = ["NPS_Q", "OPTIN_Q", "write_surveys"]

ROWS_PER_FILE = 400


def write_surveys(
    rng: random.Random, inbox: Inbox, truth: Truth, respondents: list[tuple[Person, int]]
) -> int:
    """Spread respondents over survey files of every layout; returns the number of responses written."""
    by_layout: dict[str, list[tuple[Person, int]]] = {layout: [] for layout in LAYOUTS}
    for i, item in enumerate(respondents):
        by_layout[LAYOUTS[i % len(LAYOUTS)]].append(item)
    written = 0
    ragged_done = False
    for layout, items in by_layout.items():
        for part in range(0, max(1, len(items)), ROWS_PER_FILE):
            chunk = sorted(items[part : part + ROWS_PER_FILE], key=lambda it: it[1])
            answers = []
            for person, ts in chunk:
                answers.append(Answers(rng, person, ts))
            rows, header_rows, ids = WRITERS[layout](rng, answers)
            rel = f"surveys/{layout}_{part // ROWS_PER_FILE + 1:03d}.csv"
            bad_rows: set[int] = set()
            if layout == "surveymonkey" and not ragged_done and len(answers) >= 10:
                bad_rows = set(rng.sample(range(len(answers)), k=2))
                ragged_done = True
            for i, (a, rid) in enumerate(zip(answers, ids, strict=True)):
                person = chunk[i][0]
                if i in bad_rows:
                    rows[header_rows + i], note = ragged_row(rng, rows[header_rows + i])
                    truth.record("survey_response", rid, person.person_id, rel, i + 1, QUARANTINE, note)
                    continue
                truth.record("survey_response", rid, person.person_id, rel, i + 1, LAND, a.note)
                email = a.ids["email"]
                if email and not is_junk_email(email):
                    truth.consent(
                        person.person_id,
                        "email",
                        email,
                        "email_marketing",
                        a.optin == "Yes",
                        a.at,
                        "survey",
                        rid,
                        rel,
                    )
            bom = layout == "qualtrics_legacy" or (layout == "qualtrics_3row" and rng.random() < 0.5)
            inbox.write_csv(rel, rows, bom=bom)
            written += len(answers)
    return written
