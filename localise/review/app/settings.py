"""Settings of the review web app (``LOCALISE_REVIEW_*`` environment variables or code).

Access tokens live in the review database, each with a role and its series (``localise review
token add``). ``LOCALISE_REVIEW_TOKENS="ann:s3cret,bob:0ther"`` still works as a bootstrap: those
tokens are *admin* tokens on every series (use one to start, then hand out scoped tokens). A token
logs a person into the pages and authorises the JSON API (``Authorization: Bearer ...``).

Jobs never take a location from a request: a series' source is ``series_sources[series]`` or
``<source_root>/<series>``, its destination is ``storage_url``."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from localise.errors import ConfigError

MIN_TOKEN_CHARS = 16


class ReviewSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOCALISE_REVIEW_", extra="forbid")

    db_url: str = "sqlite:///localise-review.db"
    tokens: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)  # token -> reviewer name
    glossary_dir: Path | None = Path("glossaries")  # <series>.csv (or .tbx) per series
    styles: dict[str, dict[str, Any]] = Field(default_factory=dict)  # per language style overrides
    storage_url: str = "demo-output"  # where published tracks live (local folder or s3://bucket/prefix)
    deployment: str = "localise-batch/nightly"  # flows/deployments.py BATCH  # Prefect deployment the jobs API runs
    episode_deployment: str = "localise-episode/on-demand"  # flows/deployments.py EPISODE
    review_deployment: str = "apply-review/on-demand"  # flows/deployments.py REVIEW
    # allow-listed job sources: series -> folder or s3://bucket/prefix; else <source_root>/<series>
    series_sources: dict[str, str] = Field(default_factory=dict)
    source_root: str | None = None
    session_secret: str = Field(default_factory=lambda: secrets.token_hex(32))  # signs login form tokens
    session_ttl_s: int = Field(12 * 3600, gt=0)  # a login session lasts this long
    secure_cookies: bool | None = None  # Secure cookies: None = when the request came over HTTPS
    public_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)  # e.g. https://review.example.org
    max_body_bytes: int = Field(1 << 20, gt=0)  # JSON and form bodies
    max_upload_bytes: int = Field(16 << 20, gt=0)  # XLIFF uploads (POST /api/xliff)
    login_attempts: int = Field(10, gt=0)  # failed logins per client address per window
    login_window_s: int = Field(300, gt=0)
    xliff_max_target_chars: int = Field(2000, gt=0)  # one cue's text in an imported XLIFF
    queue_page_size: int = 50

    @field_validator("tokens", mode="before")
    @classmethod
    def _parse_tokens(cls, value: Any) -> Any:
        """``"ann:tok,bob:tok2"`` -> ``{"tok": "ann", "tok2": "bob"}``; a mapping passes through."""
        if isinstance(value, str):
            parsed: dict[str, str] = {}
            for pair in filter(None, (p.strip() for p in value.split(","))):
                name, sep, token = pair.partition(":")
                if not sep or not name.strip() or not token.strip():
                    raise ValueError("LOCALISE_REVIEW_TOKENS entries are name:token, comma separated")
                parsed[token.strip()] = name.strip()
            return parsed
        return value

    @field_validator("public_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip().rstrip("/") for v in value.split(",") if v.strip()]
        return value

    @field_validator("series_sources")
    @classmethod
    def _check_series_names(cls, value: dict[str, str]) -> dict[str, str]:
        from localise.review.access import is_safe_name

        bad = [name for name in value if not is_safe_name(name)]
        if bad:
            raise ValueError(f"series_sources: invalid series names {bad}")
        return value

    def source_for(self, series: str) -> str | None:
        """The configured source of a series (a job never names its own)."""
        if series in self.series_sources:
            return self.series_sources[series]
        if self.source_root:
            return f"{self.source_root.rstrip('/')}/{series}"
        return None

    def check(self) -> "ReviewSettings":
        """Refuse bootstrap tokens short enough to guess (the app refuses to start without any
        token, bootstrap or stored)."""
        short = [name for token, name in self.tokens.items() if len(token) < MIN_TOKEN_CHARS]
        if short:
            raise ConfigError(f"tokens of {', '.join(short)} are shorter than {MIN_TOKEN_CHARS} characters")
        return self
