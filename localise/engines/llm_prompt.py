"""What the LLM engine sends and how it reads the answer: scene windows, the prompt (series bible,
register rules, per-line length budgets), the JSON schema, lenient parsing and validation.

Pure functions, no I/O: the engine (``openai_engine``) does the requests. Why windows: micro-drama
lines are elliptical (dropped subjects, 他/她, forms of address); a model that sees the lines
around the ones it translates can resolve them. Context lines are read-only: the answer holds
only the ids asked for, and cue structure never depends on it (the pipeline maps unit ids back).
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from localise.engines.base import primary_subtag

# Scripts written with Han characters: a translation into any other language must not keep them.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_HAN_LANGS = frozenset({"zh", "ja", "yue", "wuu", "lzh", "cmn"})
_LANGUAGE_NAMES = {
    "zh": "Chinese", "en": "English", "es": "Spanish", "pt": "Portuguese", "fr": "French", "de": "German",
    "it": "Italian", "ru": "Russian", "ja": "Japanese", "ko": "Korean", "th": "Thai", "vi": "Vietnamese",
    "id": "Indonesian", "ms": "Malay", "ar": "Arabic", "tr": "Turkish", "hi": "Hindi", "tl": "Filipino",
}


@dataclass(frozen=True)
class DocUnit:
    """One sentence unit of an episode as the engine sees it. ``translate=False`` marks a unit that
    is context only (empty, or already translated by the translation memory)."""

    key: str
    source: str
    budget: int | None = None  # characters a viewer can read for this unit (style table)
    seconds: float | None = None  # on-screen time of the unit's cues
    translate: bool = True
    note: str = ""  # what a reviewer would say about it (targeted repair: the current text and its flags)


@dataclass(frozen=True)
class Doc:
    """One episode: its units in order. Windows never cross from one Doc into another."""

    name: str
    units: tuple[DocUnit, ...]


@dataclass(frozen=True)
class Window:
    """Positions (in its Doc) of the units to translate, with read-only context before and after."""

    doc: int
    targets: tuple[int, ...]
    before: tuple[int, ...] = ()
    after: tuple[int, ...] = ()


def windows(docs: Sequence[Doc], size: int = 40, context: int = 10) -> list[Window]:
    """Consecutive groups of at most ``size`` units to translate per Doc (episode order kept), each
    with up to ``context`` units before and after it from the same Doc as context."""
    out: list[Window] = []
    for d, doc in enumerate(docs):
        wanted = [n for n, u in enumerate(doc.units) if u.translate and u.source.strip()]
        for start in range(0, len(wanted), max(1, size)):
            targets = tuple(wanted[start : start + max(1, size)])
            first, last = targets[0], targets[-1]
            before = tuple(range(max(0, first - context), first))
            after = tuple(range(last + 1, min(len(doc.units), last + 1 + context)))
            out.append(Window(d, targets, before, after))
    return out


def language_name(lang: str) -> str:
    return _LANGUAGE_NAMES.get(primary_subtag(lang), lang)


@lru_cache(maxsize=1)
def _register_table() -> dict[str, Any]:
    data = resources.files("localise").joinpath("data/register.toml").read_bytes()
    return tomllib.loads(data.decode("utf-8"))


def register_rules(lang: str) -> str:
    """The target language's register rules (``localise/data/register.toml``): exact tag, then primary subtag."""
    table = _register_table().get("languages", {})
    row = table.get(lang) or table.get(primary_subtag(lang)) or {}
    return str(row.get("rules", "")).strip()


@dataclass(frozen=True)
class BibleEntry:
    """A glossary term that occurs in a window, with its required rendering and what the CSV says about it."""

    term: str
    target: str
    kind: str = ""
    gender: str = ""
    note: str = ""


def bible_for(glossary: Any, texts: Sequence[str], tgt: str) -> list[BibleEntry]:
    """Glossary terms found in ``texts`` that have a rendering for ``tgt``, in first-seen order."""
    if glossary is None:
        return []
    seen: dict[str, BibleEntry] = {}
    entries = {e.term: e for e in glossary}
    for text in texts:
        for match in glossary.find(text):
            target = glossary.target_for(match.targets, tgt)
            if not target or match.term in seen:
                continue
            entry = entries.get(match.term)
            seen[match.term] = BibleEntry(match.term, target, getattr(entry, "kind", ""),
                                          getattr(entry, "gender", ""), getattr(entry, "note", ""))
    return list(seen.values())


@dataclass(frozen=True)
class Prompt:
    """The chat messages and the JSON schema of one request."""

    messages: list[dict[str, str]]
    schema: dict[str, Any]
    keys: tuple[str, ...]
    max_tokens: int
    name: str = "translations"  # the json_schema's name in response_format


def max_length(unit: DocUnit) -> int:
    """The schema's bound on one answer: generous over the reading budget (the checks judge length;
    this only stops a runaway model), never under 16."""
    return max(16, min(400, 2 * (unit.budget or 80)))


