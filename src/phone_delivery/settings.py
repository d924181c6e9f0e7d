"""Configuration: one pydantic-settings class, read once at start and passed explicitly.

Every field maps to an environment variable with the ``PHONE_DELIVERY_`` prefix
(``database_url`` -> ``PHONE_DELIVERY_DATABASE_URL``). The README lists them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TWILIO_API_BASE_URL = "https://api.twilio.com"
TWILIO_MESSAGING_BASE_URL = "https://messaging.twilio.com"
TWILIO_VERIFY_BASE_URL = "https://verify.twilio.com"
SYNIVERSE_BASE_URL = "https://api.syniverse.com"


class Settings(BaseSettings):
    """Typed configuration. Defaults give the embedded single-process setup."""

    model_config = SettingsConfigDict(env_prefix="PHONE_DELIVERY_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".phone-delivery"),
        description="Folder for the SQLite file and the secret key file.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Empty means sqlite+aiosqlite:///{data_dir}/phone-delivery.db.",
    )
    secret_keys: str | None = Field(
        default=None,
        description="Encryption keys for secrets at rest, 'kid:base64key[,kid:base64key...]', first is "
        "primary. Empty means the key file {data_dir}/secret-keys.json, created at first start (0600).",
    )
    public_base_url: str | None = Field(
        default=None,
        description="Absolute base used in _links and token issuers, e.g. https://pd.example.com. "
        "Empty means the base of each request.",
    )
    host: str = Field(default="127.0.0.1", description="Interface to listen on.")
    port: int = Field(default=8080, ge=0, le=65535, description="Port to listen on.")
    twilio_api_base_url: str = Field(default=TWILIO_API_BASE_URL, description="Twilio core API base.")
    twilio_messaging_base_url: str = Field(default=TWILIO_MESSAGING_BASE_URL, description="Twilio Messaging API base.")
    twilio_verify_base_url: str = Field(default=TWILIO_VERIFY_BASE_URL, description="Twilio Verify API base.")
    syniverse_base_url: str = Field(
        default=SYNIVERSE_BASE_URL, description="Syniverse Communication Gateway base (without /scg-external-api)."
    )
    allowed_private_hosts: str = Field(
        default="",
        description="Comma-separated host or host:port that custom provider URLs may use even when they resolve "
        "to private or loopback addresses, or are plain http. Dev mode adds its sandbox.",
    )
    provider_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Timeout of every call to a provider (connect and read)."
    )
    token_lifetime_seconds: int = Field(default=3600, ge=60, le=86400, description="Access token lifetime.")
    token_audience: str = Field(
        default="https://api.pingone.com",
        description="The 'aud' claim of issued access tokens; the API accepts no other.",
    )
    worker_enabled: bool = Field(default=True, description="Run the delivery worker inside serve/dev.")
    worker_process: Literal["auto", "separate", "shared"] = Field(
        default="auto",
        description="Where serve (with one API process) runs its delivery worker: 'separate' in a process of "
        "its own that serve starts, wakes and stops; 'shared' on the API process's event loop; 'auto' "
        "separate when this process may use more than one core.",
    )
    worker_concurrency: int = Field(default=32, ge=1, le=1000, description="Notifications sent at once per worker.")
    worker_poll_seconds: float = Field(default=0.5, gt=0, le=60, description="Idle wait between claims.")
    lease_seconds: float = Field(
        default=60,
        ge=1,
        le=3600,
        description="How long a claimed notification is leased; renewed every third of it while its send is in flight.",
    )
    shutdown_seconds: float = Field(
        default=20,
        ge=0,
        le=3600,
        description="On SIGTERM or Ctrl-C, how long the worker waits for the sends in flight to finish "
        "(it claims no more at once); what is still in flight then is taken over after its lease.",
    )
    retry_base_seconds: float = Field(default=1.0, ge=0.001, le=60, description="First retry delay (doubles).")
    retry_max_seconds: float = Field(default=30.0, ge=0.001, le=3600, description="Largest retry delay.")
    tries_per_sender: int = Field(default=3, ge=1, le=20, description="Tries at one sender before the next.")
    internal_error_give_up_seconds: float = Field(
        default=3600,
        ge=1,
        le=7 * 86400,
        description="How long a notification waits out phone-delivery's own errors (a missing key) before it fails.",
    )
    platform_twilio_account_sid: str | None = Field(default=None, description="PINGONE_TWILIO: Account SID.")
    platform_twilio_auth_token: str | None = Field(default=None, repr=False, description="PINGONE_TWILIO: token.")
    platform_twilio_messaging_service_sid: str | None = Field(
        default=None, description="PINGONE_TWILIO: Messaging Service for SMS."
    )
    platform_twilio_from_number: str | None = Field(
        default=None, description="PINGONE_TWILIO: from-number (SMS without a service, and voice)."
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    log_format: str = Field(
        default="auto",
        description="'json' (one object per line), 'console' (readable lines) or 'auto': console when "
        "stderr is a terminal, JSON otherwise.",
    )
    log_sandbox_traffic: bool = Field(
        default=False, description="Dev mode: also write the access log lines of requests to /sandbox."
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest accepted request body.")
    max_senders_per_environment: int = Field(default=10, ge=1, le=10, description="PingOne allows 10.")
    dev_mode: bool = Field(default=False, description="Set by 'phone-delivery dev': mounts the sandbox.")

    @field_validator(
        "public_base_url",
        "twilio_api_base_url",
        "twilio_messaging_base_url",
        "twilio_verify_base_url",
        "syniverse_base_url",
    )
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("log_level must be DEBUG, INFO, WARNING or ERROR")
        return upper

    @field_validator("log_format")
    @classmethod
    def _format(cls, value: str) -> str:
        lower = value.lower()
        if lower not in {"auto", "json", "console"}:
            raise ValueError("log_format must be auto, json or console")
        return lower

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'phone-delivery.db').resolve()}"

    @property
    def allowed_hosts(self) -> list[str]:
        return [h.strip() for h in self.allowed_private_hosts.split(",") if h.strip()]

    @property
    def key_file(self) -> Path:
        return self.data_dir / "secret-keys.json"
