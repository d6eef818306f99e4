"""Settings: one typed object read from defaults, an optional TOML file and ``LOCALISE_*`` variables.

Precedence, highest first: values passed in code (the CLI's flags), environment variables
(``LOCALISE_TARGETS=en,es``, ``LOCALISE_QUALITY_GATE__MAX_FLAGGED_SHARE=0.1``), the TOML file
named by ``--config`` or ``LOCALISE_CONFIG``, then the defaults below. The library itself only needs
:class:`localise.pipeline.LocaliseOptions`; :meth:`Settings.options` turns settings into those, so
the CLI, the flows and the review app share one reading of the configuration.

A TOML file uses the field names as keys::

    source_language = "zh"
    targets = ["en", "es", "pt-BR"]
    glossary = "glossaries/sample.csv"
    [model_table]
    "zh-en" = "/models/opus-mt-zh-en"
    [styles.en]
    max_chars_per_line = 40
    [quality_gate]
    max_flagged_share = 0.15
    [limits]                      # input size limits (defaults: 64 MiB, 100,000 cues, 10,000 characters)
    max_file_bytes = 67108864
    max_cues = 100000
    max_cue_chars = 10000
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, TomlConfigSettingsSource

from localise.errors import ConfigError
from localise.formats.limits import DEFAULT_LIMITS, InputLimits

if TYPE_CHECKING:
    from localise.pipeline import LocaliseOptions

CONFIG_ENV = "LOCALISE_CONFIG"


def _split_codes(value: Any) -> Any:
    """``"en, es"`` -> ``["en", "es"]``; lists pass through (TOML, code)."""
    if isinstance(value, str):
        return [code.strip() for code in value.split(",") if code.strip()]
    return value


class QualityGate(BaseModel):
    """When a localised track is published rather than held for review."""

    model_config = ConfigDict(extra="forbid")  # a misspelt or misplaced key is an error, never ignored

    max_flagged_share: float = Field(0.2, ge=0.0, le=1.0)  # publish when at most this share of cues is flagged
    severity: Literal["minor", "major", "critical"] = "major"  # flags at or above this count


class Limits(BaseModel):
    """How big an input may be (``localise.formats.limits``): generous, always finite. A file over
    a limit is refused naming the file and the setting; ``[limits]`` in the TOML file or
    ``LOCALISE_LIMITS__MAX_CUES=200000`` raise them."""

    model_config = ConfigDict(extra="forbid")

    max_file_bytes: int = Field(DEFAULT_LIMITS.max_file_bytes, gt=0)  # bytes of one subtitle file
    max_cues: int = Field(DEFAULT_LIMITS.max_cues, gt=0)  # cues in one file
    max_cue_chars: int = Field(DEFAULT_LIMITS.max_cue_chars, gt=0)  # characters of one cue's text

    def input_limits(self) -> InputLimits:
        """The limits as the readers take them."""
        return InputLimits(self.max_file_bytes, self.max_cues, self.max_cue_chars)


class Settings(BaseSettings):
    """Everything a run can be configured with; small on purpose (details live in data tables)."""

    model_config = SettingsConfigDict(
        env_prefix="LOCALISE_",
        env_nested_delimiter="__",
        extra="forbid",
        toml_file=None,
    )

    source_language: str = "zh"
    targets: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["en"])
    engine: Literal["transformers", "ctranslate2", "openai"] = "transformers"
    model: str | None = None  # one model (Hub id or folder) for every pair, overriding the table
    model_table: dict[str, str] = Field(default_factory=dict)  # "zh-en" -> model id/folder, over the engines' table
    device: str | None = None  # "cuda", "mps", "cpu"; None chooses automatically
    # More engine settings, as the engines take them: batch budget (max_tokens, max_batch_size),
    # threads, dtype/compute_type, decoding lengths. `device` above wins over a "device" here.
    engine_options: dict[str, Any] = Field(default_factory=dict)
    glossary: Path | None = None
    # The flows' series glossaries: `<glossary_dir>/<series>.csv` (or .tbx) when `glossary` is unset.
    # A series with none fails before any work unless `glossary_optional` (names and places would
    # otherwise be translated freely, with nothing to verify them against)
    glossary_dir: Path = Path("glossaries")
    glossary_optional: bool = False
    max_gap_ms: int = Field(1500, ge=0)  # cues further apart never join one sentence unit
    max_unit_chars: int = Field(400, gt=0)  # longer units are split at punctuation
    styles: dict[str, dict[str, float]] = Field(default_factory=dict)  # per language, over localise/data/styles.toml
    thresholds: dict[str, Any] = Field(default_factory=dict)  # quality check thresholds, per the quality module
    # low-confidence calibration file (`localise models calibrate`); default: the model folder's own
    confidence_calibration: str | None = None
    storage_url: str = "demo-output"  # local folder or s3://bucket/prefix
    review_db_url: str = "sqlite:///localise-review.db"
    quality_gate: QualityGate = Field(default_factory=QualityGate)
    schedule: str = "0 2 * * *"  # cron for `localise serve`
    # Prefect tags on the flows' translate tasks, for a tag concurrency limit across workers (a
    # shared GPU). Off by default: each tagged task start asks the API for a slot, which costs a
    # round trip (up to ~2 s on a busy local SQLite server) even where no limit exists.
    translate_tags: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # localise-batch: each chunk a child run of the `localise-chunk` deployment on the pool's workers
    # (true), threads in the batch's own run (false); unset: fan out when run from a work pool
    fan_out: bool | None = None
    # Where the flows keep finished work for every worker to reuse (a folder or s3://bucket/prefix
    # outside the published tracks); unset: Prefect's result storage of each worker. The openai
    # engine's request cache is shared there too (llm-requests/), for every process and machine
    cache_url: str | None = None
    # With cache_url: unit texts per engine call, each finished call kept there (`<cache_url>/mt/`)
    # at once, so a chunk whose worker dies is taken over without redoing the calls it finished
    cache_slice_units: int = Field(1024, gt=0)

    # The openai engine (engine = "openai"): an OpenAI-compatible chat-completions endpoint.
    # LOCALISE_LLM_BASE_URL, LOCALISE_LLM_MODEL, LOCALISE_LLM_API_KEY (never logged or reported).
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_window: int = Field(40, gt=0)  # units per request
    llm_context: int = Field(10, ge=0)  # read-only units before and after a window
    llm_concurrency: int = Field(4, gt=0)  # requests in flight
    llm_timeout_s: float = Field(120.0, gt=0)  # per request
    llm_max_retries: int = Field(2, ge=0)  # the client's retries (429 honours Retry-After, 5xx, connection)
    llm_reasks: int = Field(2, ge=0)  # re-asks for the ids of an answer that failed validation
    llm_structured: Literal["json_schema", "none"] = "json_schema"  # response_format, or prompt-only JSON
    llm_logprobs: bool = True  # ask for token log-probabilities (confidence) where the server gives them
    llm_prices: dict[str, float] = Field(default_factory=dict)  # {"prompt": X, "completion": Y} per million tokens
    llm_cache_dir: str | None = None  # request cache; default $LOCALISE_CACHE_DIR or ~/.cache/localise
    llm_fallback_engine: Literal["transformers", "ctranslate2"] = "transformers"  # for lines the LLM leaves unusable
    # a running summary of the earlier episodes (those translated in the same run, in the order given)
    # in each later episode's prompts: one more request per episode, and episodes one after another
    llm_summary: bool = False
    llm_summary_chars: int = Field(600, gt=0)  # the summary's bound
    # "flagged": after checking, cues flagged major or worse go back to the LLM (llm_* settings), then are re-checked
    refine: Literal["off", "flagged"] = "off"

    limits: Limits = Field(default_factory=Limits)  # input size limits: file bytes, cues, characters per cue
    strict_input: bool = False  # refuse a file with input that cannot be read as cues (translate --strict)

    _split_targets = field_validator("targets", "translate_tags", mode="before")(_split_codes)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):  # type: ignore[no-untyped-def,override]
        """Add the TOML file under the environment; no .env files or secret dirs."""
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    def llm_options(self) -> dict[str, Any]:
        """The openai engine's settings as ``LocaliseOptions.llm`` (the key only where one is set)."""
        return {
            "base_url": self.llm_base_url, "model": self.llm_model,
            "api_key": self.llm_api_key,  # a SecretStr: its repr and JSON form are masked
            "window": self.llm_window, "context": self.llm_context, "concurrency": self.llm_concurrency,
            "timeout_s": self.llm_timeout_s, "max_retries": self.llm_max_retries, "reasks": self.llm_reasks,
            "structured": self.llm_structured, "logprobs": self.llm_logprobs, "prices": dict(self.llm_prices) or None,
            "cache_dir": self.llm_cache_dir, "cache_url": self.cache_url, "fallback_engine": self.llm_fallback_engine,
            "fallback_model": self.model, "summary": self.llm_summary, "summary_chars": self.llm_summary_chars,
        }

    def options(self, **overrides: Any) -> "LocaliseOptions":
        """The pipeline's options for these settings (glossary loaded lazily by the pipeline)."""
        from localise.pipeline import LocaliseOptions

        values: dict[str, Any] = dict(
            src=self.source_language,
            engine=self.engine,
            model=self.model,
            model_table=dict(self.model_table) or None,
            glossary=self.glossary,
            max_gap_ms=self.max_gap_ms,
            max_unit_chars=self.max_unit_chars,
            styles={k: dict(v) for k, v in self.styles.items()} or None,
            thresholds=dict(self.thresholds) or None,
            confidence_calibration=self.confidence_calibration,
            engine_options={**self.engine_options, **({"device": self.device} if self.device else {})},
            llm=self.llm_options() if self.engine == "openai" or self.refine == "flagged" else None,
            refine=self.refine if self.refine != "off" else None,
        )
        values.update(overrides)
        return LocaliseOptions(**values)


