"""Settings read from the environment (CONTRACT section 2), validated and resolved once."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from uds_pipelines.lib import fx, lake, storage
from uds_pipelines.lib.guardrail_config import GuardrailConfig
from uds_pipelines.lib.tracking_plan import PlanError, TrackingPlan

DEFAULT_PURPOSES = ("email_marketing", "sms_marketing", "ad_targeting", "analytics")
# Source fields that hold an app's own user id (`lib.ingest.external_ids`): UDS_EXTERNAL_ID_FIELDS.
DEFAULT_EXTERNAL_ID_FIELDS: tuple[str, ...] = (
    "external_id", "user_id", "userid", "customer_ref", "ExternalReference", "External Data Reference",
)  # fmt: skip
MATCHING_MODES = ("deterministic", "probabilistic")
CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the variable."""


def parse_as_of(value: str | None, variable: str = "UDS_AS_OF") -> datetime | None:
    """Parse an ISO timestamp into an aware UTC datetime (naive input is taken as UTC)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(
            f"{variable}={value!r} is not an ISO 8601 timestamp (e.g. 2026-01-31T00:00:00Z)"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class Settings:
    """Every CONTRACT variable with its default applied and its paths resolved."""

    data_dir: Path
    webhook_secrets: tuple[str, ...] = ()
    stripe_api_key: str | None = None
    stripe_api_base: str = "https://api.stripe.com"
    warehouse_url: str = ""
    segments_file: Path = CONFIG_DIR / "segments.yaml"
    audiences_file: Path = CONFIG_DIR / "audiences.yaml"
    traits_file: Path = CONFIG_DIR / "traits.yaml"
    suppression_key_value: str | None = None
    matching: str = "deterministic"
    as_of_override: datetime | None = None
    purposes: tuple[str, ...] = DEFAULT_PURPOSES
    default_region: str = "US"
    retention_days: int = 730
    predictions_refit_days: int = 7
    duckdb_memory_limit: str = lake.DEFAULT_MEMORY_LIMIT
    lake_url: str | None = None
    s3_endpoint_url: str | None = None
    guardrails_file: Path | None = None
    external_id_fields: tuple[str, ...] = DEFAULT_EXTERNAL_ID_FIELDS
    reporting_currency: str = "USD"
    fx_rates_file: Path = CONFIG_DIR / "fx_rates.csv"
    tracking_plan_file: Path = CONFIG_DIR / "tracking_plan.yaml"
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("UDS_DATA_DIR") or "data").expanduser().resolve()
        matching = (env.get("UDS_MATCHING") or "deterministic").strip().lower()
        if matching not in MATCHING_MODES:
            raise ConfigError(f"UDS_MATCHING={matching!r} must be one of {', '.join(MATCHING_MODES)}")
        api_base = (env.get("UDS_STRIPE_API_BASE") or "https://api.stripe.com").rstrip("/")
        if not api_base.startswith(("http://", "https://")):
            raise ConfigError(f"UDS_STRIPE_API_BASE={api_base!r} must be an http(s) URL")
        warehouse_url = env.get("UDS_WAREHOUSE_URL") or f"sqlite:///{data_dir / 'warehouse.sqlite'}"
        if "://" not in warehouse_url:
            raise ConfigError(f"UDS_WAREHOUSE_URL={warehouse_url!r} is not a SQLAlchemy URL (dialect://...)")
        segments_file = _existing_file(env, "UDS_SEGMENTS_FILE", CONFIG_DIR / "segments.yaml")
        audiences_file = _existing_file(env, "UDS_AUDIENCES_FILE", CONFIG_DIR / "audiences.yaml")
        traits_file = _existing_file(env, "UDS_TRAITS_FILE", CONFIG_DIR / "traits.yaml")
        purposes_raw = env.get("UDS_CONSENT_PURPOSES")
        purposes = (
            tuple(p.strip() for p in purposes_raw.split(",") if p.strip())
            if purposes_raw
            else DEFAULT_PURPOSES
        )
        bad = [p for p in purposes if not re.fullmatch(r"[a-z][a-z0-9_]*", p)]
        if bad or not purposes:
            raise ConfigError(
                f"UDS_CONSENT_PURPOSES={purposes_raw!r} must be comma-separated lower-case names like email_marketing"
            )
        region = (env.get("UDS_DEFAULT_REGION") or "US").strip().upper()
        if len(region) != 2 or not region.isalpha():
            raise ConfigError(f"UDS_DEFAULT_REGION={region!r} must be an ISO 3166-1 alpha-2 code")
        retention_raw = env.get("UDS_RETENTION_DAYS") or "730"
        try:
            retention_days = int(retention_raw)
            if retention_days <= 0:
                raise ValueError
        except ValueError as exc:
            raise ConfigError(f"UDS_RETENTION_DAYS={retention_raw!r} must be a positive integer") from exc
        refit_raw = env.get("UDS_PREDICTIONS_REFIT_DAYS") or "7"
        try:
            refit_days = int(refit_raw)
            if refit_days < 0:
                raise ValueError
        except ValueError as exc:
            raise ConfigError(
                f"UDS_PREDICTIONS_REFIT_DAYS={refit_raw!r} must be a whole number of days, 0 or more"
            ) from exc
        memory_limit = (env.get("UDS_DUCKDB_MEMORY_LIMIT") or lake.DEFAULT_MEMORY_LIMIT).strip().upper().replace(" ", "")
        if not re.fullmatch(r"\d+(\.\d+)?(KB|MB|GB|TB|KIB|MIB|GIB|TIB)", memory_limit):
            raise ConfigError(f"UDS_DUCKDB_MEMORY_LIMIT={memory_limit!r} must be a size such as 2GB or 512MB")
        try:
            storage.file_mode(env)  # read where files are published; checked here to fail at start-up
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        lake_url = (env.get("UDS_LAKE_URL") or "").strip().rstrip("/") or None
        if lake_url is not None:
            check_storage_url(lake_url, "UDS_LAKE_URL")
        endpoint = (env.get("UDS_S3_ENDPOINT_URL") or "").strip() or None
        if endpoint and not endpoint.startswith(("http://", "https://")):
            raise ConfigError(f"UDS_S3_ENDPOINT_URL={endpoint!r} must be an http(s) URL")
        guardrails_file = _guardrails_file(env.get("UDS_IDENTITY_GUARDRAILS"))
        tracking_plan_file = _tracking_plan_file(env)
        try:
            reporting_currency, fx_rates_file = fx.from_env(env, CONFIG_DIR / "fx_rates.csv")
        except fx.RatesError as exc:
            raise ConfigError(str(exc)) from None
        return cls(
            data_dir=data_dir,
            webhook_secrets=tuple(
                p.strip() for p in (env.get("UDS_STRIPE_WEBHOOK_SECRET") or "").split(",") if p.strip()
            ),
            stripe_api_key=env.get("UDS_STRIPE_API_KEY") or None,
            stripe_api_base=api_base,
            warehouse_url=warehouse_url,
            segments_file=segments_file,
            audiences_file=audiences_file,
            traits_file=traits_file,
            suppression_key_value=env.get("UDS_SUPPRESSION_KEY") or None,
            matching=matching,
            as_of_override=parse_as_of(env.get("UDS_AS_OF")),
            purposes=purposes,
            default_region=region,
            retention_days=retention_days,
            predictions_refit_days=refit_days,
            duckdb_memory_limit=memory_limit,
            lake_url=lake_url,
            s3_endpoint_url=endpoint,
            guardrails_file=guardrails_file,
            external_id_fields=_external_id_fields(env.get("UDS_EXTERNAL_ID_FIELDS")),
            reporting_currency=reporting_currency,
            fx_rates_file=fx_rates_file,
            tracking_plan_file=tracking_plan_file,
        )

    # --- resolved paths -------------------------------------------------------------------
    @property
    def inbox_dir(self) -> Path:
        return self.data_dir / "inbox"

    @property
    def storage_root(self) -> Path:
        """Where `lake/` and `exports/` live: `UDS_LAKE_URL` (object storage) or `UDS_DATA_DIR`."""
        if self.lake_url is None:
            return self.data_dir
        return storage.remote_root(self.lake_url, self.s3_endpoint_url)

    @property
    def lake_dir(self) -> Path:
        return self.storage_root / "lake"

    @property
    def exports_dir(self) -> Path:
        return self.storage_root / "exports"

    @property
    def locks_dir(self) -> Path:
        """Local lock files; object storage has no advisory locks, so they always stay on disk."""
        return self.data_dir / ".locks"

    def inbox(self, source: str) -> Path:
        return self.inbox_dir / source

    def guardrails(self) -> GuardrailConfig:
        """The identity guardrails: `UDS_IDENTITY_GUARDRAILS` over the defaults."""
        return GuardrailConfig.from_yaml(self.guardrails_file) if self.guardrails_file else GuardrailConfig()

    def tracking_plan(self) -> TrackingPlan:
        """The events tracking plan: `UDS_TRACKING_PLAN`, else the bundled default."""
        try:
            return TrackingPlan.from_yaml(self.tracking_plan_file)
        except (OSError, PlanError) as exc:  # edited or removed since start-up
            raise ConfigError(f"UDS_TRACKING_PLAN={str(self.tracking_plan_file)!r}: {exc}") from None

    def as_of(self) -> datetime:
        """`UDS_AS_OF` when set, else the wall clock (UTC)."""
        return self.as_of_override or datetime.now(UTC)

    def suppression_key(self) -> bytes:
        """The HMAC key for suppression hashes; made once and kept in `<data_dir>/.uds_key`."""
        if self.suppression_key_value:
            return self.suppression_key_value.encode()
        key_file = self.data_dir / ".uds_key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = key_file.parent / f".uds_key.{secrets.token_hex(8)}.tmp"
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            try:
                os.write(fd, secrets.token_hex(32).encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, key_file)  # fails if another process made it first: everyone keeps theirs
            except FileExistsError:
                pass
            finally:
                tmp.unlink(missing_ok=True)
        key = key_file.read_text().strip().encode()  # always the persisted key, never our own candidate
        if not key:
            raise ConfigError(f"{key_file} is empty: set UDS_SUPPRESSION_KEY or restore the key file")
        return key


def check_storage_url(url: str, variable: str) -> None:
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in storage.SUPPORTED_SCHEMES or not url.split("://", 1)[1].strip("/"):
        raise ConfigError(
            f"{variable}={url!r} must be an object-storage URL such as s3://bucket/prefix "
            f"(schemes: {', '.join(storage.SUPPORTED_SCHEMES)})"
        )


def _external_id_fields(value: str | None) -> tuple[str, ...]:
    """`UDS_EXTERNAL_ID_FIELDS`: unset keeps the defaults, an empty list turns external ids off."""
    if value is None:
        return DEFAULT_EXTERNAL_ID_FIELDS
    return tuple(name.strip() for name in value.split(",") if name.strip())


def _guardrails_file(value: str | None) -> Path | None:
    """`UDS_IDENTITY_GUARDRAILS`: a YAML file of guardrail settings, loaded now so typos fail at start."""
    if not value:
        return None
    path = _existing_file({"UDS_IDENTITY_GUARDRAILS": value}, "UDS_IDENTITY_GUARDRAILS", Path())
    try:
        GuardrailConfig.from_yaml(path)
    except (ValueError, TypeError, yaml.YAMLError) as exc:
        raise ConfigError(f"UDS_IDENTITY_GUARDRAILS={value!r}: {exc}") from exc
    return path


def _tracking_plan_file(env) -> Path:
    """`UDS_TRACKING_PLAN`: loaded and compiled now, so a broken plan fails at start-up."""
    path = _existing_file(env, "UDS_TRACKING_PLAN", CONFIG_DIR / "tracking_plan.yaml")
    if env.get("UDS_TRACKING_PLAN"):
        try:
            TrackingPlan.from_yaml(path)
        except PlanError as exc:
            raise ConfigError(f"UDS_TRACKING_PLAN={env['UDS_TRACKING_PLAN']!r}: {exc}") from None
    return path


def _existing_file(env, variable: str, default: Path) -> Path:
    value = env.get(variable)
    if not value:
        return default
    path = Path(value).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"{variable}={value!r}: no such file")
    return path
