"""The per-track quality report: JSON for machines (flows, review store), HTML for people.

JSON shape (the public interface of ``localise translate`` and ``localise check``)::

    {"source": <source file name>, "target_language": "en",
     "cues": [{"index", "start_ms", "end_ms", "source", "translation", "unit", "confidence",
               "flags": [{"code", "severity", "reason"}], "score", "need_review"}, ...],
     "summary": {... checks.summarise ..., "need_review_share"},
     "track": {"source_findings": [...], "findings": [...], "checks_unavailable": [...]},
     "signature": {engine/model/glossary as the caller gives them, "thresholds": {...}, "quality": ...}}

``index`` is the cue's 1-based position in the track (what a subtitle editor shows);
``source``/``translation`` are the cue texts as in the files (markup included, ``"\\n"`` between
lines). With a reference, each cue also has ``reference`` and ``chrf`` (sentence chrF) and the
summary holds the corpus metrics under ``reference``. ``need_review`` says a cue carries a flag at or
above the routing severity (``review_severity``, major). The ``track`` section holds what is said
once per track: the source's own timing problems (``source_findings``: a translation keeps its
source's timings), findings about the whole translation (``findings``, e.g. a shifted file), and
the checks that could not run for this language pair (``checks_unavailable``).

The HTML page is one self-contained file: inline CSS, no script, no external resource (a
Content-Security-Policy forbids them), every subtitle text escaped by Jinja2's autoescape.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from localise.formats.base import paused_gc
from localise.model import Flag, Track, Unit
from localise.quality.checks import (
    align_by_time, check_track, cue_score, needs_review, review_severity_of, source_findings, summarise,
    unavailable_checks, worst,
)
from localise.quality.text import plain_text
from localise.quality.thresholds import Thresholds, load_thresholds

QUALITY_VERSION = "localise.quality/1"


def _unit_fields(units: Any, n: int) -> list[Any]:
    """Per cue, its unit id(s): an int, a list of ints for a cue in several units, or ``None``."""
    if units is None:
        return [None] * n
    if units and isinstance(units[0], Unit):
        by_cue: dict[int, list[int]] = {}
        for u in units:  # one pass over the units, not one per cue
            for c in dict.fromkeys(u.cues):
                by_cue.setdefault(c, []).append(u.id)
        per_cue: list[Any] = [by_cue.get(i) for i in range(n)]
    else:
        per_cue = [units[i] if i < len(units) else None for i in range(n)]
    out: list[Any] = []
    for entry in per_cue:
        if entry is None or isinstance(entry, int):
            out.append(entry)
            continue
        ids = list(entry)
        out.append(None if not ids else ids[0] if len(ids) == 1 else ids)
    return out


def _reference_texts(reference: Any, target: Track) -> list[str] | None:
    if reference is None or isinstance(reference, Mapping):
        return None
    if isinstance(reference, Track):
        aligned = reference if len(reference.cues) == len(target.cues) else align_by_time(reference, target)
        return [plain_text(c.text, aligned.format) for c in aligned.cues]
    return [str(r) for r in reference]


def build_report(
    source_track: Track,
    target_track: Track,
    flags: Sequence[Sequence[Flag]] | None = None,
    *,
    target_language: str | None = None,
    tgt_lang: str | None = None,
    src_lang: str | None = None,
    confidences: Sequence[float | None] | None = None,
    units: Any = None,
    origins: Sequence[str] | None = None,
    reference: Track | Sequence[str] | Mapping[str, Any] | None = None,
    signature: Mapping[str, Any] | None = None,
    thresholds: Mapping[str, Any] | Thresholds | None = None,
    style: Any = None,
    track_findings: Sequence[Mapping[str, Any]] | None = None,
    checks_unavailable: Sequence[str] | None = None,
    timing_source: Track | None = None,
) -> dict[str, Any]:
    """The report dict (see module doc). ``flags`` default to :func:`check_track` (needs ``src_lang``).

    ``style`` (a ``layout.Style`` or overrides) is what the source's timing is judged against;
    ``track_findings`` and ``checks_unavailable`` go to the ``track`` section as given;
    ``timing_source`` is the source as it was timed when ``source_track`` was cut like the
    target (``localise check``): its own timing problems are the ones reported.

    ``reference`` is a reference track (aligned to the target by time), reference texts per cue,
    or an already computed :func:`reference_scores` result; ``units`` are ``Unit`` objects or the
    unit ids per cue; ``origins`` says per cue where the words came from (mt, tm, review).
    """
    lang = target_language or tgt_lang
    if not lang:
        raise ValueError("build_report needs target_language")
    if thresholds is None and isinstance((signature or {}).get("thresholds"), Mapping):
        thresholds = signature["thresholds"] or None  # the run's overrides, as LocaliseOptions.describe() gives them
    th = load_thresholds(lang, thresholds)
    source = source_track if len(source_track.cues) == len(target_track.cues) else align_by_time(source_track, target_track)
    if flags is None:
        if not src_lang:
            raise ValueError("build_report needs src_lang to run the checks")
        flags = check_track(source, target_track, src_lang=src_lang, tgt_lang=lang, confidences=confidences, thresholds=th)
    if len(flags) != len(target_track.cues):
        raise ValueError(f"{len(flags)} flag lists for {len(target_track.cues)} cues")

    ref_scores: dict[str, Any] | None = None
    ref_texts = _reference_texts(reference, target_track)
    if ref_texts is not None:
        from localise.quality.reference import reference_scores

        hyps = [plain_text(c.text, target_track.format) for c in target_track.cues]
        ref_scores = reference_scores(hyps, ref_texts, lang)
    elif isinstance(reference, Mapping):
        ref_scores = dict(reference)

    with paused_gc():  # a dict per cue, no cycles: see localise.formats.base.paused_gc
        cues = _cue_entries(source, target_track, flags, th, confidences, units, origins, ref_texts, ref_scores)
    report = _assemble(source_track, source, lang, src_lang, flags, cues, ref_scores, th, signature)
    report["track"] = {
        "source_findings": source_findings(timing_source or source_track, style, lang=lang),
        "findings": [dict(f) for f in track_findings or ()],
        "checks_unavailable": sorted(set(checks_unavailable if checks_unavailable is not None
                                         else unavailable_checks(src_lang or "und", lang))),
    }
    return report


def _cue_entries(
    source: Track,
    target_track: Track,
    flags: Sequence[Sequence[Flag]],
    th: Thresholds,
    confidences: Sequence[float | None] | None,
    units: Any,
    origins: Sequence[str] | None,
    ref_texts: list[str] | None,
    ref_scores: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    scores = [cue_score(f, th) for f in flags]
    routing = review_severity_of(th)
    unit_ids = _unit_fields(units, len(target_track.cues))
    cues = []
    for i, (s, t) in enumerate(zip(source.cues, target_track.cues)):
        conf = confidences[i] if confidences is not None and i < len(confidences) else None
        entry: dict[str, Any] = {
            "index": i + 1,
            "start_ms": t.start_ms,
            "end_ms": t.end_ms,
            "source": s.text,
            "translation": t.text,
            "unit": unit_ids[i],
            "confidence": None if conf is None else round(float(conf), 4),
            "flags": [f.to_dict() for f in flags[i]],
            "score": scores[i],
            "need_review": needs_review(flags[i], routing),
        }
        if origins is not None and i < len(origins):
            entry["origin"] = origins[i]
        if ref_texts is not None:
            entry["reference"] = ref_texts[i]
        if ref_scores and "sentence_chrf" in ref_scores and i < len(ref_scores["sentence_chrf"]):
            entry["chrf"] = ref_scores["sentence_chrf"][i]
        cues.append(entry)
    return cues


def _assemble(
    source_track: Track,
    source: Track,
    lang: str,
    src_lang: str | None,
    flags: Sequence[Sequence[Flag]],
    cues: list[dict[str, Any]],
    ref_scores: dict[str, Any] | None,
    th: Thresholds,
    signature: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The report around its cue entries: summary, signature."""
    scores = [c["score"] for c in cues]
    corpus = {k: v for k, v in (ref_scores or {}).items() if k != "sentence_chrf"} or None
    summary = summarise(flags, scores, reference=corpus, thresholds=th)
    alignment = [w for w in source.warnings if w.code == "unaligned-source-cue"]
    if alignment:
        summary["unaligned_source_cues"] = [w.cue + 1 for w in alignment if w.cue is not None]

    sig: dict[str, Any] = dict(signature or {})
    overrides = sig.pop("thresholds", None)
    sig["thresholds"] = th.signature() | ({"overrides": overrides} if overrides else {})
    sig["quality"] = QUALITY_VERSION
    if corpus:
        sig["reference_metrics"] = {k: corpus[k]["signature"] for k in ("bleu", "chrf", "chrf++", "ter") if k in corpus}
    return {
        "source": source_track.source_name,
        "target_language": lang,
        "source_language": src_lang,
        "cues": cues,
        "summary": summary,
        "signature": sig,
    }


def write_report_json(report: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """UTF-8 JSON, human-readable (non-ASCII kept, indented)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return out


def _clock(ms: int) -> str:
    sign = "-" if ms < 0 else ""
    ms = abs(int(ms))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{sign}{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


@lru_cache(maxsize=1)
def _template() -> Any:
    """The report template, compiled once per process (a Jinja2 environment per report cost more
    than rendering an episode's rows)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
    )
    env.filters["clock"] = _clock
    return env.get_template("report.html.j2")


def render_html(report: Mapping[str, Any]) -> str:
    """A self-contained HTML page of the report (see module doc)."""
    template = _template()
    with paused_gc():  # a row dict per cue, no cycles: see localise.formats.base.paused_gc
        cues = list(report.get("cues", []))
        rows = [dict(c, worst=worst([Flag(**f) for f in c.get("flags", [])]) or "clean") for c in cues]
        return template.render(
            report=report,
            rows=rows,
            summary=report.get("summary", {}),
            signature=report.get("signature", {}),
            reference=(report.get("summary") or {}).get("reference"),
            title=f"{report.get('source') or 'track'} → {report.get('target_language')}",
        )
