"""Series glossaries: load (multi-column CSV, TBX), find terms, enforce them in MT, verify the result.

Why: viewers notice at once when a character's name comes out three different ways; translators
need to know which lines break the series' terminology. So every term found in a source line is
(1) pushed into the engine's input, (2) repaired in the engine's output, and (3) checked: a line
whose translation lacks the term's target gets a ``glossary`` flag. No silent misses.

Matching (``find``): all occurrences of all terms, longest first, never overlapping (a term
inside a longer matched term is not matched again), Chinese/Japanese without word boundaries;
terms whose edges are Latin/Greek/Cyrillic letters or digits match only as whole words (``Li``
is not found inside ``Lisa``), case-sensitively unless the entry's ``case`` column says
``insensitive``.

Enforcement (``enforce``/``Enforced.restore``), chosen for Marian/opus-mt models:

* a target term in Latin script is written *into the source* in place of the source term
  (``李伟说`` -> ``Li Wei 说``): these models copy Latin-script names through almost always;
  ``restore`` repairs near misses (``li wei``, ``Li-Wei``, ``LiWei`` -> ``Li Wei``);
* any other target term (Thai, Arabic, Korean, Chinese...) is replaced by a placeholder made of
  rare capitals (``ZQXA``, ``ZQXB``...) that the model copies as an unknown name; ``restore``
  finds it again even when the model changed its case or put spaces/hyphens inside it.

Failure mode: the model drops, translates or garbles the inserted term or placeholder; then the
translation lacks the target term and ``verify`` flags the line (it is never silently wrong).

Pivot routes (zh -> en -> es): call ``enforce(source, final_target)`` for the first hop, so the
*final* target's term travels through English. If the engine layer enforces per hop, the second
call ``enforce(hop1_output, final_target)`` protects the final-target terms it finds already
present (placeholders again for non-Latin terms), so each hop's ``restore`` works.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from localise.errors import GlossaryError
from localise.layout import is_cjk
from localise.model import Flag

__all__ = ["Glossary", "TermEntry", "TermMatch", "Enforced", "Protection"]

_LANG_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
_CASE_COLUMN = "case"
_IGNORED_COLUMNS = frozenset({"note", "notes", "comment", "comments", "description", "context"})
# Series-bible columns: kept on the entry (TermEntry.kind/gender/note) for the LLM engine's prompt.
_BIBLE_COLUMNS = {"type": "kind", "gender": "gender", "note": "note", "notes": "note"}
_PLACEHOLDER_STEM = "ZQX"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


# --------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True, eq=True)
class TermEntry:
    """One glossary row: a source term and its rendering per target language."""

    term: str
    targets: dict[str, str]
    case_sensitive: bool = True
    line: int | None = None  # where it was defined (CSV line), for messages
    # The series bible (optional CSV columns ``type``, ``gender``, ``note``): what the LLM engine's
    # prompt tells the model about the term (a character, a place, a title...); MT ignores them.
    kind: str = ""
    gender: str = ""
    note: str = ""

    __hash__ = None  # type: ignore[assignment]  # holds a dict


@dataclass(frozen=True)
class TermMatch:
    """A source term found in a text at ``text[start:end]``; ``targets`` maps language -> term."""

    term: str
    start: int
    end: int
    targets: dict[str, str]
    case_sensitive: bool = True

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Protection:
    """One term carried through the engine: ``token`` is what the engine sees, ``target`` what the
    translation must contain (``token == target`` for Latin-script terms written inline)."""

    target: str
    token: str
    placeholder: bool
    case_sensitive: bool = True


@dataclass(frozen=True)
class Enforced:
    """Engine-facing text for one source text, and how to repair the engine's output."""

    text: str
    target_lang: str
    protections: tuple[Protection, ...] = ()
    matches: tuple[TermMatch, ...] = field(default=(), compare=False)

    def restore(self, mt: str) -> str:
        """Put target terms back: placeholders -> terms, near-miss spellings -> exact terms.

        Leaves text alone where nothing resembling the term is found (``verify`` flags that).
        """
        out = mt
        for prot in self.protections:
            if prot.placeholder:
                out = _replace_fuzzy(out, prot.token, prot.target)
            elif not _contains(out, prot.target, prot.case_sensitive):
                out = _replace_fuzzy(out, prot.target, prot.target)
        if _is_no_space(self.target_lang):
            out = _tidy_cjk_spacing(out)
        return out


