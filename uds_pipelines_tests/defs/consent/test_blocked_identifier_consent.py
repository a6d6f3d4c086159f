"""A consent statement whose only identifier is guardrail-blocked reaches the person of the record
that made it, and only that person (issue 16: the March "yes" was attached to nobody)."""

import dagster as dg
import pandas as pd

from uds_pipelines import constants as c
from uds_pipelines.definitions import defs
from uds_pipelines.lib import catalog

FORMS = (
    "Submission ID,E-mail,Name,Country,Submitted At,consent_email_marketing\n"
    "s-jan,fritz@example.org,Fritz Jan,DE,2026-01-10T09:00:00Z,no\n"
    "s-mar,fritz@example.org,Fritz Mar,DE,2026-03-10T09:00:00Z,yes\n"
)


def _read(data, table: str) -> pd.DataFrame:
    return pd.read_parquet(data / "lake" / catalog.table(table).path)


def test_statements_under_a_blocked_email_reach_their_own_records_person(tmp_path, monkeypatch):
    data = tmp_path / "data"
    (data / "inbox" / "forms").mkdir(parents=True)
    (data / "inbox" / "forms" / "signups.csv").write_text(FORMS)
    guardrails = tmp_path / "guardrails.yaml"
    guardrails.write_text("blocked_values:\n  email: [fritz@example.org]\n")
    monkeypatch.setenv("UDS_DATA_DIR", str(data))
    monkeypatch.setenv("UDS_IDENTITY_GUARDRAILS", str(guardrails))
    monkeypatch.setenv("UDS_AS_OF", "2026-11-01T00:00:00Z")
    with dg.instance_for_test() as instance:
        result = defs().resolve_job_def(c.JOB_FULL_RUN).execute_in_process(instance=instance, raise_on_error=False)
        assert result.success
    people = _read(data, "identity_map").set_index("record_id")["customer_id"]
    assert people["s-jan"] != people["s-mar"]  # the blocked email links nobody
    consent = _read(data, "effective_consent")
    decided = {(row.customer_id, row.purpose): bool(row.granted) for row in consent.itertuples()}
    assert decided == {(people["s-jan"], "email_marketing"): False, (people["s-mar"], "email_marketing"): True}
    profiles = _read(data, "customer_profiles").set_index("customer_id")
    assert not profiles.loc[people["s-jan"], "consent_email_marketing"]
    assert profiles.loc[people["s-mar"], "consent_email_marketing"]
