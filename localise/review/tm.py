"""Translation memory: reviewed lines per series and language pair, exact reuse by later runs,
fuzzy suggestions for reviewers (difflib), and TMX 1.4 export/import for CAT tools.

The pipeline sees a :class:`TranslationMemory` bound to one series through ``LocaliseOptions.memory``
and calls ``memory.exact(source_text, src_lang, tgt_lang)`` per translation unit."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from localise.errors import ReviewError
from localise.review.schema import TMEntry, make_engine, utcnow
from localise.review.text import plain_text, source_key, unwrap

TMX_VERSION = "1.4"


@dataclass(frozen=True)
class FuzzyMatch:
    """A similar reviewed line shown to a reviewer; ``score`` is difflib's ratio in [0, 1]."""

    source: str
    target: str
    score: float


class TranslationMemory:
    """Reviewed translations in the review database (``url`` or an existing SQLAlchemy engine).

    ``series`` binds the memory to one series — what the pipeline hook needs, since a catchphrase
    is only reused inside its own series. Methods that take ``series=`` override the binding."""

    def __init__(self, url_or_engine="sqlite:///review.db", *, series: str | None = None) -> None:
        self.engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
        self.url = url_or_engine if isinstance(url_or_engine, str) else \
            self.engine.url.render_as_string(hide_password=False)
        self.series = series
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def __reduce__(self):
        """Pickle as URL + series (run options travel to Prefect workers); the engine is rebuilt."""
        return (TranslationMemory, (self.url,), {"series": self.series})

    def __setstate__(self, state: dict) -> None:
        self.series = state["series"]

    def for_series(self, series: str) -> "TranslationMemory":
        """The same memory bound to ``series`` (what a run passes as ``options.memory``)."""
        return TranslationMemory(self.engine, series=series)

    def _series(self, series: str | None) -> str:
        series = series if series is not None else self.series
        if series is None:
            raise ReviewError("translation memory: no series given (bind one with for_series)")
        return series

    # -- writing ---------------------------------------------------------------------------
    def add(
        self,
        source: str,
        target: str,
        src_lang: str,
        tgt_lang: str,
        *,
        series: str | None = None,
        origin: str = "review",
        reviewer: str | None = None,
        session: Session | None = None,
    ) -> None:
        """Insert or replace the entry for ``source`` (a later review wins over an earlier one)."""
        series = self._series(series)
        key = source_key(source)
        if not key:
            return
        own = session is None
        session = session or self._sessions()
        try:
            entry = session.scalar(
                select(TMEntry).where(
                    TMEntry.series == series,
                    TMEntry.src_lang == src_lang,
                    TMEntry.tgt_lang == tgt_lang,
                    TMEntry.source_key == key,
                )
            )
            if entry is None:
                session.add(
                    TMEntry(series=series, src_lang=src_lang, tgt_lang=tgt_lang, source_key=key,
                            source=plain_text(source), target=target, origin=origin, reviewer=reviewer)
                )
            else:
                entry.source, entry.target, entry.origin, entry.reviewer = plain_text(source), target, origin, reviewer
                entry.updated_at = utcnow()
            if own:
                session.commit()
        finally:
            if own:
                session.close()

    # -- reading ---------------------------------------------------------------------------
    def exact(self, source_text: str, src_lang: str, tgt_lang: str, *, series: str | None = None) -> str | None:
        """The reviewed translation of exactly this source (after normalisation), or ``None``."""
        key = source_key(source_text)
        if not key:
            return None
        with self._sessions() as session:
            target = session.scalar(
                select(TMEntry.target).where(
                    TMEntry.series == self._series(series),
                    TMEntry.src_lang == src_lang,
                    TMEntry.tgt_lang == tgt_lang,
                    TMEntry.source_key == key,
                )
            )
        return unwrap(target, tgt_lang) if target is not None else None

    def exact_many(self, sources: list[str], src_lang: str, tgt_lang: str) -> list[str | None]:
        """:meth:`exact` for many unit sources in one query (the pipeline prefers this)."""
        keys = [source_key(text) for text in sources]
        with self._sessions() as session:
            rows = session.execute(select(TMEntry.source_key, TMEntry.target).where(
                TMEntry.series == self._series(None), TMEntry.src_lang == src_lang,
                TMEntry.tgt_lang == tgt_lang, TMEntry.source_key.in_(set(k for k in keys if k)))).all()
        found = {key: unwrap(target, tgt_lang) for key, target in rows}
        return [found.get(key) if key else None for key in keys]

    def entries(self, src_lang: str | None = None, tgt_lang: str | None = None, *,
                series: str | None = None, all_series: bool = False) -> list[TMEntry]:
        query = select(TMEntry).order_by(TMEntry.id)
        if not all_series:
            query = query.where(TMEntry.series == self._series(series))
        if src_lang:
            query = query.where(TMEntry.src_lang == src_lang)
        if tgt_lang:
            query = query.where(TMEntry.tgt_lang == tgt_lang)
        with self._sessions() as session:
            return list(session.scalars(query))

    def fuzzy(self, source_text: str, src_lang: str, tgt_lang: str, *, series: str | None = None,
              limit: int = 3, cutoff: float = 0.6) -> list[FuzzyMatch]:
        """Similar reviewed lines, best first (exact matches included with score 1.0)."""
        key = source_key(source_text)
        if not key:
            return []
        scored: list[FuzzyMatch] = []
        for entry in self.entries(src_lang, tgt_lang, series=series):
            matcher = difflib.SequenceMatcher(None, key, entry.source_key, autojunk=False)
            if matcher.real_quick_ratio() < cutoff or matcher.quick_ratio() < cutoff:
                continue
            score = matcher.ratio()
            if score >= cutoff:
                scored.append(FuzzyMatch(entry.source, entry.target, round(score, 3)))
        scored.sort(key=lambda m: -m.score)
        return scored[:limit]

    # -- TMX -------------------------------------------------------------------------------
    def export_tmx(self, src_lang: str, tgt_lang: str | None = None, *, series: str | None = None,
                   all_series: bool = False) -> str:
        """TMX 1.4 (one ``<tu>`` per entry, the series in a ``x-series`` property)."""
        import xml.etree.ElementTree as ET

        root = ET.Element("tmx", version=TMX_VERSION)
        ET.SubElement(root, "header", {
            "creationtool": "localise", "creationtoolversion": "0.1", "segtype": "sentence",
            "o-tmf": "localise", "adminlang": "en", "srclang": src_lang, "datatype": "plaintext",
        })
        body = ET.SubElement(root, "body")
        for entry in self.entries(src_lang, tgt_lang, series=series, all_series=all_series):
            tu = ET.SubElement(body, "tu", tuid=str(entry.id), creationdate=entry.created_at.strftime("%Y%m%dT%H%M%SZ"))
            ET.SubElement(tu, "prop", type="x-series").text = entry.series
            ET.SubElement(tu, "prop", type="x-origin").text = entry.origin
            for lang, text in ((entry.src_lang, entry.source), (entry.tgt_lang, entry.target)):
                tuv = ET.SubElement(tu, "tuv", {"xml:lang": lang})
                ET.SubElement(tuv, "seg").text = text
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

    def import_tmx(self, data: bytes | str, *, series: str | None = None, name: str = "<tmx>") -> int:
        """Add every source/target pair of a TMX file; returns the number of entries written.
        The source language is the header's ``srclang``; each other ``tuv`` is a target. A ``x-series``
        property wins over ``series``. Parsed with defusedxml: DTDs and entities are refused."""
        from localise.review.xmlsafe import parse_xml

        root = parse_xml(data, name)
        if root.tag != "tmx":
            raise ReviewError(f"{name}: not a TMX file (root element {root.tag!r})")
        header = root.find("header")
        src_lang = header.get("srclang") if header is not None else None
        if not src_lang or src_lang == "*all*":
            raise ReviewError(f"{name}: TMX header has no usable srclang")
        pairs: list[tuple[str, str, str, str]] = []
        for n, tu in enumerate(root.iter("tu"), 1):
            tu_series = next((p.text for p in tu.findall("prop") if p.get("type") == "x-series" and p.text), None)
            tu_series = tu_series or self._series(series)
            segs: dict[str, str] = {}
            for tuv in tu.findall("tuv"):
                lang = tuv.get("{http://www.w3.org/XML/1998/namespace}lang") or tuv.get("lang")
                seg = tuv.find("seg")
                if lang and seg is not None:
                    segs[lang] = "".join(seg.itertext())
            if src_lang not in segs:
                raise ReviewError(f"{name}: translation unit {n} has no {src_lang} segment")
            pairs += [(tu_series, lang, segs[src_lang], text) for lang, text in segs.items() if lang != src_lang]
        with self._sessions() as session, session.begin():
            for tu_series, tgt_lang, source, target in pairs:
                self.add(source, target, src_lang, tgt_lang, series=tu_series, origin="tmx", session=session)
        return len(pairs)

