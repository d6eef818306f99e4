"""XLIFF 2.0 and 1.2 round trips between the review store and translators' CAT tools.

Export: one ``<file>`` per track (its ``original`` is ``series/episode/language``), one unit per cue
with id ``c<position>`` (0-based), the source, the current translation and notes that carry the
flags with their reasons, the timing and the neighbouring lines. Export a whole track or the queue.

Import: the file is parsed with defusedxml (DTDs refused), then *every* unit is checked against the
store before anything is written — a file whose tracks or ids are unknown, whose languages
(``srcLang``/``trgLang`` in 2.0, ``source-language``/``target-language`` in 1.2) are not its
track's, that repeats a unit id, whose source text changed or whose target is longer than
``max_target_chars``, is refused with one :class:`ReviewError` listing the problems and the store is
untouched. A caller limited to some series (``series_in``) gets a :class:`ScopeError` for a file
that touches any other.
A target that differs from the current line becomes an edit; an unchanged target whose state says
reviewed/final (2.0) or final/signed-off (1.2) approves the line; other units change nothing."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from localise.errors import ReviewError
from localise.review.access import ScopeError
from localise.review.schema import ReviewItem, ReviewTrack
from localise.review.store import Decision, ReviewStore
from localise.review.xmlsafe import parse_xml

NS2 = "urn:oasis:names:tc:xliff:document:2.0"
NS12 = "urn:oasis:names:tc:xliff:document:1.2"
XML_NS = "http://www.w3.org/XML/1998/namespace"
VERSIONS = ("2.0", "1.2")
APPROVING_STATES = {"2.0": {"reviewed", "final"}, "1.2": {"final", "signed-off"}}
_UNIT_ID = re.compile(r"c(\d{1,9})\Z")
MAX_TARGET_CHARS = 2000  # a subtitle cue is two short lines; anything near this is not one

# checker(track, cue_index, text) -> flags of the edited line (the web app's re-check)
Checker = Callable[[ReviewTrack, int, str], list[dict[str, str]]]


def _ms(ms: int) -> str:
    h, rest = divmod(int(ms), 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _notes(track: ReviewTrack, pos: int, item: ReviewItem | None) -> list[tuple[str, str]]:
    """(category, text) notes for one cue: flags with reasons, timing, review state, context."""
    cue = track.cues[pos]
    flags = item.flags if item is not None else cue.get("flags", [])
    notes = [("flag", f"{f['code']} ({f['severity']}): {f['reason']}") for f in flags]
    notes.append(("timing", f"{_ms(cue['start_ms'])} --> {_ms(cue['end_ms'])}"))
    notes.append(("review", f"state: {item.state if item is not None else 'unflagged'}"))
    if pos > 0:
        prev = track.cues[pos - 1]
        notes.append(("context-previous", f"{prev['source']} = {prev['translation']}"))
    if pos + 1 < len(track.cues):
        nxt = track.cues[pos + 1]
        notes.append(("context-next", f"{nxt['source']} = {nxt['translation']}"))
    return notes


@dataclass
class _Group:
    track: ReviewTrack
    positions: list[int]
    items: dict[int, ReviewItem]


def _current_text(track: ReviewTrack, pos: int, item: ReviewItem | None) -> str:
    return item.text if item is not None else track.cues[pos]["translation"]


def _state(version: str, item: ReviewItem | None) -> str:
    reviewed = item is not None and item.state in ("approved", "edited")
    if version == "2.0":
        return "final" if reviewed else "translated"
    return "final" if reviewed else ("needs-review-translation" if item is not None else "translated")


def _render(groups: Sequence[_Group], version: str) -> str:
    if version not in VERSIONS:
        raise ReviewError(f"unknown XLIFF version {version!r} (one of {', '.join(VERSIONS)})")
    if not groups:
        raise ReviewError("nothing to export: no track or queue item matches")
    src_langs = {g.track.src_lang for g in groups}
    tgt_langs = {g.track.language for g in groups}
    if len(src_langs) > 1 or len(tgt_langs) > 1:
        raise ReviewError("an XLIFF file holds one language pair: filter the export by language "
                          f"(found {', '.join(sorted(src_langs))} -> {', '.join(sorted(tgt_langs))})")
    src, tgt = src_langs.pop(), tgt_langs.pop()
    # Elements are written unqualified under a default xmlns on the root: ElementTree's
    # default_namespace option refuses the unqualified attributes XLIFF uses (version, id...).
    if version == "2.0":
        root = ET.Element("xliff", {"xmlns": NS2, "version": "2.0", "srcLang": src, "trgLang": tgt})
        for n, group in enumerate(groups, 1):
            file_el = ET.SubElement(root, "file", {"id": f"f{n}", "original": group.track.key})
            for pos in group.positions:
                item = group.items.get(pos)
                unit = ET.SubElement(file_el, "unit", {"id": f"c{pos}", "name": f"cue {pos + 1}"})
                unit.set(f"{{{XML_NS}}}space", "preserve")  # line breaks inside a cue are content
                notes_el = ET.SubElement(unit, "notes")
                for category, text in _notes(group.track, pos, item):
                    ET.SubElement(notes_el, "note", {"category": category}).text = text
                segment = ET.SubElement(unit, "segment", {"state": _state(version, item)})
                ET.SubElement(segment, "source").text = group.track.cues[pos]["source"]
                ET.SubElement(segment, "target").text = _current_text(group.track, pos, item)
    else:
        root = ET.Element("xliff", {"xmlns": NS12, "version": "1.2"})
        for group in groups:
            file_el = ET.SubElement(root, "file", {
                "original": group.track.key, "source-language": src, "target-language": tgt, "datatype": "plaintext"})
            body = ET.SubElement(file_el, "body")
            for pos in group.positions:
                item = group.items.get(pos)
                unit = ET.SubElement(body, "trans-unit", {"id": f"c{pos}", "resname": f"cue {pos + 1}"})
                unit.set(f"{{{XML_NS}}}space", "preserve")
                if item is not None and item.state in ("approved", "edited"):
                    unit.set("approved", "yes")
                ET.SubElement(unit, "source").text = group.track.cues[pos]["source"]
                ET.SubElement(unit, "target", {"state": _state(version, item)}).text = \
                    _current_text(group.track, pos, item)
                for category, text in _notes(group.track, pos, item):
                    ET.SubElement(unit, "note", {"from": category}).text = text
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def export_track(store: ReviewStore, series: str, episode: str, language: str, *, version: str = "2.0") -> str:
    """Every cue of one track (flagged or not) as XLIFF ``version``."""
    track = store.track(series, episode, language)
    if track is None:
        raise ReviewError(f"unknown track {series}/{episode}/{language} (ingest its report first)")
    items = {i.cue_index: i for i in store.items(series=series, episode=episode, language=language, state=None)}
    return _render([_Group(track, list(range(len(track.cues))), items)], version)


def export_queue(store: ReviewStore, *, version: str = "2.0", series: str | None = None,
                 language: str | None = None, flag: str | None = None, state: str | None = "open",
                 series_in: Collection[str] | None = None) -> str:
    """The (filtered) review queue as XLIFF ``version``, one ``<file>`` per track; ``series_in``
    (a caller's scope) keeps only those series."""
    groups: dict[int, _Group] = {}
    tracks = {t.id: t for t in store.tracks(series=series, language=language, series_in=series_in)}
    for item in store.items(series=series, language=language, flag=flag, state=state, series_in=series_in):
        group = groups.setdefault(item.track_id, _Group(tracks[item.track_id], [], {}))
        group.positions.append(item.cue_index)
        group.items[item.cue_index] = item
    return _render(list(groups.values()), version)


# -- import ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Unit:
    file_key: str
    unit_id: str
    source: str
    target: str | None
    state: str | None
    src_lang: str | None
    tgt_lang: str | None


def _text(el: ET.Element | None) -> str | None:
    return None if el is None else "".join(el.itertext())


def _read_units(root: ET.Element, name: str) -> tuple[str, list[_Unit]]:
    if root.tag == f"{{{NS2}}}xliff":
        version, ns = "2.0", NS2
    elif root.tag == f"{{{NS12}}}xliff":
        version, ns = "1.2", NS12
    else:
        raise ReviewError(f"{name}: not an XLIFF 2.0 or 1.2 file (root element {root.tag!r})")
    units: list[_Unit] = []
    for file_el in root.findall(f"{{{ns}}}file"):
        key = file_el.get("original") or ""
        if version == "2.0":
            langs = (root.get("srcLang"), root.get("trgLang"))
        else:
            langs = (file_el.get("source-language"), file_el.get("target-language"))
        if version == "2.0":
            for unit in file_el.iter(f"{{{ns}}}unit"):
                segments = unit.findall(f"{{{ns}}}segment")
                if len(segments) != 1:
                    raise ReviewError(f"{name}: unit {unit.get('id')!r} has {len(segments)} segments; "
                                      "merge or split is not supported (one segment per cue)")
                seg = segments[0]
                units.append(_Unit(key, unit.get("id") or "", _text(seg.find(f"{{{ns}}}source")) or "",
                                   _text(seg.find(f"{{{ns}}}target")), seg.get("state"), *langs))
        else:
            for unit in file_el.iter(f"{{{ns}}}trans-unit"):
                target = unit.find(f"{{{ns}}}target")
                state = target.get("state") if target is not None else None
                if unit.get("approved") == "yes":  # 1.2's own approval attribute (what CAT tools set)
                    state = "signed-off"
                units.append(_Unit(key, unit.get("id") or "", _text(unit.find(f"{{{ns}}}source")) or "",
                                   _text(target), state, *langs))
    return version, units


def _norm(text: str) -> str:
    return text.replace("\r\n", "\n").strip()


def _same_language(given: str | None, expected: str) -> bool:
    return given is not None and given.strip().replace("_", "-").lower() == expected.replace("_", "-").lower()


def _language_problems(unit: _Unit, track: ReviewTrack, version: str) -> list[str]:
    names = ("srcLang", "trgLang") if version == "2.0" else ("source-language", "target-language")
    problems = []
    for attr, given, expected in ((names[0], unit.src_lang, track.src_lang), (names[1], unit.tgt_lang, track.language)):
        if not _same_language(given, expected):
            problems.append(f"file {unit.file_key!r}: {attr} is {given!r}, the track's is {expected!r}")
    return problems


def plan_import(store: ReviewStore, data: bytes | str, *, name: str = "<xliff>",
                checker: Checker | None = None, series_in: Collection[str] | None = None,
                max_target_chars: int = MAX_TARGET_CHARS) -> list[Decision]:
    """The decisions a file would make, after checking every unit; raises :class:`ReviewError`
    (listing every problem) when any unit does not match its track. Writes nothing."""
    version, units = _read_units(parse_xml(data, name), name)
    problems: list[str] = []
    decisions: list[Decision] = []
    tracks: dict[str, ReviewTrack | None] = {}
    items: dict[str, dict[int, ReviewItem]] = {}
    seen: set[tuple[str, str]] = set()
    for unit in units:
        if (unit.file_key, unit.unit_id) in seen:
            problems.append(f"file {unit.file_key!r}: unit id {unit.unit_id!r} appears more than once")
            continue
        seen.add((unit.file_key, unit.unit_id))
        if unit.file_key not in tracks:
            track = tracks[unit.file_key] = store.track_by_key(unit.file_key)
            if track is not None and series_in is not None and track.series not in series_in:
                raise ScopeError(f"{name}: refused, nothing imported: file {unit.file_key!r} is a track of series "
                                 f"{track.series!r}, outside this caller's series")
            if track is None:
                problems.append(f"file {unit.file_key!r}: unknown track")
            else:
                problems.extend(_language_problems(unit, track, version))
                items[unit.file_key] = {i.cue_index: i for i in store.items(
                    series=track.series, episode=track.episode, language=track.language, state=None)}
        track = tracks[unit.file_key]
        if track is None:
            continue
        if unit.target is not None and len(unit.target) > max_target_chars:
            problems.append(f"{track.key} unit {unit.unit_id}: target of {len(unit.target)} characters "
                            f"(at most {max_target_chars})")
            continue
        match = _UNIT_ID.match(unit.unit_id)
        pos = int(match.group(1)) if match else -1
        if not 0 <= pos < len(track.cues):
            problems.append(f"{track.key}: unknown unit id {unit.unit_id!r}")
            continue
        if _norm(unit.source) != _norm(track.cues[pos]["source"]):
            problems.append(f"{track.key} unit {unit.unit_id}: source text changed "
                            f"({track.cues[pos]['source']!r} -> {unit.source!r})")
            continue
        if unit.target is None or not unit.target.strip():
            continue
        item = items[unit.file_key].get(pos)
        target = unit.target.replace("\r\n", "\n").strip()
        if _norm(target) != _norm(_current_text(track, pos, item)):
            if (item is not None and item.state in ("approved", "edited")
                    and _norm(target) == _norm(track.cues[pos]["translation"])):
                continue  # an older export still carrying the machine text: keep the review made since
            check = checker(track, pos, target) if checker else []
            decisions.append(Decision(track.key, pos, "edited", target, tuple(check)))
        elif unit.state in APPROVING_STATES[version] and (item is None or item.state not in ("approved", "edited")):
            decisions.append(Decision(track.key, pos, "approved"))
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise ReviewError(f"{name}: refused, nothing imported: {shown}")
    return decisions


def import_xliff(store: ReviewStore, data: bytes | str, *, name: str = "<xliff>", reviewer: str | None = None,
                 checker: Checker | None = None, series_in: Collection[str] | None = None,
                 max_target_chars: int = MAX_TARGET_CHARS) -> dict[str, Any]:
    """Check the whole file, then apply its decisions in one transaction (all or nothing)."""
    decisions = plan_import(store, data, name=name, checker=checker, series_in=series_in,
                            max_target_chars=max_target_chars)
    store.apply(decisions, reviewer=reviewer)
    return {"edited": sum(d.state == "edited" for d in decisions),
            "approved": sum(d.state == "approved" for d in decisions)}
