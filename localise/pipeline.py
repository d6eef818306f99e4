"""The composition every entry point shares: tracks in, localised tracks with checks and reports out.

``localise translate`` (CLI), the Prefect flows and the review layer all call :func:`localise_tracks`
(or :func:`localise_files` on top of it); none of them re-implements a step. The expensive part is
the model, so the pipeline is shaped around it:

* every per-track step that does not depend on the target language (markup protection, translation
  units) runs once per track, not once per language;
* machine translation sees each distinct unit text once, over *all* tracks of the batch and all
  target languages: one batched engine call per hop (a pivot's shared zh -> en hop runs once; the
  engine sorts by length and fills its own token-budget batches);
* translation-memory exact matches and empty units never reach the engine.

Invariant, checked before anything is returned: a localised track has the source's cues, in the
source's order, with the source's timings, ids and extras — only the words change.
"""

from __future__ import annotations

import functools
import gc
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from localise.errors import ConfigError, LocaliseError
from localise.model import Flag, Track, Translation, Unit

if TYPE_CHECKING:
    from localise.formats.limits import InputLimits
    from localise.glossary import Glossary
    from localise.resume import RunCache, TranslationCache

_T = TypeVar("_T")


@runtime_checkable
class TranslationMemory(Protocol):
    """What the pipeline asks of a translation memory (the review layer's TM implements it)."""

    def exact(self, source_text: str, src_lang: str, tgt_lang: str) -> str | None:
        """An approved translation of exactly this unit source, or ``None``."""


@dataclass
class LocaliseOptions:
    """How to localise; plain data so that it pickles (Prefect, worker processes) and hashes.

    ``glossary`` is a loaded :class:`~localise.glossary.Glossary`, a path to one, or ``None``.
    ``styles`` maps a language to overrides of its style-table row; ``thresholds`` goes to the
    quality checks unchanged. ``memory`` is an optional :class:`TranslationMemory`.
    ``engine`` is a registry name (``transformers``, ``ctranslate2``) or an engine object with
    ``translate(texts, src, tgt) -> list[Translation]`` (tests, benchmarks, custom back ends).
    ``engine_options`` go to the engine registry (device, batch budget...).
    """

    src: str = "zh"
    engine: Any = "transformers"
    model: str | None = None
    model_table: dict[str, str] | None = None
    glossary: Any = None
    max_gap_ms: int = 1500
    max_unit_chars: int = 400
    styles: dict[str, dict[str, Any]] | None = None
    thresholds: dict[str, Any] | None = None
    memory: TranslationMemory | None = None
    engine_options: dict[str, Any] = field(default_factory=dict)
    #: a low-confidence calibration file (localise.quality.confidence); default: the model folder's own
    confidence_calibration: str | None = None
    #: the ``openai`` engine's settings (localise.engines.openai_engine.LLMConfig fields, plus
    #: ``fallback_engine``/``fallback_model`` for lines the model leaves unusable)
    llm: dict[str, Any] | None = None
    #: ``"flagged"``: send cues flagged major or worse back to the LLM after checking (targeted repair)
    refine: str | None = None

    def thresholds_for(self, lang: str) -> dict[str, Any] | None:
        """The quality thresholds for ``lang``: the run's overrides over the model's calibrated
        low-confidence threshold for this pair, where one exists."""
        from localise.quality.confidence import find, thresholds_with_calibration

        model = self.model if isinstance(self.engine, str) else None
        calibration = find(model, self.confidence_calibration).get(f"{self.src}-{lang}")
        return thresholds_with_calibration(self.thresholds, calibration, lang)

    def resolved_glossary(self) -> Glossary | None:
        """The glossary object, loading (once per process and file version) from a path."""
        if self.glossary is None or hasattr(self.glossary, "enforce"):
            return self.glossary
        path = Path(self.glossary)
        try:
            stat = path.stat()
        except OSError as exc:
            from localise.errors import GlossaryError

            raise GlossaryError(f"cannot read glossary: {exc.strerror or exc}", str(path)) from None
        return _load_glossary(str(path.resolve()), stat.st_mtime_ns, stat.st_size)

    def describe(self) -> dict[str, Any]:
        """JSON-safe account of what produced a track (for reports, manifests and cache keys)."""
        glossary = self.resolved_glossary()
        return {
            "src": self.src,
            "engine": self.engine if isinstance(self.engine, str) else type(self.engine).__name__,
            "model": self.model,
            "model_table": dict(sorted((self.model_table or {}).items())),
            "glossary_version": getattr(glossary, "version", None),
            "max_gap_ms": self.max_gap_ms,
            "max_unit_chars": self.max_unit_chars,
            "styles": self.styles or {},
            "thresholds": self.thresholds or {},
            "memory": type(self.memory).__name__ if self.memory is not None else None,
            "confidence_calibration": self._calibration_figures(),
            **({"llm": self._llm_figures()} if self.engine == "openai" or self.refine == "flagged" else {}),
            **({"refine": self.refine} if self.refine not in (None, "", "off") else {}),
        }

    def _llm_figures(self) -> dict[str, Any]:
        from localise.context_translate import llm_config

        llm = self.llm or {}
        return {**llm_config(self).describe(), "fallback_engine": llm.get("fallback_engine") or "transformers",
                "fallback_model": llm.get("fallback_model")}

    def _calibration_figures(self) -> dict[str, float]:
        from localise.quality.confidence import find

        model = self.model if isinstance(self.engine, str) else None
        return {pair: c.threshold for pair, c in sorted(find(model, self.confidence_calibration).items())}


