"""Where a cue sits on screen, carried across formats: ASS/SRT ``{\\anN}`` (numpad layout:
7 8 9 top, 4 5 6 middle, 1 2 3 bottom) <-> WebVTT cue settings (``line``, ``align``).

Only the coarse placement carries over (top/middle/bottom, start/centre/end); exact ``\\pos``
coordinates and regions have no counterpart and stay behind.
"""

from __future__ import annotations

import re

from localise.formats.vtt import interpret_settings, region_ids

__all__ = ["an_from_vtt_settings", "vtt_settings_from_an", "region_ids"]

_LEADING_AN = re.compile(r"^\{([^{}]*?)\\an([1-9])([^{}]*)\}")


def vtt_settings_from_an(text: str, dialect: str) -> tuple[str, str]:
    """``(text without the leading \\anN, WebVTT settings)``; settings are ``""`` for bottom centre."""
    if dialect not in ("srt", "ass", "ssa"):
        return text, ""
    m = _LEADING_AN.match(text)
    if not m:
        return text, ""
    rest = m.group(1) + m.group(3)
    text = (f"{{{rest}}}" if rest.strip() else "") + text[m.end():]
    an = int(m.group(2))
    settings = []
    if an >= 7:
        settings.append("line:0")
    elif an >= 4:
        settings.append("line:50%")
    if an % 3 == 1:
        settings.append("align:start")
    elif an % 3 == 0:
        settings.append("align:end")
    return text, " ".join(settings)


def an_from_vtt_settings(settings: str, regions: set[str] | frozenset[str] = frozenset()) -> int:
    """The ``\\anN`` number closest to a cue's WebVTT settings (2, bottom centre, by default)."""
    s = interpret_settings(settings, regions)
    line = s["line"]
    row = 0  # bottom
    if line != "auto":
        if s["snapToLines"]:
            row = 2 if int(line) >= 0 and int(line) < 3 else 0
        else:
            row = 2 if line < 34 else (1 if line < 67 else 0)
    column = {"start": 0, "left": 0, "end": 2, "right": 2}.get(s["align"], 1)
    return 1 + column + 3 * row
