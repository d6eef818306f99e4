"""Translation with context (the ``openai`` LLM engine): each track is one episode, translated in
scene windows; what the model could not answer goes to the NMT engine and is flagged.

Why a separate path from :func:`localise.pipeline._translate_units`: that one sends each distinct
unit text once, without neighbours (right for sentence-level NMT); an LLM needs the lines around
each line, so here every track's units go in order, and the same text in two scenes may come out
differently. What stays the same: the result is one :class:`Translation` per unit, mapped back to
cues by the pipeline's own unit -> cue mapping; glossary repair, markup restore and every check
run after, unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from localise.model import Flag, Translation

if TYPE_CHECKING:
    from localise.engines.openai_engine import LLMConfig, OpenAIEngine, Usage
    from localise.glossary import Glossary
    from localise.pipeline import LocaliseOptions, _Prepared

#: settings of ``LocaliseOptions.llm`` that are not the engine's but this module's
FALLBACK_KEYS = ("fallback_engine", "fallback_model")


def uses_context(options: LocaliseOptions) -> bool:
    """True when the run's engine translates in windows with context (``openai``, or an engine
    object with ``translate_docs``)."""
    return options.engine == "openai" or hasattr(options.engine, "translate_docs")


def llm_config(options: LocaliseOptions) -> LLMConfig:
    from localise.engines.openai_engine import LLMConfig

    values = {k: v for k, v in (options.llm or {}).items() if k not in FALLBACK_KEYS and v is not None}
    return LLMConfig(**values)


def engine_for(options: LocaliseOptions) -> OpenAIEngine | Any:
    if options.engine != "openai":
        return options.engine
    from localise.engines.openai_engine import OpenAIEngine

    return OpenAIEngine(llm_config(options))


@dataclass
class ContextResult:
    """Per language and track: a translation per unit, the fallback flags per cue, the usage."""

    translations: dict[str, list[list[Translation]]]
    flags: dict[str, list[dict[int, list[Flag]]]]
    usage: dict[str, list[Usage]]
    prices: dict[str, float] | None = None
    signature: str = ""
    per_lang_totals: dict[str, dict[str, Any]] = field(default_factory=dict)


def unit_budgets(prep: _Prepared, lang: str, options: LocaliseOptions) -> list[tuple[int | None, float | None]]:
    """(characters, seconds) per unit from the style table: the lines its cues allow (one line for
    one speaker of a two-speaker cue), capped by reading speed over its cues' time on screen."""
    from localise.layout import style_for

    style = style_for(lang, (options.styles or {}).get(lang))
    out: list[tuple[int | None, float | None]] = []
    for unit in prep.units:
        cues = sorted(set(unit.cues))
        if not cues:
            out.append((None, None))
            continue
        seconds = sum(max(0, prep.track.cues[c].end_ms - prep.track.cues[c].start_ms) for c in cues) / 1000
        lines = style.max_chars_per_line * (1 if unit.speaker is not None else style.max_lines * len(cues))
        by_speed = int(seconds * style.max_cps) if seconds > 0 else lines
        out.append((max(1, min(lines, by_speed)), round(seconds, 2) if seconds > 0 else None))
    return out


def translate_in_context(prepared: Sequence[_Prepared], targets: Sequence[str], options: LocaliseOptions,
                         glossary: Glossary | None, memory_hits: dict[str, dict[str, str]]) -> ContextResult:
    """Every track into every target with the context engine; units the model left unusable are
    translated by the fallback NMT engine (one batched call per language) and flagged
    ``engine-fallback`` (minor) on their cues."""
    from localise.engines.llm_prompt import Doc, DocUnit
    from localise.engines.openai_engine import Usage

    engine = engine_for(options)
    config = getattr(engine, "config", None)
    result = ContextResult({}, {}, {}, prices=getattr(config, "prices", None),
                           signature=engine.signature() if hasattr(engine, "signature") else type(engine).__name__)
    for lang in targets:
        hits = memory_hits.get(lang, {})
        docs = []
        for t, prep in enumerate(prepared):
            budgets = unit_budgets(prep, lang, options)
            docs.append(Doc(prep.track.source_name or f"track {t + 1}", tuple(
                DocUnit(str(unit.id), unit.source, budget, seconds,
                        translate=bool(unit.source.strip()) and unit.source not in hits)
                for unit, (budget, seconds) in zip(prep.units, budgets))))
        answers = engine.translate_docs(docs, options.src, lang, glossary)
        rows: list[list[Translation]] = []
        flags: list[dict[int, list[Flag]]] = []
        missing: list[tuple[int, int]] = []
        for t, (prep, answer) in enumerate(zip(prepared, answers)):
            row: list[Translation] = []
            for u, unit in enumerate(prep.units):
                got = answer.translations[u]
                if not unit.source.strip():
                    row.append(Translation("", None, "mt"))
                elif unit.source in hits:
                    row.append(Translation(hits[unit.source], 1.0, "tm"))
                elif got is not None:
                    row.append(_repaired(got, unit.source, lang, glossary))
                else:
                    row.append(Translation("", None, "mt"))
                    missing.append((t, u))
            rows.append(row)
            flags.append({})
        if missing:
            _fall_back(prepared, answers, rows, flags, missing, lang, options, glossary)
        result.translations[lang] = rows
        result.flags[lang] = flags
        result.usage[lang] = [a.usage for a in answers]
        total = Usage()
        for a in answers:
            total.add(a.usage)
        result.per_lang_totals[lang] = total.to_dict(result.prices)
    return result