@functools.lru_cache(maxsize=16)
def _load_glossary(path: str, mtime_ns: int, size: int) -> Glossary:
    """Cached on path and file version so reruns in one process do not re-read an unchanged file."""
    from localise.glossary import Glossary

    return Glossary.load(path)


@dataclass
class LocalisedTrack:
    """One source track in one target language, with its checks (``report`` as written to JSON)."""

    source: Track
    lang: str
    track: Track
    report: dict[str, Any]


ProgressCallback = Callable[[str], None]


@dataclass
class _Prepared:
    """What a track needs for every language: protected markup per cue and translation units."""

    track: Track
    protected: list[Any]  # markup.Protected per cue
    units: list[Unit]
    cue_units: list[list[int]]  # per cue, positions (in ``units``) of the units covering it


def _prepare(track: Track, options: LocaliseOptions) -> _Prepared:
    from localise.formats.markup import protect
    from localise.units import build_units

    protected = [protect(cue.text, track.format) for cue in track.cues]
    units = build_units(track, max_gap_ms=options.max_gap_ms, max_chars=options.max_unit_chars,
                        plain=[p.plain for p in protected])
    cue_units: list[list[int]] = [[] for _ in track.cues]
    for position, unit in enumerate(units):
        for cue in unit.cues:
            cue_units[cue].append(position)
    return _Prepared(track, protected, units, cue_units)


def _memory_lookup(memory: TranslationMemory, sources: list[str], src: str, tgt: str) -> list[str | None]:
    """Exact matches for unique sources; one query when the memory offers ``exact_many``."""
    many = getattr(memory, "exact_many", None)
    if callable(many):
        return list(many(sources, src, tgt))
    return [memory.exact(text, src, tgt) for text in sources]


class _GlossaryHook:
    """Glossary enforcement for each engine hop (the registry's ``glossary_hook``).

    A hop from the source language enforces the series glossary into that hop's target. A pivot's
    second hop (``en -> es``) reads English, so it uses the glossary *seen from the pivot*: the
    pivot column's terms as source terms. The first hop put the English terms into the English
    text, so the second hop finds them and carries the Spanish terms through. A hop shared by
    several targets (``zh -> en`` for en, es, pt) is enforced the same way for all of them and
    runs once.
    """

    def __init__(self, glossary: Glossary, src: str) -> None:
        self.glossary = glossary
        self.src = src
        self._by_source: dict[str, Glossary | None] = {}

    def _for_source(self, lang: str) -> Glossary | None:
        if _same_lang(lang, self.src):
            return self.glossary
        if lang not in self._by_source:
            from localise.glossary import Glossary, TermEntry

            entries = []
            for entry in self.glossary:
                term = Glossary.target_for(entry.targets, lang)
                if term:
                    entries.append(TermEntry(term, dict(entry.targets), entry.case_sensitive, entry.line))
            self._by_source[lang] = Glossary(entries, source_lang=lang, path=self.glossary.path) if entries else None
        return self._by_source[lang]

    def __call__(self, texts: Sequence[str], src: str, tgt: str) -> tuple[list[str], Callable[[list[str]], list[str]]]:
        glossary = self._for_source(src)
        if glossary is None:
            return list(texts), lambda outputs: list(outputs)
        enforced = [glossary.enforce(text, tgt) for text in texts]
        return [e.text for e in enforced], lambda outputs: [e.restore(o) for e, o in zip(enforced, outputs)]