# --------------------------------------------------------------------------------------------
# Text helpers


def _word_char(ch: str) -> bool:
    """Letters/digits of scripts written with spaces between words, where a term must be whole."""
    return ch.isalnum() and ord(ch) < 0x0590 and not is_cjk(ch)


def _boundary_ok(text: str, start: int, end: int) -> bool:
    if start > 0 and _word_char(text[start]) and _word_char(text[start - 1]):
        return False
    if end < len(text) and _word_char(text[end - 1]) and _word_char(text[end]):
        return False
    return True


def _is_copyable(term: str) -> bool:
    """Latin-script text (with Latin-1/Extended letters) that Marian models copy through."""
    for ch in term:
        if ch.isalpha() and not (ord(ch) < 0x250 or 0x1E00 <= ord(ch) <= 0x1EFF):
            return False
    return True


def _is_no_space(lang: str) -> bool:
    return lang.replace("_", "-").split("-")[0].lower() in {"zh", "ja", "yue", "wuu", "cmn"}


@lru_cache(maxsize=8192)
def _term_pattern(term: str, case_sensitive: bool) -> re.Pattern[str]:
    """Whitespace in the term matches any whitespace run; between CJK characters a line break or
    space may stand (wrapping); case as the entry says, but for a capital first letter."""
    parts: list[str] = []
    prev = ""
    for k, ch in enumerate(term):
        if k == 0 and case_sensitive and ch.islower() and ch.upper() != ch:
            # a term that starts in lower case ("the Gu family") is capitalised at the start of a
            # sentence ("The Gu family waited."): that is the term, not a miss
            parts.append(f"[{re.escape(ch)}{re.escape(ch.upper())}]")
            prev = ch
            continue
        if ch.isspace():
            if parts and parts[-1] != r"\s+":
                parts.append(r"\s+")
        else:
            if prev and is_cjk(prev) and is_cjk(ch):
                parts.append(r"\s*")
            parts.append(re.escape(ch))
        prev = ch
    return re.compile("".join(parts), 0 if case_sensitive else re.IGNORECASE)


def _contains(text: str, term: str, case_sensitive: bool) -> bool:
    pattern = _term_pattern(term.strip(), case_sensitive)
    return any(_boundary_ok(text, m.start(), m.end()) for m in pattern.finditer(text))


@lru_cache(maxsize=8192)
def _fuzzy_pattern(term: str) -> re.Pattern[str]:
    """Case-insensitive; any run of spaces/hyphens/dots/apostrophes allowed between letters where
    the term has a separator, and a space or hyphen allowed between any two letters."""
    pieces = [p for p in re.split(r"[\s\-_.·']+", term) if p]
    sep_between_runs = r"[\s\-_.·']*"
    inner = r"[\s\-]?"
    runs = [inner.join(re.escape(ch) for ch in piece) for piece in pieces]
    return re.compile(sep_between_runs.join(runs), re.IGNORECASE)


def _replace_fuzzy(text: str, token: str, target: str) -> str:
    pattern = _fuzzy_pattern(token)
    out: list[str] = []
    pos = 0
    for m in pattern.finditer(text):
        if not _boundary_ok(text, m.start(), m.end()):
            continue
        out.append(text[pos : m.start()])
        out.append(target)
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def _tidy_cjk_spacing(text: str) -> str:
    """Drop spaces that a placeholder or inline term left next to CJK characters."""
    return re.sub(r"(?<=[\u3000-\u9fff\uff00-\uffef]) +| +(?=[\u3000-\u9fff\uff00-\uffef])", "", text)


