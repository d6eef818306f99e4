"""Language codes are BCP 47 tags, checked before anything runs.

Why: a language code becomes part of file names (``OUT/<stem>.<lang>.srt``) and storage keys, and
selects models and styles. A code like ``x/../../y`` or one with a control character must be
refused with a clear message, not turned into a path. Well-formedness is checked with a strict
pattern (letters, digits and hyphens: nothing a file system gives a meaning to), validity against
the IANA subtag registry with ``langcodes``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from localise.errors import ConfigError

# RFC 5646 shape: a 2-8 letter primary language subtag, then 1-8 character alphanumeric subtags.
_TAG = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")


def check_language(tag: str, what: str = "language") -> str:
    """``tag`` without surrounding spaces when it is a valid BCP 47 tag, else :class:`ConfigError`."""
    text = str(tag).strip()
    if not _TAG.fullmatch(text) or not _registered(text):
        raise ConfigError(f"{what} {text!r} is not a BCP 47 language tag (examples: en, es, pt-BR, zh-Hans)")
    return text


def check_languages(tags: Iterable[str], what: str = "target language") -> list[str]:
    """Every non-empty tag checked (:func:`check_language`), in order."""
    return [check_language(tag, what) for tag in tags if str(tag).strip()]


def _registered(tag: str) -> bool:
    try:
        import langcodes
    except ImportError:  # pragma: no cover - a declared dependency; the pattern still holds
        return True
    return bool(langcodes.tag_is_valid(tag))