def _same_lang(a: str, b: str) -> bool:
    return a.replace("_", "-").lower() == b.replace("_", "-").lower()


def _machine_translate(
    texts: list[str], targets: list[str], options: LocaliseOptions, glossary: Glossary | None
) -> dict[str, list[Translation]]:
    """``texts`` into every target. A named engine goes through the registry: one batched call
    per hop, a first hop shared by several targets (the pivot) run once, the model loaded once per
    process. An engine object in ``options.engine`` gets one call per target, no routing."""
    hook = _GlossaryHook(glossary, options.src) if glossary is not None else None
    if isinstance(options.engine, str):
        from localise.engines.registry import translate_many

        results = translate_many(
            texts,
            options.src,
            targets,
            engine=options.engine,
            model=options.model,
            model_table=options.model_table,
            glossary_hook=hook,
            **options.engine_options,
        )
    else:
        results = {}
        for lang in targets:
            engine_texts, restore = hook(texts, options.src, lang) if hook is not None else (texts, list)
            outputs = list(options.engine.translate(engine_texts, options.src, lang))
            if len(outputs) == len(texts):
                words = restore([o.text for o in outputs])
                outputs = [Translation(w, o.confidence, o.origin) for w, o in zip(words, outputs)]
            results[lang] = outputs
    for lang, outputs in results.items():
        if len(outputs) != len(texts):
            from localise.errors import EngineError

            raise EngineError(f"engine returned {len(outputs)} translations for {len(texts)} texts ({lang})")
    return results


def _translate_units(
    prepared: Sequence[_Prepared], targets: list[str], options: LocaliseOptions, glossary: Glossary | None,
    cache: TranslationCache | None = None,
) -> dict[str, list[list[Translation]]]:
    """Per target language, a translation for every unit of every track.

    Order of preference per unit: empty stays empty; a translation-memory exact match (origin
    ``tm``); else machine translation. Machine translation sees each distinct unit source once,
    across all tracks and all targets (one batched call per engine hop).
    """
    units = [(t, u, unit.source) for t, prep in enumerate(prepared) for u, unit in enumerate(prep.units)]
    words = [source for _, _, source in units if source.strip()]
    unique = list(dict.fromkeys(words))
    hits: dict[str, dict[str, str]] = {}
    if options.memory is not None and unique:
        for lang in targets:
            found = _memory_lookup(options.memory, unique, options.src, lang)
            hits[lang] = {text: hit for text, hit in zip(unique, found) if hit is not None}
    needed = [text for text in unique if any(text not in hits.get(lang, {}) for lang in targets)]
    langs = [lang for lang in targets if any(text not in hits.get(lang, {}) for text in unique)]
    machine = _cached_machine_translate(needed, langs, options, glossary, cache) if needed and langs else {}

    out: dict[str, list[list[Translation]]] = {}
    for lang in targets:
        memory = hits.get(lang, {})
        rows: list[list[Translation]] = [[] for _ in prepared]
        for t, _, source in units:
            if not source.strip():
                rows[t].append(Translation("", None, "mt"))
            elif source in memory:
                rows[t].append(Translation(memory[source], 1.0, "tm"))
            else:
                rows[t].append(machine[lang][source])
        out[lang] = rows
    return out


#: Unit texts per engine call when finished engine calls are cached: each slice is kept as soon
#: as it is done, so an interrupted run loses at most one slice of machine translation.
CACHE_SLICE_UNITS = 2048


#: Cues per group of files when finished files are kept for resuming (``localise_files`` with a
#: cache): a group's files are written to the cache when the group is done, so a Ctrl-C keeps every
#: finished group and loses at most this much work. Not smaller, so that the engine's CPU batches
#: (``max_batch_size`` 128 lines) stay full; a file longer than this is a group of its own.
RESUME_GROUP_CUES = 256