def build_prompt(doc: Doc, window: Window, src: str, tgt: str, bible: Sequence[BibleEntry],
                 only: Sequence[int] | None = None, problems: Mapping[str, str] | None = None,
                 summary: str = "") -> Prompt:
    """Messages for ``window`` (or for the positions ``only``, the rest of the window then being
    context); ``problems`` (key -> what was wrong) turns it into a re-ask; ``summary`` (the
    earlier episodes of the series, see :func:`summary_prompt`) is read-only context, and where it
    is empty the prompt is exactly what it is without the feature."""
    targets = tuple(only) if only is not None else window.targets
    target_set = set(targets)
    around = window.before + window.targets + window.after
    context_before = [n for n in around if n < targets[0]]
    context_after = [n for n in around if n > targets[0] and n not in target_set]
    src_name, tgt_name = language_name(src), language_name(tgt)
    system = (
        f"You translate the dialogue of a {src_name} short drama into {tgt_name} subtitles. "
        "Translate each requested line so that it fits its neighbours: keep who speaks to whom, "
        "resolve dropped subjects and pronouns from the context, keep names as the series bible says. "
        "Keep each translation within its character budget; a viewer must read it in the time shown. "
        "Reply with one JSON object only: its keys are exactly the requested line ids, each value the "
        f"{tgt_name} translation of that line. Do not translate context lines; add no other keys."
    )
    parts: list[str] = []
    if summary:
        parts.append(f"Story so far (earlier episodes, for context only; do not translate): {summary}")
    if bible:
        parts.append("Series bible (use these renderings exactly):")
        for b in bible:
            about = ", ".join(x for x in (b.kind, b.gender, b.note) if x)
            parts.append(f"- {b.term} -> {b.target}" + (f" ({about})" if about else ""))
    rules = register_rules(tgt)
    if rules:
        parts.append(f"Register ({tgt_name}): {rules}")
    if context_before:
        parts.append("Context before (do not translate):")
        parts.extend(f"[{doc.units[n].key}] {doc.units[n].source}" for n in context_before)
    parts.append("Lines to translate (id, source, budget):")
    for n in targets:
        u = doc.units[n]
        budget = []
        if u.budget:
            budget.append(f"at most {u.budget} characters")
        if u.seconds:
            budget.append(f"{u.seconds:.1f} s on screen")
        parts.append(f"[{u.key}] {u.source}" + (f"  ({', '.join(budget)})" if budget else "")
                     + (f"\n    {u.note}" if u.note else ""))
    if context_after:
        parts.append("Context after (do not translate):")
        parts.extend(f"[{doc.units[n].key}] {doc.units[n].source}" for n in context_after)
    if problems:
        parts.append("Your previous answer was not usable for these ids; answer them again:")
        parts.extend(f"- {key}: {why}" for key, why in problems.items())
    keys = tuple(doc.units[n].key for n in targets)
    schema = {
        "type": "object",
        "properties": {doc.units[n].key: {"type": "string", "minLength": 1, "maxLength": max_length(doc.units[n])}
                       for n in targets},
        "required": list(keys),
        "additionalProperties": False,
    }
    # Characters bound tokens from above for any tokenizer; plus the keys, quotes and spaces.
    max_tokens = sum(max_length(doc.units[n]) for n in targets) + 12 * len(targets) + 16
    return Prompt([{"role": "system", "content": system}, {"role": "user", "content": "\n".join(parts)}],
                  schema, keys, max_tokens)


# ------------------------------------------------------------------------------- running summary

#: characters of an episode's translated lines a summary request carries at most (its last lines:
#: where an episode ends is what the next one picks up)
SUMMARY_INPUT_CHARS = 6000


def summary_prompt(previous: str, lines: Sequence[str], tgt: str, max_chars: int) -> Prompt:
    """One bounded request: the story so far (``previous``) and one episode's translated lines in,
    a new story-so-far of at most ``max_chars`` characters out (JSON ``{"summary": ...}``)."""
    tgt_name = language_name(tgt)
    kept: list[str] = []
    size = 0
    for line in reversed([x for x in lines if x.strip()]):
        size += len(line) + 1
        if size > SUMMARY_INPUT_CHARS:
            break
        kept.append(line)
    kept.reverse()
    system = (f"You keep a running summary of a short drama series for its subtitle translator. In {tgt_name}, "
              f"in at most {max_chars} characters, say who the characters are, how they relate and what has "
              "happened, so that the next episode can be translated consistently. Reply with one JSON object "
              'only: {"summary": "..."}.')
    parts = []
    if previous:
        parts.append(f"Summary of the earlier episodes: {previous}")
    parts.append("The latest episode's dialogue (translated):")
    parts.extend(kept)
    schema = {"type": "object",
              "properties": {"summary": {"type": "string", "minLength": 1, "maxLength": max_chars}},
              "required": ["summary"], "additionalProperties": False}
    return Prompt([{"role": "system", "content": system}, {"role": "user", "content": "\n".join(parts)}],
                  schema, ("summary",), max_chars + 16, name="summary")


