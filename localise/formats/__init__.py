"""Readers and writers for each subtitle format, behind one small interface (see ``base.py``).

``localise.io`` is the single entry point; it sits above this package, so nothing here imports it.
The registry is a plain dict from format name to the module that reads and renders it.
"""

from __future__ import annotations

from types import ModuleType

FORMAT_NAMES: tuple[str, ...] = ("srt", "vtt", "ass", "ssa")
EXTENSIONS: dict[str, str] = {".srt": "srt", ".vtt": "vtt", ".webvtt": "vtt", ".ass": "ass", ".ssa": "ssa"}


def format_module(fmt: str) -> ModuleType:
    """The module that reads and renders ``fmt`` (imported on first use)."""
    if fmt == "srt":
        from localise.formats import srt

        return srt
    if fmt == "vtt":
        from localise.formats import vtt

        return vtt
    if fmt in ("ass", "ssa"):
        from localise.formats import ass

        return ass
    raise KeyError(fmt)