def _cached_machine_translate(
    texts: list[str], targets: list[str], options: LocaliseOptions, glossary: Glossary | None,
    cache: TranslationCache | None, slice_units: int | None = None,
) -> dict[str, dict[str, Translation]]:
    """Per target, the machine translation of each text. With a ``cache``, what an earlier run
    finished comes from it, the rest goes to the engine in slices of ``slice_units`` texts, each
    slice stored as soon as it returns. Without one, a single call for everything."""
    if cache is None:
        results = _machine_translate(texts, targets, options, glossary)
        return {lang: dict(zip(texts, results[lang])) for lang in targets}
    from localise.resume import translation_namespace

    namespaces = {lang: translation_namespace(options, lang) for lang in targets}
    out = {lang: cache.lookup(namespaces[lang], texts) for lang in targets}
    todo = [text for text in texts if any(text not in out[lang] for lang in targets)]
    langs = [lang for lang in targets if any(text not in out[lang] for text in todo)]
    size = max(1, slice_units or getattr(cache, "slice_units", None) or CACHE_SLICE_UNITS)
    for start in range(0, len(todo), size):
        part = todo[start:start + size]
        results = _machine_translate(part, langs, options, glossary)
        for lang in langs:
            cache.store(namespaces[lang], zip(part, results[lang]))
            for text, translation in zip(part, results[lang]):
                out[lang].setdefault(text, translation)
    return out


def llm_requests_failed(report: Mapping[str, Any]) -> int:
    """How many LLM requests of a track's run got no answer from the server (after the client's
    retries), translation and repair together; 0 where no LLM was asked."""
    track_llm = (report.get("track") or {}).get("llm") or {}
    refine_llm = (report.get("refine") or {}).get("llm") or {}
    return int(track_llm.get("failed") or 0) + int(refine_llm.get("failed") or 0)


def _engine_signature(lang: str, options: LocaliseOptions) -> list[str]:
    """What translated into ``lang`` (per hop: engine, model, revision, device, decoding)."""
    if options.engine == "openai":
        from localise.context_translate import engine_for

        return [f"{options.src}->{lang}:" + engine_for(options).signature()]
    if isinstance(options.engine, str):
        from localise.engines.registry import signatures

        return signatures(
            options.src,
            lang,
            engine=options.engine,
            model=options.model,
            model_table=options.model_table,
            **options.engine_options,
        )
    signature = getattr(options.engine, "signature", None)
    return [signature() if callable(signature) else type(options.engine).__name__]


def _pivot_flags(prep: "_Prepared", translations: Sequence[Translation], options: LocaliseOptions,
                 glossary: Glossary | None, thresholds: Mapping[str, Any] | None) -> dict[int, list[Flag]]:
    """Meaning flags of a pivot's first hop (zh -> en of zh -> en -> es), per cue: the lexicon
    judges the English the final language was made from, where one exists for that pair."""
    from localise.quality import meaning
    from localise.quality.thresholds import load_thresholds

    pivoted = [u for u, t in enumerate(translations) if t.pivot is not None and prep.units[u].source.strip()]
    if not pivoted:
        return {}
    pivot_lang = translations[pivoted[0]].pivot[0]  # type: ignore[index]
    if not meaning.available(options.src, pivot_lang):
        return {}
    per_unit = meaning.check_pivot([prep.units[u].source for u in pivoted],
                                   [translations[u].pivot[1] for u in pivoted],  # type: ignore[index]
                                   options.src, pivot_lang, glossary, load_thresholds(pivot_lang, thresholds))
    out: dict[int, list[Flag]] = {}
    for u, found in zip(pivoted, per_unit):
        if found and prep.units[u].cues:
            out.setdefault(prep.units[u].cues[0], []).extend(found)
    return out


def _check_invariant(source: Track, target: Track) -> None:
    """Same cues, same order, same timings, ids and extras; only the words change."""
    if len(source.cues) != len(target.cues):
        raise AssertionError(f"cue count changed: {len(source.cues)} -> {len(target.cues)}")
    for n, (a, b) in enumerate(zip(source.cues, target.cues)):
        if (a.start_ms, a.end_ms, a.id, a.extras) != (b.start_ms, b.end_ms, b.id, b.extras):
            raise AssertionError(f"cue {n + 1} changed beyond its words")
    if source.format != target.format or source.extras != target.extras:
        raise AssertionError("track format or extras changed")


