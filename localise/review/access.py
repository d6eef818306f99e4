"""Who may do what in the review app: roles, series scopes and the names a request may use.

Roles are ordered — ``reviewer`` < ``operator`` < ``admin`` — and every token also carries the
series it may touch (``*`` for all). Reviewers read and decide lines and start ``apply-review``;
operators also ingest published episodes and start batch and episode runs; admins also read the
audit log. Every capability stays inside the token's series."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from localise.errors import ReviewError

ROLES: tuple[str, ...] = ("reviewer", "operator", "admin")
ALL_SERIES = "*"
MAX_NAME_CHARS = 120
# The shape of a BCP 47 tag: language, optional script, region and variants (``en``, ``pt-BR``,
# ``zh-Hant-TW``, ``sr-Latn``); enough to keep paths, markup and control characters out.
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z]{4})?(-(?:[A-Za-z]{2}|[0-9]{3}))?(-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*")


class ScopeError(ReviewError):
    """The caller's token does not reach this series or action (HTTP 403)."""


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ReviewError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    return role


def is_safe_name(name: str) -> bool:
    """A series or episode name that is one clean storage segment (what :func:`safe_segment` would
    make of it): no separators, no ``..``, no control characters, no leading dot."""
    from localise.storage import safe_segment

    return isinstance(name, str) and 0 < len(name) <= MAX_NAME_CHARS and name != "_" and safe_segment(name) == name


def check_name(name: str, what: str = "series") -> str:
    if not is_safe_name(name):
        raise ReviewError(f"invalid {what} name {name!r}: letters, digits, '.', '-' and '_' only, "
                          f"at most {MAX_NAME_CHARS} characters, no leading dot")
    return name


def check_language(tag: str) -> str:
    if not isinstance(tag, str) or len(tag) > 35 or not _LANGUAGE_TAG.fullmatch(tag):
        raise ReviewError(f"invalid language tag {tag!r} (a BCP 47 tag such as en, es or pt-BR)")
    return tag


def normalise_series(series: Iterable[str]) -> list[str]:
    """A token's series list, checked: ``["*"]`` or safe names, sorted, without duplicates."""
    values = sorted({s.strip() for s in series if s and s.strip()})
    if ALL_SERIES in values:
        return [ALL_SERIES]
    return [check_name(s) for s in values]


@dataclass(frozen=True)
class Principal:
    """The caller of a request, resolved from a bearer token or a login session."""

    name: str
    role: str
    series: frozenset[str]  # {"*"} for every series
    token_ref: str  # "db:<id>" or "env:<fingerprint>"

    @property
    def all_series(self) -> bool:
        return ALL_SERIES in self.series

    def at_least(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    def may_see(self, series: str) -> bool:
        return self.all_series or series in self.series

    def series_filter(self) -> Collection[str] | None:
        """``None`` (no restriction) or the series this caller may see, for store queries."""
        return None if self.all_series else self.series

    def require(self, role: str, series: str | None = None) -> None:
        """Raise :class:`ScopeError` unless this caller has ``role`` (or higher) on ``series``."""
        if not self.at_least(role):
            raise ScopeError(f"{self.name} ({self.role}) may not do this: it needs the {role} role")
        if series is not None and not self.may_see(series):
            raise ScopeError(f"{self.name} ({self.role}) has no access to series {series!r}")

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "role": self.role, "series": sorted(self.series)}