def _placeholder(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return _PLACEHOLDER_STEM + letters


def _norm_lang(code: str) -> str:
    return code.strip().replace("_", "-").lower()


# --------------------------------------------------------------------------------------------
# The glossary


class Glossary:
    """Terms of one series. Build with :meth:`load` (CSV/TSV/TBX) or from :class:`TermEntry` rows."""

    def __init__(self, entries: Sequence[TermEntry], *, source_lang: str = "zh", path: str | None = None) -> None:
        self.entries: tuple[TermEntry, ...] = tuple(entries)
        self.source_lang = source_lang
        self.path = path
        self._insensitive = {
            i: re.compile(re.escape(e.term), re.IGNORECASE) for i, e in enumerate(self.entries) if not e.case_sensitive
        }
        # Terms without any cased character (Chinese names...) match case-insensitively exactly where
        # they occur as written: a substring test rules most texts out before the regex runs.
        self._caseless = {i for i in self._insensitive if not any(ch.lower() != ch or ch.upper() != ch for ch in self.entries[i].term)}
        # Terms that can only occur as written (case-sensitive, or caseless) are indexed by their first
        # character: a line is searched only for the terms whose first character it holds, so the cost
        # of a line does not grow with the size of the glossary. Other terms are always searched.
        self._by_first: dict[str, list[int]] = {}
        self._always: list[int] = []
        for i, e in enumerate(self.entries):
            if not e.term:
                continue
            if e.case_sensitive or i in self._caseless:
                self._by_first.setdefault(e.term[0], []).append(i)
            else:
                self._always.append(i)
        self._first_chars = frozenset(self._by_first)
        self._version: str | None = None
        self._targets_by_lang: dict[str, list[tuple[str, bool, str]]] = {}
        self._target_index: dict[str, Any] = {}

    def _targets(self, lang: str) -> list[tuple[str, bool, str]]:
        """(target, case_sensitive, probe) per entry with a term for ``lang``; ``probe`` is a piece
        of the target that must occur (lower-cased when case-insensitive) before a regex is tried."""
        key = _norm_lang(lang)
        if key not in self._targets_by_lang:
            rows: dict[tuple[str, bool], str] = {}
            for e in self.entries:
                target = self.target_for(e.targets, lang)
                if target:
                    probe = max(target.split(), key=len) if target.split() else target
                    rows.setdefault((target, e.case_sensitive), probe if e.case_sensitive else probe.lower())
            self._targets_by_lang[key] = [(t, cs, probe) for (t, cs), probe in rows.items()]
        return self._targets_by_lang[key]

    def _targets_in(self, text: str, lowered: str, lang: str) -> list[tuple[str, bool, str]]:
        """The rows of :meth:`_targets` whose probe may occur in ``text`` (``lowered`` when
        case-insensitive), in their order: a probe occurs only where its first character does, so
        each line is tested against the few rows sharing a character with it, not all of them."""
        key = _norm_lang(lang)
        if key not in self._target_index:
            rows = self._targets(lang)
            by_first: tuple[dict[str, list[int]], dict[str, list[int]]] = ({}, {})
            for n, (_target, case_sensitive, probe) in enumerate(rows):
                by_first[0 if case_sensitive else 1].setdefault(probe[0], []).append(n)
            self._target_index[key] = (rows, by_first, (frozenset(by_first[0]), frozenset(by_first[1])))
        rows, (sensitive, insensitive), (s_chars, i_chars) = self._target_index[key]
        picked = [n for ch in s_chars.intersection(text) for n in sensitive[ch]]
        picked += [n for ch in i_chars.intersection(lowered) for n in insensitive[ch]]
        return [rows[n] for n in sorted(picked)]

    # -- loading -------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path, *, source_lang: str | None = None) -> "Glossary":
        """Read a glossary file: ``.tbx``/``.xml`` as TBX, ``.tsv`` tab-separated, anything else CSV.

        Raises :class:`GlossaryError` naming the file and line for malformed input.
        """
        p = Path(path)
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise GlossaryError(f"cannot read glossary: {exc.strerror or exc}", str(p)) from exc
        if p.suffix.lower() in (".tbx", ".xml"):
            return cls.from_tbx(data, path=str(p), source_lang=source_lang)
        return cls.from_csv(data, path=str(p), delimiter="\t" if p.suffix.lower() == ".tsv" else ",")

    @classmethod
    def from_csv(cls, data: bytes | str, *, path: str | None = None, delimiter: str = ",") -> "Glossary":
        """Multi-column CSV (Amazon Translate custom terminology layout): header row of language
        codes, first column the source term; optional ``case`` column; UTF-8 with or without BOM."""
        text = _decode(data, path)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        header: list[str] | None = None
        header_line = 0
        entries: list[TermEntry] = []
        seen: dict[str, int] = {}
        try:
            for row in reader:
                line = reader.line_num
                cells = [c.strip() for c in row]
                if not any(cells) or cells[0].startswith("#"):
                    continue
                if header is None:
                    header, header_line = cells, line
                    _check_header(header, path, line)
                    continue
                if len(cells) > len(header):
                    if any(cells[len(header) :]):
                        raise GlossaryError(
                            f"{len(cells)} columns but the header (line {header_line}) has {len(header)}"
                            " (a comma inside a term needs double quotes)",
                            path,
                            line,
                        )
                    cells = cells[: len(header)]
                if len(cells) < len(header):  # a lost cell must not silently mean "no rule"
                    raise GlossaryError(
                        f"{len(cells)} columns but the header (line {header_line}) has {len(header)}"
                        " (leave a cell empty with a comma: 'term,,')",
                        path,
                        line,
                    )
                entries.append(_entry_from_row(header, cells, path, line, seen))
        except csv.Error as exc:
            raise GlossaryError(f"malformed CSV: {exc}", path, reader.line_num) from exc
        if header is None:
            raise GlossaryError("empty glossary: no header row of language codes", path, 1)
        return cls(entries, source_lang=header[0], path=path)

    @classmethod
    def from_tbx(cls, data: bytes | str, *, path: str | None = None, source_lang: str | None = None) -> "Glossary":
        """TBX (v2 ``martif``/``termEntry``/``langSet``/``tig``, and v3 ``tbx``/``conceptEntry``/
        ``langSec``/``termSec``), parsed with defusedxml (no entity expansion, no external fetches).

        The source language is ``source_lang``, else the root's ``xml:lang``, else the first
        language of the first entry. Per language the first term is the one enforced.
        """
        from defusedxml import DefusedXmlException
        from defusedxml.ElementTree import fromstring
        from xml.etree.ElementTree import ParseError as XMLParseError

        raw = data.encode("utf-8") if isinstance(data, str) else data
        try:
            root = fromstring(raw)
        except XMLParseError as exc:
            line = exc.position[0] if getattr(exc, "position", None) else None
            raise GlossaryError(f"malformed TBX: {exc}", path, line) from exc
        except DefusedXmlException as exc:
            raise GlossaryError(f"TBX refused: {exc}", path) from exc

        def local(tag: object) -> str:
            return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""

        if local(root.tag) not in ("martif", "tbx"):
            raise GlossaryError(f"not a TBX file: root element <{local(root.tag)}>", path, 1)
        concepts: list[list[tuple[str, list[str]]]] = []
        for el in root.iter():
            if local(el.tag) not in ("termEntry", "conceptEntry"):
                continue
            langs: list[tuple[str, list[str]]] = []
            for ls in el:
                if local(ls.tag) not in ("langSet", "langSec"):
                    continue
                lang = ls.get(_XML_LANG) or ls.get("lang") or ""
                if not lang:
                    raise GlossaryError(f"<{local(ls.tag)}> without xml:lang in entry {el.get('id', '?')}", path)
                terms = [
                    "".join(t.itertext()).strip() for t in ls.iter() if local(t.tag) == "term"
                ]
                langs.append((lang, [t for t in terms if t]))
            concepts.append(langs)
        src = source_lang or root.get(_XML_LANG) or (concepts[0][0][0] if concepts and concepts[0] else "")
        if not src:
            raise GlossaryError("TBX has no entries and no source language", path)
        src_n = _norm_lang(src)
        entries: list[TermEntry] = []
        seen: dict[str, int] = {}
        for number, langs in enumerate(concepts, 1):
            sources = [t for lang, terms in langs if _norm_lang(lang) == src_n for t in terms]
            targets = {
                lang: terms[0] for lang, terms in langs if _norm_lang(lang) != src_n and terms
            }
            for term in sources:  # synonyms in the source language share the targets
                if term in seen:
                    continue
                seen[term] = number
                entries.append(TermEntry(term=term, targets=dict(targets), line=None))
        return cls(entries, source_lang=src, path=path)

    # -- identity ------------------------------------------------------------------------------

    @property
    def version(self) -> str:
        """Content hash (``sha256:`` + 16 hex digits) of the terms, not of the file's bytes: a BOM,
        line endings, column order or comments do not change it; any term, target or case rule does."""
        if self._version is None:
            canon = {
                "source": _norm_lang(self.source_lang),
                "entries": sorted(
                    [e.term, sorted((_norm_lang(k), v) for k, v in e.targets.items()), e.case_sensitive]
                    # the bible columns count only where set: a glossary without them keeps its version
                    + ([e.kind, e.gender, e.note] if (e.kind or e.gender or e.note) else [])
                    for e in self.entries
                ),
            }
            blob = json.dumps(canon, ensure_ascii=False, sort_keys=True).encode("utf-8")
            self._version = "sha256:" + hashlib.sha256(blob).hexdigest()[:16]
        return self._version

    @property
    def languages(self) -> list[str]:
        """Target languages with at least one term."""
        seen: dict[str, None] = {}
        for e in self.entries:
            for k, v in e.targets.items():
                if v:
                    seen.setdefault(k, None)
        return list(seen)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[TermEntry]:
        return iter(self.entries)

    def __repr__(self) -> str:
        return f"Glossary({len(self.entries)} terms, {self.source_lang}->{','.join(self.languages)}, {self.version})"

    @staticmethod
    def target_for(targets: Mapping[str, str], lang: str) -> str | None:
        """The term for ``lang``: exact code (any case, ``_`` or ``-``), else the same primary
        language (``pt-BR`` falls back to ``pt``, ``pt`` to ``pt-BR``). Empty cells are no term."""
        want = _norm_lang(lang)
        normed = {_norm_lang(k): v for k, v in targets.items() if v}
        if want in normed:
            return normed[want]
        base = want.split("-")[0]
        if base in normed:
            return normed[base]
        for k, v in normed.items():
            if k.split("-")[0] == base:
                return v
        return None

    # -- matching ------------------------------------------------------------------------------

    def find(self, text: str) -> list[TermMatch]:
        """Term occurrences in ``text``: longest first, non-overlapping, returned in text order."""
        candidates: list[tuple[int, int, int]] = []  # (-length, start, entry index)
        indices = self._always + [i for ch in self._first_chars.intersection(text) for i in self._by_first[ch]]
        for i in indices:
            entry = self.entries[i]
            term = entry.term
            if entry.case_sensitive:
                pos = text.find(term)
                while pos != -1:
                    if _boundary_ok(text, pos, pos + len(term)):
                        candidates.append((-len(term), pos, i))
                    pos = text.find(term, pos + 1)
            else:
                if i in self._caseless and term not in text:
                    continue
                pattern = self._insensitive[i]
                m = pattern.search(text)
                while m:
                    if _boundary_ok(text, m.start(), m.end()):
                        candidates.append((m.start() - m.end(), m.start(), i))
                    m = pattern.search(text, m.start() + 1)
        if not candidates:  # most lines hold no term
            return []
        candidates.sort()
        taken = [False] * len(text)
        found: list[TermMatch] = []
        for neg_len, start, i in candidates:
            end = start - neg_len
            if any(taken[start:end]):
                continue
            for k in range(start, end):
                taken[k] = True
            e = self.entries[i]
            found.append(TermMatch(term=e.term, start=start, end=end, targets=e.targets, case_sensitive=e.case_sensitive))
        found.sort(key=lambda m: m.start)
        return found

    # -- enforcement ---------------------------------------------------------------------------

    def enforce(self, text: str, target_lang: str) -> Enforced:
        """Engine-facing text with the target terms in place (see the module doc for the strategy)."""
        matches = self.find(text)
        protections: dict[str, Protection] = {}
        placeholders: dict[str, str] = {}

        def protect(target: str, case_sensitive: bool) -> Protection:
            if target in protections:
                return protections[target]
            if _is_copyable(target):
                prot = Protection(target=target, token=target, placeholder=False, case_sensitive=case_sensitive)
            else:
                token = placeholders.setdefault(target, _placeholder(len(placeholders)))
                while token in text:  # never collide with what the text already holds
                    token = token + "Q"
                prot = Protection(target=target, token=token, placeholder=True, case_sensitive=case_sensitive)
            protections[target] = prot
            return prot

        spans: list[tuple[int, int, str]] = []
        for m in matches:
            target = self.target_for(m.targets, target_lang)
            if target:
                spans.append((m.start, m.end, protect(target, m.case_sensitive).token))
        # Final-target terms already present (a pivot hop's output): protect them too.
        occupied = [False] * len(text)
        for s, e, _ in spans:
            for k in range(s, e):
                occupied[k] = True
        lowered = text.lower()
        for target, case_sensitive, probe in self._targets_in(text, lowered, target_lang):
            if probe not in (text if case_sensitive else lowered):
                continue
            for m in _term_pattern(target, case_sensitive).finditer(text):
                if any(occupied[m.start() : m.end()]) or not _boundary_ok(text, m.start(), m.end()):
                    continue
                prot = protect(target, case_sensitive)
                if prot.placeholder:
                    spans.append((m.start(), m.end(), prot.token))
                for k in range(m.start(), m.end()):
                    occupied[k] = True
        spans.sort()
        buf = ""
        pos = 0
        for start, end, token in spans:
            buf += text[pos:start]
            # Pad with a space where the token would otherwise glue onto a letter or ideograph.
            left = buf[-1:]
            right = text[end : end + 1]
            buf += (" " if left.isalnum() else "") + token + (" " if right.isalnum() else "")
            pos = end
        buf += text[pos:]
        return Enforced(
            text=buf,
            target_lang=target_lang,
            protections=tuple(protections.values()),
            matches=tuple(matches),
        )

    # -- verification --------------------------------------------------------------------------

    def missing(self, source_plain: str, translation: str, target_lang: str,
                matches: Sequence[TermMatch] | None = None) -> list[tuple[TermMatch, str]]:
        """Each source term (first occurrence) whose ``target_lang`` rendering is not in ``translation``,
        with that rendering. Terms without a target for the language set no rule and are skipped.
        ``matches``: ``self.find(source_plain)`` when the caller has it already (checks memoise it)."""
        out: list[tuple[TermMatch, str]] = []
        checked: set[str] = set()
        for m in self.find(source_plain) if matches is None else matches:
            target = self.target_for(m.targets, target_lang)
            if not target or m.term in checked:
                continue
            checked.add(m.term)
            if not _contains(translation, target, m.case_sensitive):
                out.append((m, target))
        return out

    def renderings_in(self, text: str, target_lang: str) -> list[str]:
        """The required ``target_lang`` renderings that ``text`` holds: the other side of
        :meth:`missing` (a translation that names "Captain Zhou" where its source does not)."""
        lowered = text.lower()
        return [target for target, case_sensitive, probe in self._targets_in(text, lowered, target_lang)
                if probe.lower() in lowered and _contains(text, target, case_sensitive)]

    def verify(self, source_plain: str, translation: str, target_lang: str) -> list[Flag]:
        """``glossary`` flags (major) for every source term whose target is missing from ``translation``."""
        return [missing_term_flag(m.term, target, target_lang) for m, target in
                self.missing(source_plain, translation, target_lang)]


def missing_term_flag(term: str, target: str, target_lang: str) -> Flag:
    """The ``glossary`` flag of one term whose required rendering is missing."""
    return Flag(code="glossary", severity="major",
                reason=f"glossary term {term!r} must be translated as {target!r} ({target_lang}); "
                       f"{target!r} is missing from the translation")


# --------------------------------------------------------------------------------------------
# CSV helpers


def _decode(data: bytes | str, path: str | None) -> str:
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise GlossaryError("UTF-16 glossary: save it as UTF-8 (with or without BOM)", path, 1)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise GlossaryError(f"not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8", path, line) from exc


def _check_header(header: list[str], path: str | None, line: int) -> None:
    if len(header) < 2:
        hint = " (the file looks ';'-separated: save it as comma-separated CSV)" if ";" in header[0] else ""
        raise GlossaryError(
            f"header needs a source language and at least one target language (e.g. 'zh,en,es'){hint}", path, line
        )
    seen: set[str] = set()
    for col, name in enumerate(header, 1):
        low = name.lower()
        if low == _CASE_COLUMN and col > 1:
            pass
        elif low in _BIBLE_COLUMNS and col > 1:
            pass
        elif (low in _IGNORED_COLUMNS or low.startswith("#")) and col > 1:
            pass
        elif not _LANG_CODE.match(name):
            hint = " (the file looks ';'-separated: save it as comma-separated CSV)" if ";" in name else ""
            raise GlossaryError(
                f"header column {col} {name!r} is not a language code (like zh, en, pt-BR){hint}", path, line
            )
        if low in seen:
            raise GlossaryError(f"header column {col} {name!r} appears twice", path, line)
        seen.add(low)


def _entry_from_row(header: list[str], cells: list[str], path: str | None, line: int, seen: dict[str, int]) -> TermEntry:
    term = unicodedata.normalize("NFC", cells[0])
    if not term:
        raise GlossaryError("empty source term in column 1", path, line)
    if term in seen:
        raise GlossaryError(f"source term {term!r} is defined twice (also on line {seen[term]})", path, line)
    seen[term] = line
    targets: dict[str, str] = {}
    bible: dict[str, str] = {}
    case_sensitive = True
    for name, value in zip(header[1:], cells[1:]):
        low = name.lower()
        if low in _BIBLE_COLUMNS:
            if value:
                bible[_BIBLE_COLUMNS[low]] = unicodedata.normalize("NFC", value)
        elif low == _CASE_COLUMN:
            if value.lower() in ("", "sensitive"):
                case_sensitive = True
            elif value.lower() == "insensitive":
                case_sensitive = False
            else:
                raise GlossaryError(f"case must be 'sensitive' or 'insensitive', not {value!r}", path, line)
        elif low in _IGNORED_COLUMNS or low.startswith("#"):
            continue
        else:
            targets[name] = unicodedata.normalize("NFC", value)
    return TermEntry(term=term, targets=targets, case_sensitive=case_sensitive, line=line, **bible)