def _localise_one(
    prep: _Prepared,
    translations: list[Translation],
    lang: str,
    options: LocaliseOptions,
    glossary: Glossary | None,
    signature: dict[str, Any],
    extra_flags: Mapping[int, list[Flag]] | None = None,
    llm_usage: dict[str, Any] | None = None,
) -> LocalisedTrack:
    from localise.layout import style_for, wrap
    from localise.quality.checks import check_track
    from localise.quality.report import build_report
    from localise.units import spread

    track = prep.track
    style = style_for(lang, (options.styles or {}).get(lang))
    thresholds = options.thresholds_for(lang)
    source_plain = [p.plain for p in prep.protected]
    plain = spread(track, prep.units, [t.text for t in translations], lang, plain=source_plain)
    texts = [p.restore(wrap(text, lang, style)) for p, text in zip(prep.protected, plain)]
    target = track.with_texts(texts)
    _check_invariant(track, target)

    confidences: list[float | None] = []
    origins: list[str] = []
    for covering in prep.cue_units:
        known = [translations[u].confidence for u in covering if translations[u].confidence is not None]
        confidences.append(min(known) if known else None)
        kinds = {translations[u].origin for u in covering} or {"mt"}  # a cue without words: nothing reused
        origins.append(kinds.pop() if len(kinds) == 1 else "mixed")

    track_findings: list[dict[str, Any]] = []
    flags: list[list[Flag]] = check_track(
        track,
        target,
        src_lang=options.src,
        tgt_lang=lang,
        glossary=glossary,
        style=style,
        confidences=confidences,
        thresholds=thresholds,
        units=prep.units,
        source_plain=source_plain,
        findings=track_findings,
    )
    for cue, found in _pivot_flags(prep, translations, options, glossary, thresholds).items():
        flags[cue].extend(found)
    for cue, found in (extra_flags or {}).items():  # e.g. engine-fallback from the LLM engine
        flags[cue].extend(found)
    report = build_report(
        track,
        target,
        flags,
        src_lang=options.src,
        tgt_lang=lang,
        units=[[prep.units[u].id for u in covering] for covering in prep.cue_units],
        confidences=confidences,
        origins=origins,
        signature=signature,
        thresholds=thresholds,
        style=style,
        track_findings=track_findings,
    )
    if llm_usage is not None:  # requests, tokens and cost of this episode in this language
        report.setdefault("track", {})["llm"] = llm_usage
    return LocalisedTrack(source=track, lang=lang, track=target, report=report)


def localise_tracks(
    tracks: Sequence[Track],
    targets: Sequence[str],
    *,
    options: LocaliseOptions,
    progress: ProgressCallback | None = None,
    translations: TranslationCache | None = None,
) -> list[LocalisedTrack]:
    """Localise every track into every target language; results ordered track by track, then by
    the order of ``targets``. One engine call per language covers all units of all tracks; with a
    ``translations`` cache (:class:`localise.resume.TranslationCache`) units it holds skip the
    engine and the rest are translated in slices, each kept as soon as it is done."""
    targets = _check_targets(targets, options.src)
    glossary = options.resolved_glossary()
    prepared = [_prepare(track, options) for track in tracks]
    if progress is not None:
        units = sum(len(p.units) for p in prepared)
        tracks_said = "1 track" if len(prepared) == 1 else f"{len(prepared)} tracks"
        progress(f"translating {units} unit{'' if units == 1 else 's'} of {tracks_said} into {', '.join(targets)}")
    context = None
    from localise.context_translate import uses_context

    if uses_context(options):  # an LLM: each track in scene windows, with context (localise.context_translate)
        from localise.context_translate import translate_in_context

        context = translate_in_context(prepared, targets, options, glossary, _memory_hits(prepared, targets, options))
        per_lang = context.translations
    else:
        per_lang = _translate_units(prepared, targets, options, glossary, translations)
    signature = options.describe()
    engines = {lang: _engine_signature(lang, options) for lang in targets}
    if progress is not None:
        progress("checking")
    out: list[LocalisedTrack] = []
    for t, prep in enumerate(prepared):
        for lang in targets:
            sig = dict(signature, engine_signature=engines[lang])
            extra = context.flags[lang][t] if context is not None else None
            usage = context.usage[lang][t].to_dict(context.prices) if context is not None else None
            out.append(_with_parse_warnings(_localise_one(prep, per_lang[lang][t], lang, options, glossary, sig,
                                                          extra, usage)))
    if options.refine == "flagged":
        from localise.context_translate import refine_flagged

        def relocalise(t: int, lang: str, translations: list[Translation]) -> LocalisedTrack:
            sig = dict(signature, engine_signature=engines[lang])
            extra = context.flags[lang][t] if context is not None else None
            usage = context.usage[lang][t].to_dict(context.prices) if context is not None else None
            return _with_parse_warnings(_localise_one(prepared[t], translations, lang, options, glossary, sig,
                                                      extra, usage))

        if progress is not None:
            progress("refining flagged lines")
        out = refine_flagged(prepared, targets, per_lang, out, options, glossary, relocalise)
    elif options.refine not in (None, "", "off"):
        raise ConfigError(f"refine must be 'flagged' or 'off', not {options.refine!r}")
    return out


