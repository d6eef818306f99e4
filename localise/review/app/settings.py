"""Settings of the review web app (``LOCALISE_REVIEW_*`` environment variables or code).

Tokens map a secret to a reviewer name: ``LOCALISE_REVIEW_TOKENS="ann:s3cret,bob:0ther"``. The same
token logs a reviewer into the pages and authorises the JSON API (``Authorization: Bearer ...``)."""

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
    session_secret: str = Field(default_factory=lambda: secrets.token_hex(32))  # signs login cookies
    secure_cookies: bool = False  # set behind HTTPS
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

    def check(self) -> "ReviewSettings":
        """Refuse to serve without tokens, or with tokens short enough to guess."""
        if not self.tokens:
            raise ConfigError("no reviewer tokens: set LOCALISE_REVIEW_TOKENS=name:token[,name:token...]")
        short = [name for token, name in self.tokens.items() if len(token) < MIN_TOKEN_CHARS]
        if short:
            raise ConfigError(f"tokens of {', '.join(short)} are shorter than {MIN_TOKEN_CHARS} characters")
        return self