def read_summary(content: str, max_chars: int) -> str:
    """The summary in an answer, made safe to put into later prompts: the ``summary`` value (or the
    whole text where the answer is not that JSON), control and replacement characters removed,
    whitespace collapsed, at most ``max_chars`` characters. Empty: no usable summary."""
    parsed = parse_answer(content)
    text = parsed.values.get("summary")
    if text is None:
        text = "" if parsed.values else content
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
                   for ch in text if ch != "\ufffd" and unicodedata.category(ch) not in ("Cs", "Co", "Cn"))
    text = " ".join(text.split())
    if len(text) > max_chars:
        cut = text[:max_chars]
        text = cut.rsplit(" ", 1)[0] if " " in cut[max_chars // 2 :] else cut
    return text.strip()


# ------------------------------------------------------------------------------------------ reading


@dataclass
class Parsed:
    """What could be read from an answer: values per key, with their character spans in the content
    (for token log-probabilities), and whether the whole answer was one JSON object."""

    values: dict[str, str] = field(default_factory=dict)
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    strict: bool = False


_PAIR = re.compile(r'"((?:[^"\\\n]|\\.){1,64})"\s*:\s*"((?:[^"\\]|\\.)*)"')


def parse_answer(content: str) -> Parsed:
    """Top-level ``"key": "value"`` pairs of a JSON object, leniently: the object may sit inside
    prose or a code fence, or be cut off by the token limit; the pairs that can be read are kept.
    Spans are where each value's JSON string (quotes included) sits in ``content``."""
    parsed = _scan_object(content)
    if parsed is not None:
        return parsed
    out = Parsed()
    for m in _PAIR.finditer(content):
        try:
            key, value = json.loads(f'"{m.group(1)}"'), json.loads(f'"{m.group(2)}"')
        except json.JSONDecodeError:
            continue
        if key not in out.values:
            out.values[key] = value
            out.spans[key] = (m.start(2) - 1, m.end(2) + 1)
    return out


def _scan_object(content: str) -> Parsed | None:
    """A JSON object starting at the first ``{``, read pair by pair to keep each value's span."""
    decoder = json.JSONDecoder()
    start = content.find("{")
    if start < 0:
        return None
    pos, out = start + 1, Parsed()
    ws = re.compile(r"\s*")
    try:
        pos = ws.match(content, pos).end()  # type: ignore[union-attr]
        if content[pos : pos + 1] == "}":
            out.strict = content[:start].strip() == "" and content[pos + 1 :].strip() == ""
            return out
        while True:
            key, pos = decoder.raw_decode(content, pos)
            pos = ws.match(content, pos).end()  # type: ignore[union-attr]
            if content[pos] != ":":
                return None
            pos = ws.match(content, pos + 1).end()  # type: ignore[union-attr]
            value_start = pos
            value, pos = decoder.raw_decode(content, pos)
            if isinstance(key, str) and isinstance(value, str) and key not in out.values:
                out.values[key] = value
                out.spans[key] = (value_start, pos)
            pos = ws.match(content, pos).end()  # type: ignore[union-attr]
            if content[pos] == "}":
                out.strict = content[:start].strip() == "" and content[pos + 1 :].strip() == ""
                return out
            if content[pos] != ",":
                return None
            pos = ws.match(content, pos + 1).end()  # type: ignore[union-attr]
    except (json.JSONDecodeError, IndexError, AttributeError):
        return None


def problem(text: str | None, source: str, src: str, tgt: str) -> str | None:
    """Why an answer for one line cannot be used, or ``None`` when it can: missing, empty, the
    source's script left over (a line not translated, or answered in the wrong language), control
    or replacement characters (a broken decoder or byte stream)."""
    if text is None:
        return "missing"
    if not text.strip():
        return "empty"
    if "\ufffd" in text or any(unicodedata.category(ch) == "Cc" and ch != "\n" for ch in text):
        return "control or replacement characters"
    if (primary_subtag(src) in _HAN_LANGS and primary_subtag(tgt) not in _HAN_LANGS and _HAN.search(text)):
        return f"{language_name(src)} characters left (not {language_name(tgt)})"
    return None


def validate(parsed: Parsed, keys: Sequence[str], sources: Mapping[str, str], src: str, tgt: str
             ) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """(usable answers, problems by key, extra keys): every requested key exactly once, nothing else."""
    good: dict[str, str] = {}
    bad: dict[str, str] = {}
    for key in keys:
        why = problem(parsed.values.get(key), sources[key], src, tgt)
        if why is None:
            good[key] = parsed.values[key].strip()
        else:
            bad[key] = why
    extra = [k for k in parsed.values if k not in set(keys)]
    return good, bad, extra