def _memory_hits(prepared: Sequence[_Prepared], targets: Sequence[str], options: LocaliseOptions) -> dict[str, dict[str, str]]:
    """Translation-memory exact matches per language for the distinct unit sources of the batch."""
    if options.memory is None:
        return {}
    unique = list(dict.fromkeys(u.source for p in prepared for u in p.units if u.source.strip()))
    out = {}
    for lang in targets:
        found = _memory_lookup(options.memory, unique, options.src, lang)
        out[lang] = {text: hit for text, hit in zip(unique, found) if hit is not None}
    return out


def parse_warnings_field(track: Track) -> list[dict[str, Any]]:
    """The source's parse warnings as the report lists them (``track.parse_warnings``): ``code``,
    ``message``, ``line`` (1-based, in the source file), ``cue`` (1-based, like a report cue's
    ``index``; ``None`` for input outside any cue, e.g. a cue left out for an unreadable timing
    line) and ``lost`` (part of the input was not read as cue text: what ``--strict`` refuses)."""
    from localise.formats.base import LOST_INPUT_CODES

    return [
        {"code": w.code, "message": w.message, "line": w.line, "cue": None if w.cue is None else w.cue + 1,
         "lost": w.code in LOST_INPUT_CODES}
        for w in track.warnings
    ]


def _with_parse_warnings(result: LocalisedTrack) -> LocalisedTrack:
    """Every report says what reading its source repaired or could not read (never silently)."""
    result.report.setdefault("track", {})["parse_warnings"] = parse_warnings_field(result.source)
    return result


def _check_targets(targets: Iterable[str], src: str) -> list[str]:
    from localise.langtags import check_language, check_languages

    check_language(src, "source language")
    seen: list[str] = []
    for lang in check_languages(targets):  # BCP 47 tags: they become file names and keys
        if lang == src:
            raise ConfigError(f"target language {lang!r} is the source language")
        if lang not in seen:
            seen.append(lang)
    if not seen:
        raise ConfigError("no target language given")
    return seen


# ---------------------------------------------------------------- files


def output_paths(source: Path, lang: str, out_dir: Path, ext: str) -> dict[str, Path]:
    """``OUT/<stem>.<lang>.<ext>`` and its ``.report.json`` / ``.report.html`` beside it (the stem
    without control characters, the language a checked BCP 47 tag)."""
    from localise.langtags import check_language
    from localise.outputs import safe_file_part

    base = f"{safe_file_part(source.stem)}.{check_language(lang)}"
    return {
        "track": out_dir / f"{base}.{ext}",
        "json": out_dir / f"{base}.report.json",
        "html": out_dir / f"{base}.report.html",
    }


FileProgress = Callable[[int, int, str], None]  # (outputs done, outputs total, what is happening)


def chunk_by_cues(items: Sequence[_T], max_cues: int, cues: Callable[[_T], int]) -> list[list[_T]]:
    """Consecutive groups of ``items`` holding at most ``max_cues`` cues (``cues(item)`` each), at
    least one item per group, order kept: the one batching rule of the CLI and the flows."""
    groups: list[list[_T]] = []
    total = 0
    for item in items:
        size = cues(item)
        if not groups or total + size > max_cues:
            groups.append([])
            total = 0
        groups[-1].append(item)
        total += size
    return groups


