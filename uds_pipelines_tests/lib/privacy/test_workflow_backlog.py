"""Which access requests of a backlog concern people erased in the same batch: the right ones, and
in one pass (at 10M events a backlog of 27k erasures and 20k access requests compared every pair
and ran for hours before its first erasure)."""

import time

from uds_pipelines.lib.privacy.requests import Subject
from uds_pipelines.lib.privacy.workflow import about_erased, asks_about_erased


def _erasure(n: int) -> Subject:
    return Subject(f"e{n}", "erasure", customer_ids=[f"uds_{n}"], records=[("form", f"s{n}")],
                   identifiers=[("email", f"p{n}@example.com")])  # fmt: skip


def test_each_link_to_an_erased_person_counts_and_nothing_else():
    erasures = [_erasure(n) for n in range(3)]
    access = [
        Subject("by-customer", "access", customer_ids=["uds_0"]),
        Subject("by-record", "access", records=[("form", "s1")]),
        Subject("by-requested-email", "access", requested=[("email", "p2@example.com")]),
        Subject("stranger", "access", customer_ids=["uds_9"], identifiers=[("email", "p9@example.com")]),
        Subject("same-value-other-type", "access", identifiers=[("phone", "p0@example.com")]),
    ]
    assert about_erased(access, erasures) == {"by-customer", "by-record", "by-requested-email"}
    assert asks_about_erased(access[0], erasures) and not asks_about_erased(access[3], erasures)
    assert about_erased(access, []) == set()


def test_a_backlog_of_tens_of_thousands_is_one_pass():
    erasures = [_erasure(n) for n in range(30_000)]
    access = [Subject(f"a{n}", "access", customer_ids=[f"uds_{n * 2}"]) for n in range(20_000)]
    started = time.perf_counter()
    concerned = about_erased(access, erasures)
    assert len(concerned) == 15_000  # uds_0, uds_2, ... uds_29998 are erased
    assert time.perf_counter() - started < 5  # every pair compared: hours


def test_quarantine_spellings_are_normalized_once_for_the_whole_backlog():
    """Every person of a backlog finds their spellings among the quarantine's candidates, shared
    values excepted; 20k people over 40k candidates (each normalized again per person before:
    hours at 10M events)."""
    from uds_pipelines.lib.privacy.variants import owned_in, owned_spellings, spelling_index

    people = [_erasure(n) for n in range(20_000)]
    people[1].shared = [("email", "p1@example.com")]
    candidates = [f" P{n}@Example.com" for n in range(20_000)] + [f"+1 415 555 {n:04d}" for n in range(20_000)]
    people[2].identifiers.append(("phone", "+14155550002"))
    started = time.perf_counter()
    index = spelling_index(candidates)
    found = {p.request_id: owned_in(p, index) for p in people}
    assert time.perf_counter() - started < 20
    assert found["e0"] == {"P0@Example.com", "p0@example.com"}
    assert found["e1"] == set()  # a shared value is nobody's to erase
    assert found["e2"] == {"P2@Example.com", "p2@example.com", "+1 415 555 0002"}
    assert owned_spellings(people[2], candidates[:5] + [candidates[20_002]]) == found["e2"]
