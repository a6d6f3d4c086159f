"""Settings: every CONTRACT variable has a working default; bad values name their variable."""

from datetime import UTC, datetime

import pytest

from uds_pipelines.lib.config import ConfigError, Settings


def test_defaults_resolve_under_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.data_dir == tmp_path / "data"
    assert settings.warehouse_url == f"sqlite:///{tmp_path / 'data' / 'warehouse.sqlite'}"
    assert settings.stripe_api_base == "https://api.stripe.com"
    assert settings.stripe_api_key is None and settings.webhook_secrets == ()
    assert settings.matching == "deterministic" and settings.predictions_refit_days == 7
    assert settings.purposes == ("email_marketing", "sms_marketing", "ad_targeting", "analytics")
    assert settings.segments_file.name == "segments.yaml" and settings.segments_file.is_file()
    assert settings.audiences_file.name == "audiences.yaml" and settings.audiences_file.is_file()


def test_rotating_secrets_and_as_of(tmp_path):
    settings = Settings.from_env(
        {
            "UDS_DATA_DIR": str(tmp_path),
            "UDS_STRIPE_WEBHOOK_SECRET": "whsec_new, whsec_old",
            "UDS_AS_OF": "2026-01-31T12:00:00Z",
        }
    )
    assert settings.webhook_secrets == ("whsec_new", "whsec_old")
    assert settings.as_of() == datetime(2026, 1, 31, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("UDS_MATCHING", "fuzzy"),
        ("UDS_AS_OF", "yesterday"),
        ("UDS_STRIPE_API_BASE", "api.stripe.com"),
        ("UDS_WAREHOUSE_URL", "warehouse.sqlite"),
        ("UDS_SEGMENTS_FILE", "/no/such/segments.yaml"),
        ("UDS_RETENTION_DAYS", "-3"),
        ("UDS_PREDICTIONS_REFIT_DAYS", "-1"),
        ("UDS_PREDICTIONS_REFIT_DAYS", "weekly"),
        ("UDS_DEFAULT_REGION", "Germany"),
        ("UDS_DUCKDB_MEMORY_LIMIT", "lots"),
    ],
)
def test_invalid_values_name_the_variable(variable, value, tmp_path):
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env({"UDS_DATA_DIR": str(tmp_path), variable: value})


def test_suppression_key_is_made_once_and_kept_private(tmp_path):
    settings = Settings.from_env({"UDS_DATA_DIR": str(tmp_path)})
    first = settings.suppression_key()
    assert first == settings.suppression_key() and len(first) == 64
    assert (tmp_path / ".uds_key").stat().st_mode & 0o077 == 0
    explicit = Settings.from_env({"UDS_DATA_DIR": str(tmp_path), "UDS_SUPPRESSION_KEY": "k3y"})
    assert explicit.suppression_key() == b"k3y"


def test_guardrails_file_overrides_the_defaults(tmp_path):
    assert Settings.from_env({"UDS_DATA_DIR": str(tmp_path)}).guardrails().max_records_per_value == 50
    path = tmp_path / "guardrails.yaml"
    path.write_text("blocked_values:\n  email: [info@shop.example]\nwarn_component_records: 40\n")
    settings = Settings.from_env({"UDS_DATA_DIR": str(tmp_path), "UDS_IDENTITY_GUARDRAILS": str(path)})
    config = settings.guardrails()
    assert config.blocked_values["email"] == ("info@shop.example",)
    assert config.blocked_values["phone"] == ()  # types not named keep their defaults
    assert config.warn_component_records == 40 and config.max_records_per_value == 50


@pytest.mark.parametrize(
    "content",
    ["max_records_per_value: 1\n", "max_record_per_value: 10\n", "blocked_values: [oops\n", "- a list\n"],
)
def test_bad_guardrails_file_fails_at_start_naming_the_variable(content, tmp_path):
    path = tmp_path / "guardrails.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match="UDS_IDENTITY_GUARDRAILS"):
        Settings.from_env({"UDS_DATA_DIR": str(tmp_path), "UDS_IDENTITY_GUARDRAILS": str(path)})
    with pytest.raises(ConfigError, match="UDS_IDENTITY_GUARDRAILS"):
        Settings.from_env({"UDS_DATA_DIR": str(tmp_path), "UDS_IDENTITY_GUARDRAILS": str(tmp_path / "none.yaml")})