def localise_files(
    paths: Sequence[str | os.PathLike[str]],
    targets: Sequence[str],
    out_dir: str | os.PathLike[str],
    options: LocaliseOptions,
    fmt: str | None = None,
    progress: FileProgress | None = None,
    *,
    chunk_cues: int = 20_000,
    cache_cues: int = 20_000,
    limits: InputLimits | None = None,
    strict: bool = False,
    on_warnings: Callable[[Path, Track], None] | None = None,
    cache: RunCache | None = None,
    on_resume: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Localise subtitle files into ``out_dir``: per input and language a track and two reports.

    All inputs are read (and the glossary loaded) before anything is translated, so bad input
    fails the run before the model is touched. Translation is batched across files in groups of
    at most ``chunk_cues`` cues; a group's tracks are dropped once written, so memory depends on
    the group size, not on the number of inputs. Parsed tracks are kept from the first read while
    they total at most ``cache_cues`` cues, so a usual run parses each file once.
    Outputs are staged in a private folder inside ``out_dir`` and moved into place only when the
    whole run succeeded: a failed run writes nothing. Returns the written paths.

    With a ``cache`` (:class:`localise.resume.RunCache`) the run resumes: files go through in
    groups of at most :data:`RESUME_GROUP_CUES` cues, each input's outputs per language are kept
    there as soon as its group is rendered, and engine calls as they finish;
    a later run with the same inputs and settings takes finished files from it (byte for byte
    what it would write) and only the rest goes through the pipeline. ``on_resume(done, total)``
    hears how many inputs were already done, before any translation.

    Reading (see :func:`_read_input`) applies ``limits`` (default
    :data:`~localise.formats.limits.DEFAULT_LIMITS`), hands each track with parse warnings to
    ``on_warnings(path, track)``, refuses with ``strict`` a file where input could not be read as
    cues (:class:`~localise.errors.UnreadableCueError`), and refuses times the output format
    cannot hold — all before anything is translated.
    """
    from localise.io import read_track
    from localise.outputs import OutputBatch

    targets = _check_targets(targets, options.src)
    sources = [Path(p) for p in paths]
    if not sources:
        raise ConfigError("no input file given")
    out = Path(out_dir)
    stems: dict[str, Path] = {}
    for path in sources:
        stem = _output_stem(path)
        if stem in stems and stems[stem] != path:
            raise ConfigError(f"{path}: same file name as {stems[stem]}; outputs would overwrite each other")
        stems[stem] = path
    sources = list(dict.fromkeys(sources))

    sizes: dict[Path, int] = {}
    formats: dict[Path, str] = {}
    cache_tracks: dict[Path, Track] = {}
    cached_cues = 0
    for path in sources:
        track = _read_input(path, fmt, limits, strict, on_warnings)
        sizes[path] = len(track.cues)
        formats[path] = fmt or track.format
        if cached_cues + sizes[path] <= cache_cues:
            cache_tracks[path] = track
            cached_cues += sizes[path]
    options.resolved_glossary()  # a malformed glossary fails here, before any translation

    keys = _work_keys(sources, targets, formats, options) if cache is not None else {}
    finished: dict[Path, list[dict[str, str]]] = {}
    if cache is not None:
        for path in sources:
            entries = [cache.files.get(keys[path, lang]) for lang in targets]
            if all(isinstance(e, dict) and set(e) == set(_RENDERED) for e in entries):
                finished[path] = entries  # type: ignore[assignment]
        if on_resume is not None:
            on_resume(len(finished), len(sources))

    total = len(sources) * len(targets)
    done = 0
    # All or nothing: staged inside OUT, moved into place at the end (localise.outputs).
    with OutputBatch(out) as batch:
        for path, entries in finished.items():
            for lang, entry in zip(targets, entries):
                _stage(batch, output_paths(path, lang, out, formats[path]), entry)
                done += 1
            if progress is not None:
                progress(done, total, f"{path.name}: already done")
        pending = [p for p in sources if p not in finished]
        # with a cache, small groups: a small series would otherwise be one group, all its files
        # finishing together at the end, and a Ctrl-C would keep no finished file. Not with the
        # LLM's running summary: it runs episode after episode within one group, so small groups
        # would give every episode an empty summary
        summary_on = options.engine == "openai" and bool((options.llm or {}).get("summary"))
        group_cues = min(chunk_cues, RESUME_GROUP_CUES) if cache is not None and not summary_on else chunk_cues
        for group in chunk_by_cues(pending, group_cues, sizes.__getitem__):
            tracks = [cache_tracks.pop(p, None) or read_track(p, limits=limits) for p in group]

            def step(message: str) -> None:
                if progress is not None:
                    progress(done, total, message)

            results = localise_tracks(tracks, targets, options=options, progress=step,
                                      translations=cache.translations if cache is not None else None)
            for path, result in zip((p for p in group for _ in targets), results):
                entry = _render(result, formats[path])
                # kept before staging: a stop after this line loses nothing; not kept where the LLM
                # server gave no answer (its lines fell back to NMT): a rerun asks it again
                if cache is not None and not llm_requests_failed(result.report):
                    cache.files.put(keys[path, result.lang], entry)
                names = output_paths(path, result.lang, out, formats[path])
                _stage(batch, names, entry)
                done += 1
                if progress is not None:
                    progress(done, total, f"wrote {names['track'].name}")
            del tracks, results
            gc.collect()  # a group's cyclic garbage (templates, tracebacks) goes now, not groups later
        return batch.commit()


#: What a finished input keeps per language: the three output files' text.
_RENDERED = ("track", "json", "html")


def _render(result: LocalisedTrack, ext: str) -> dict[str, str]:
    """The text of a result's three output files (the same text whether fresh or from a cache)."""
    from localise.io import render_track
    from localise.quality.report import render_html

    return {
        "track": render_track(result.track, ext),
        "json": json.dumps(result.report, ensure_ascii=False, indent=2),
        "html": render_html(result.report),
    }


def _stage(batch: Any, names: Mapping[str, Path], entry: Mapping[str, str]) -> None:
    """Write one input's outputs in one language into the run's staging folder (UTF-8, no BOM,
    line ends as rendered)."""
    for kind in _RENDERED:
        batch.stage(names[kind]).write_bytes(entry[kind].encode("utf-8"))


def _work_keys(sources: Sequence[Path], targets: Sequence[str], formats: Mapping[Path, str],
               options: LocaliseOptions) -> dict[tuple[Path, str], str]:
    """The cache key of each input's outputs per language: the file's bytes and name (reports
    name it), the output format and everything :func:`localise.resume.run_signature` holds."""
    from localise.resume import file_sha256, run_signature, work_key

    signatures = {lang: run_signature(options, [lang]) for lang in targets}
    keys: dict[tuple[Path, str], str] = {}
    for path in sources:
        digest = file_sha256(path)
        for lang in targets:
            keys[path, lang] = work_key(digest, {**signatures[lang], "kind": "translate-output",
                                                 "input": str(path), "format": formats[path]})
    return keys


def _output_stem(path: Path) -> str:
    from localise.outputs import safe_file_part

    return safe_file_part(path.stem)


def _read_input(
    path: Path,
    fmt: str | None,
    limits: InputLimits | None,
    strict: bool,
    on_warnings: Callable[[Path, Track], None] | None,
) -> Track:
    """One input of :func:`localise_files`, read and vetted before any translation: size limits,
    parse warnings handed on (never dropped silently), ``strict`` refusing input that could not be
    read as cues, times the output format cannot hold (SubStation ends at 9:59:59.99)."""
    from localise.errors import UnreadableCueError
    from localise.formats.base import lost_input
    from localise.io import check_writable, read_track

    track = read_track(path, limits=limits)
    if track.warnings and on_warnings is not None:
        on_warnings(path, track)
    lost = lost_input(track.warnings)
    if strict and lost:
        first = lost[0]
        raise UnreadableCueError(
            f"--strict: {len(lost)} place(s) could not be read as cues; the first: {first.code}: {first.message}",
            str(path),
            first.line,
        )
    check_writable(track, fmt or track.format, name=str(path))
    return track


__all__ = [
    "LocaliseError",
    "LocaliseOptions",
    "LocalisedTrack",
    "TranslationMemory",
    "chunk_by_cues",
    "localise_files",
    "localise_tracks",
    "output_paths",
]
