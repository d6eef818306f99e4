"""Thresholds of the quality checks, read from ``localise/data/thresholds.toml`` and overridable.

Why data: what counts as "too slow to read" or "low confidence" is a house decision per market,
changed without a release. Overrides have the data file's shape (see its header).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from localise.errors import ConfigError
from localise.model import SEVERITIES, Severity
from localise.quality.text import base_lang


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    return tomllib.loads(resources.files("localise.data").joinpath("thresholds.toml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Thresholds:
    """Resolved thresholds for one target language."""

    lang: str
    values: dict[str, Any]
    severity: dict[str, str]
    score: dict[str, float]
    overrides: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def severity_of(self, code: str, case: str | None = None) -> Severity:
        """Severity of a flag code, or of one case inside it (``untranslated.partial``)."""
        if case and f"{code}.{case}" in self.severity:
            return self.severity[f"{code}.{case}"]  # type: ignore[return-value]
        return self.severity.get(code, "major")  # type: ignore[return-value]

    def signature(self) -> dict[str, Any]:
        """What a report needs to say which thresholds produced it (values + a short hash)."""
        body = {"values": self.values, "severity": self.severity, "score": self.score}
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
        return {"lang": self.lang, "hash": digest, **body}


def _merge(into: dict[str, Any], layer: Mapping[str, Any], lang: str) -> None:
    """One layer (file or overrides): top-level keys, then [languages.<primary>], then [languages.<exact>]."""
    for key, value in layer.items():
        if key in ("languages", "severity", "score", "default"):
            continue
        into.setdefault("values", {})[key] = value
    for section in ("default",):
        for key, value in (layer.get(section) or {}).items():
            into.setdefault("values", {})[key] = value
    for section in ("severity", "score"):
        into.setdefault(section, {}).update(layer.get(section) or {})
    languages = layer.get("languages") or {}
    for code in dict.fromkeys((base_lang(lang), lang)):
        sub = languages.get(code) or {}
        for key, value in sub.items():
            if key in ("severity", "score"):
                into.setdefault(key, {}).update(value)
            else:
                into.setdefault("values", {})[key] = value


def load_thresholds(lang: str, overrides: Mapping[str, Any] | "Thresholds" | None = None) -> Thresholds:
    """Thresholds for target language ``lang``: the data file, then ``overrides`` on top.

    Raises :class:`ConfigError` for a key the checks do not know or a severity that does not exist.
    """
    if isinstance(overrides, Thresholds):
        return overrides
    merged: dict[str, Any] = {}
    _merge(merged, _table(), lang)
    known = set(merged["values"])
    if overrides:
        _merge(merged, overrides, lang)
        unknown = set(merged["values"]) - known
        if unknown:
            raise ConfigError(f"unknown quality threshold(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    for code, sev in merged["severity"].items():
        if sev not in SEVERITIES:
            raise ConfigError(f"threshold severity for {code!r} is {sev!r}; use one of {', '.join(SEVERITIES)}")
    for sev in SEVERITIES:
        merged["score"].setdefault(sev, 1.0)
    return Thresholds(lang=lang, values=merged["values"], severity=merged["severity"], score=merged["score"],
                      overrides=dict(overrides or {}))


def over_defaults(defaults: Mapping[str, Any], thresholds: Mapping[str, Any] | None) -> dict[str, Any]:
    """``defaults`` with each key ``thresholds`` holds taken from it: a module's own figures read from
    a :class:`Thresholds` (or any mapping) that may lack some of them, as callers of a single check pass."""
    out = dict(defaults)
    if thresholds is not None:
        for k in defaults:
            try:
                out[k] = thresholds[k]
            except (KeyError, TypeError):
                pass
    return out