def load_settings(config: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Read settings; ``config`` (or ``$LOCALISE_CONFIG``) names a TOML file that must exist.

    ``overrides`` with value ``None`` are ignored, so CLI options left unset do not mask the file
    or the environment. Raises :class:`ConfigError` naming the file for anything invalid.
    """
    path = config if config is not None else os.environ.get(CONFIG_ENV) or None
    if path is not None and not Path(path).is_file():
        raise ConfigError(f"{path}: configuration file not found")
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        if path is None:
            return Settings(**given)

        class _FromFile(Settings):
            model_config = SettingsConfigDict(toml_file=Path(path))

        loaded = _FromFile(**given)
        # a plain Settings (picklable: Prefect and worker processes ship it around)
        return Settings.model_validate(loaded.model_dump())
    except ValidationError as exc:
        where = f"{path}: " if path is not None else ""
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}{_from_environment(err['loc'])}"
            for err in exc.errors()
        )
        raise ConfigError(f"{where}invalid settings: {problems}") from None
    except (OSError, ValueError) as exc:  # unreadable or malformed TOML
        raise ConfigError(f"{path}: {exc}") from None


def _from_environment(loc: tuple) -> str:
    """`` (from $LOCALISE_LIMITS__MAX_CUES)`` where a ``LOCALISE_*`` variable gave the bad value, so
    the message does not send the user to a settings file that never named it. The name only: the
    value may be a secret (``LOCALISE_LLM_API_KEY``)."""
    name = "LOCALISE_" + "__".join(str(part) for part in loc).upper()
    for key in os.environ:
        if key.upper() == name:
            return f" (from ${key})"
    return ""