def _repaired(got: Translation, source: str, lang: str, glossary: Glossary | None) -> Translation:
    """The glossary's own output repair (near-miss spellings of a term -> the exact term), as for MT."""
    if glossary is None:
        return got
    return Translation(glossary.enforce(source, lang).restore(got.text), got.confidence, got.origin)


def _fall_back(prepared: Sequence[_Prepared], answers: Sequence[Any], rows: list[list[Translation]],
               flags: list[dict[int, list[Flag]]], missing: list[tuple[int, int]], lang: str,
               options: LocaliseOptions, glossary: Glossary | None) -> None:
    from localise.pipeline import _machine_translate

    llm = options.llm or {}
    fallback = dataclasses.replace(options, engine=llm.get("fallback_engine") or "transformers",
                                   model=llm.get("fallback_model") or options.model)
    texts = list(dict.fromkeys(prepared[t].units[u].source for t, u in missing))
    done = _machine_translate(texts, [lang], fallback, glossary)[lang]
    by_text = dict(zip(texts, done))
    for t, u in missing:
        unit = prepared[t].units[u]
        rows[t][u] = by_text[unit.source]
        why = answers[t].problems.get(str(unit.id), "no usable answer")
        for cue in sorted(set(unit.cues)):
            if any(f.code == "engine-fallback" for f in flags[t].get(cue, [])):
                continue
            flags[t].setdefault(cue, []).append(Flag(
                "engine-fallback", "minor", f"translated by the fallback engine ({fallback.engine}): the LLM's answer "
                f"for this line was refused ({why})"))


# ------------------------------------------------------------------------------------ targeted repair


def refine_flagged(prepared: Sequence[_Prepared], targets: Sequence[str], per_lang: dict[str, list[list[Translation]]],
                   results: list[Any], options: LocaliseOptions, glossary: Glossary | None,
                   relocalise: Any) -> list[Any]:
    """``--refine flagged``: the units under cues flagged major or worse go back to the LLM with
    their current translation, the flag reasons and their context; the track is re-checked. The
    refined text is kept where it leaves no more major-or-worse flags on those cues than before;
    ``report["refine"]`` records before/after text and flags either way. Works after either engine.

    ``results`` is ordered track by track, then by ``targets``; ``relocalise(t, lang, translations)``
    re-runs the pipeline's per-track step (spread, wrap, markup restore, checks, report)."""
    from localise.engines.llm_prompt import Doc, DocUnit
    from localise.engines.openai_engine import OpenAIEngine
    from localise.model import severity_rank

    major = severity_rank("major")
    # no running summary here: a repair pass answers a few flagged lines per episode, too few to summarise
    engine = (options.engine if hasattr(options.engine, "translate_docs")
              else OpenAIEngine(dataclasses.replace(llm_config(options), summary=False)))
    out = list(results)
    for li, lang in enumerate(targets):
        docs, picked = [], []
        for t, prep in enumerate(prepared):
            report = results[t * len(targets) + li].report
            cues = [n for n, cue in enumerate(report["cues"])
                    if any(severity_rank(f["severity"]) >= major for f in cue.get("flags") or [])]
            notes: dict[int, list[str]] = {}
            for n in cues:
                reasons = [f"{f['code']}: {f['reason']}" for f in report["cues"][n]["flags"]
                           if severity_rank(f["severity"]) >= major]
                for u in prep.cue_units[n]:
                    notes.setdefault(u, []).extend(reasons)
            budgets = unit_budgets(prep, lang, options)
            current = per_lang[lang][t]
            docs.append(Doc(prep.track.source_name or f"track {t + 1}", tuple(
                DocUnit(str(unit.id), unit.source, budget, seconds,
                        translate=u in notes and bool(unit.source.strip()),
                        note=(f"current translation: {current[u].text!r}; flagged: " + "; ".join(notes[u]))
                        if u in notes else "")
                for u, (unit, (budget, seconds)) in enumerate(zip(prep.units, budgets)))))
            picked.append((cues, notes))
        if not any(cues for cues, _ in picked):
            continue
        answers = engine.translate_docs(docs, options.src, lang, glossary)
        for t, (prep, answer, (cues, notes)) in enumerate(zip(prepared, answers, picked)):
            if not cues:
                continue
            first = results[t * len(targets) + li]
            changed = list(per_lang[lang][t])
            for u in notes:
                got = answer.translations[u]
                if got is not None:
                    changed[u] = _repaired(got, prep.units[u].source, lang, glossary)
            second = relocalise(t, lang, changed)

            def serious(report: dict[str, Any]) -> int:
                return sum(1 for n in cues for f in report["cues"][n]["flags"] if severity_rank(f["severity"]) >= major)

            keep = serious(second.report) <= serious(first.report)
            chosen = second if keep else first
            if keep:
                per_lang[lang][t] = changed
            chosen.report["refine"] = {
                "mode": "flagged",
                "kept": "refined" if keep else "first-pass",
                "cues": [{"index": n + 1, "before": first.report["cues"][n]["translation"],
                          "after": second.report["cues"][n]["translation"],
                          "flags_before": first.report["cues"][n]["flags"],
                          "flags_after": second.report["cues"][n]["flags"]} for n in cues],
                "llm": answer.usage.to_dict(getattr(getattr(engine, "config", None), "prices", None)),
            }
            out[t * len(targets) + li] = chosen
    return out
