"""Which model translates which pair, and one loaded engine per model per process.

* :func:`routes` reads the default model table (``localise/data/models.toml``), overridden by a
  table from configuration and by ``model=`` for a whole run, and returns the hops: one for a
  pair with a model, two (``src -> en -> tgt``) when only the pivot pairs have models.
* :func:`get_engine` loads an engine once per process and hands the same object to every file,
  task and thread after that (loading is the expensive part; a per-key lock stops two threads
  loading the same model twice).
* :func:`translate_texts` follows the route with one batched engine call per hop.
  The confidence of a pivoted line is the **product** of its hops' confidences: both hops must be
  right, and a product stays comparable with single-hop ``exp(mean log-prob)`` scores (a sure first
  hop leaves the second hop's score unchanged). :func:`translate_many` serves several targets at
  once and translates a shared first hop (zh -> en) only once; :func:`translate_texts` called once
  per target gets the same saving from a small memo of the last hop results (same engine, model,
  options and texts; deterministic decoding makes the reuse exact).
"""

from __future__ import annotations

import hashlib
import threading
import tomllib
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from localise.engines.base import DECODING_FIELDS, TranslationEngine, primary_subtag
from localise.errors import ConfigError
from localise.model import Translation

DEFAULT_TABLE = Path(__file__).resolve().parent.parent / "data" / "models.toml"
ENGINES = ("transformers", "ctranslate2", "openai")
ENGINE_ALIASES = {"hf": "transformers", "ct2": "ctranslate2"}


@dataclass(frozen=True)
class Hop:
    """One engine pass: ``src`` -> ``tgt`` with ``model``."""

    src: str
    tgt: str
    model: str


class GlossaryHook(Protocol):
    """Called before each hop with that hop's source texts and languages; returns the texts the
    engine should see and a function that turns the engine's outputs back (e.g. placeholders
    restored). ``Glossary.enforce``/``Enforced.restore`` fit this shape line by line."""

    def __call__(self, texts: Sequence[str], src: str, tgt: str) -> tuple[list[str], Callable[[list[str]], list[str]]]: ...


# ---------------------------------------------------------------------- the model table
@lru_cache(maxsize=1)
def default_table() -> dict[str, Any]:
    """The packaged table, parsed once."""
    return tomllib.loads(DEFAULT_TABLE.read_text(encoding="utf-8"))


def _lookup(table: Mapping[str, Any] | None, src: str, tgt: str) -> str | None:
    """A model for ``src -> tgt`` in a table that may be nested (``{"zh": {"en": m}}``) or flat
    (``{"zh-en": m}`` or ``{"zh>en": m}``); exact codes first, then primary subtags (pt-BR -> pt)."""
    if not table:
        return None
    for s in dict.fromkeys((src, primary_subtag(src))):
        for t in dict.fromkeys((tgt, primary_subtag(tgt))):
            for key in (f"{s}-{t}", f"{s}>{t}"):
                value = table.get(key)
                if isinstance(value, str):
                    return value
            nested = table.get(s)
            if isinstance(nested, Mapping) and isinstance(nested.get(t), str):
                return nested[t]
    return None


def model_for(src: str, tgt: str, model_table: Mapping[str, Any] | None = None) -> str | None:
    """The configured model for a direct pair (configuration first, then the packaged table)."""
    return _lookup(model_table, src, tgt) or _lookup(default_table(), src, tgt)


def routes(src: str, tgt: str, model_table: Mapping[str, Any] | None = None, model: str | None = None) -> list[Hop]:
    """The hops that take ``src`` to ``tgt``: direct when the table has the pair, else through the
    pivot language (``en``). ``model`` (a run-wide override) gives one direct hop with that model."""
    if primary_subtag(src) == primary_subtag(tgt) and src.lower() == tgt.lower():
        raise ConfigError(f"source and target language are the same ({src!r})")
    if model is not None:
        # One model for every pair (a multilingual model, or a local folder): pivoting would run
        # the same model twice and compound its errors.
        return [Hop(src, tgt, model)]
    pivot = str((model_table or {}).get("pivot") or default_table().get("pivot", "en"))
    direct = model_for(src, tgt, model_table)
    if direct is not None:
        hops = [Hop(src, tgt, direct)]
    else:
        first = model_for(src, pivot, model_table) if primary_subtag(src) != pivot else None
        second = model_for(pivot, tgt, model_table) if primary_subtag(tgt) != pivot else None
        if first is None or second is None:
            raise ConfigError(
                f"no model for {src} -> {tgt} and no route through {pivot!r}; add one to the model table "
                f"(model_table = {{\"{src}-{tgt}\" = \"MODEL\"}}) or pass --model"
            )
        hops = [Hop(src, pivot, first), Hop(pivot, tgt, second)]
    return hops


# ---------------------------------------------------------------------- engine cache
_CACHE: dict[tuple[Any, ...], TranslationEngine] = {}
_CACHE_LOCK = threading.Lock()
_KEY_LOCKS: dict[tuple[Any, ...], threading.Lock] = {}
LOADS: list[tuple[str, str]] = []  # (engine, model) per load in this process; tests and benchmarks read it


def _freeze(options: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, v if isinstance(v, (str, int, float, bool, type(None))) else repr(v)) for k, v in options.items()))


def get_engine(engine: str = "transformers", model: str | None = None, *, src: str, tgt: str, **options: Any) -> TranslationEngine:
    """The engine for ``model`` (default: the table's model for ``src -> tgt``), loaded once per
    process per (engine, model, options) and shared. ``options`` are the engine's keyword
    arguments: ``device``, ``dtype``/``compute_type``, ``threads`` and the decoding settings
    (``num_beams``, ``max_new_tokens``, ``min_new_tokens``, ``max_tokens``, ``max_batch_size``)."""
    kind = ENGINE_ALIASES.get(engine, engine)
    if kind not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if model is None:
        hops = routes(src, tgt)
        if len(hops) != 1:
            raise ConfigError(f"{src} -> {tgt} needs a pivot ({' -> '.join([hops[0].src] + [h.tgt for h in hops])}); use translate_texts")
        model = hops[0].model
    options = {k: v for k, v in options.items() if v is not None}
    key = (kind, str(model), _freeze(options))
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        key_lock = _KEY_LOCKS.setdefault(key, threading.Lock())
    with key_lock:
        with _CACHE_LOCK:
            if key in _CACHE:
                return _CACHE[key]
        loaded = _load(kind, str(model), options)
        with _CACHE_LOCK:
            _CACHE[key] = loaded
            LOADS.append((kind, str(model)))
    return loaded


def _load(kind: str, model: str, options: dict[str, Any]) -> TranslationEngine:
    if kind == "openai":  # an OpenAI-compatible server: ``model`` is the served model's name
        from localise.engines.openai_engine import LLMConfig, OpenAIEngine

        fields = set(LLMConfig.__dataclass_fields__) - {"model"}
        unknown = set(options) - fields - {"device"}
        if unknown:
            raise ConfigError(f"unknown openai engine option(s): {', '.join(sorted(unknown))}")
        return OpenAIEngine(LLMConfig(model=model, **{k: v for k, v in options.items() if k in fields}))
    unknown = set(options) - DECODING_FIELDS - {"device", "dtype", "compute_type", "threads", "revision", "pad_multiple"}
    if unknown:
        raise ConfigError(f"unknown engine option(s): {', '.join(sorted(unknown))}")
    if kind == "ctranslate2":
        from localise.engines.ct2 import CT2Engine

        options.pop("revision", None)
        options.pop("pad_multiple", None)
        return CT2Engine(model, **options)
    from localise.engines.hf import HFEngine

    options.pop("compute_type", None)
    return HFEngine(model, **options)


def clear_cache() -> None:
    """Forget every loaded engine (tests; freeing memory between benchmark runs)."""
    with _CACHE_LOCK:
        _CACHE.clear()
        _KEY_LOCKS.clear()
        _HOP_MEMO.clear()
        LOADS.clear()


# ---------------------------------------------------------------------- translating along a route
# The last few hop results, so that calling translate_texts once per target language (zh->es,
# then zh->pt) translates the shared zh->en hop once. Decoding is deterministic, so the same
# engine, model, options and texts give the same output. Bounded: memory does not grow with runs.
_HOP_MEMO: OrderedDict[tuple[Any, ...], list[Translation]] = OrderedDict()
_HOP_MEMO_SIZE = 4


def _texts_digest(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return f"{len(texts)}:{digest.hexdigest()}"


def _run_hop(
    texts: list[str], hop: Hop, engine: str, glossary_hook: GlossaryHook | None, options: dict[str, Any]
) -> list[Translation]:
    runner = get_engine(engine, hop.model, src=hop.src, tgt=hop.tgt, **options)
    if glossary_hook is None:
        key = (id(runner), hop, _texts_digest(texts))
        with _CACHE_LOCK:
            memo = _HOP_MEMO.get(key)
            if memo is not None:
                _HOP_MEMO.move_to_end(key)
                return list(memo)
        result = runner.translate(texts, hop.src, hop.tgt)
        with _CACHE_LOCK:
            _HOP_MEMO[key] = list(result)
            while len(_HOP_MEMO) > _HOP_MEMO_SIZE:
                _HOP_MEMO.popitem(last=False)
        return result
    prepared, restore = glossary_hook(texts, hop.src, hop.tgt)
    outputs = runner.translate(prepared, hop.src, hop.tgt)
    restored = restore([o.text for o in outputs])
    return [Translation(text, o.confidence, o.origin) for text, o in zip(restored, outputs)]


def _combine(first: Sequence[Translation], second: Sequence[Translation], pivot_lang: str) -> list[Translation]:
    """Pivot confidence = product of the hops' confidences (None if either hop gave none); the
    first pivot's text is kept (``Translation.pivot``) so that hop can be checked too."""
    out = []
    for a, b in zip(first, second):
        conf = None if a.confidence is None or b.confidence is None else a.confidence * b.confidence
        out.append(Translation(b.text, conf, b.origin, a.pivot or (pivot_lang, a.text)))
    return out


def translate_many(
    texts: Sequence[str],
    src: str,
    targets: Sequence[str],
    *,
    engine: str = "transformers",
    model: str | None = None,
    model_table: Mapping[str, Any] | None = None,
    glossary_hook: GlossaryHook | None = None,
    **options: Any,
) -> dict[str, list[Translation]]:
    """Translations of ``texts`` into each target. A hop shared by several routes (zh -> en for
    en, es and pt) runs once; every hop is one batched engine call over all ``texts``."""
    texts = list(texts)
    done: dict[tuple[Hop, ...], list[Translation]] = {}
    out: dict[str, list[Translation]] = {}
    for tgt in targets:
        hops = routes(src, tgt, model_table, model)
        current: list[Translation] | None = None
        for n in range(len(hops)):
            prefix = tuple(hops[: n + 1])
            if prefix not in done:
                inputs = texts if current is None else [t.text for t in current]
                result = _run_hop(inputs, hops[n], engine, glossary_hook, dict(options))
                done[prefix] = result if current is None else _combine(current, result, hops[n].src)
            current = done[prefix]
        assert current is not None
        out[tgt] = current
    return out


def translate_texts(
    texts: Sequence[str],
    src: str,
    tgt: str,
    *,
    engine: str = "transformers",
    model: str | None = None,
    model_table: Mapping[str, Any] | None = None,
    glossary_hook: GlossaryHook | None = None,
    **options: Any,
) -> list[Translation]:
    """Translate all ``texts`` from ``src`` to ``tgt`` along :func:`routes`, one batched engine call
    per hop, pivoting through English where the table says so. ``options`` go to :func:`get_engine`."""
    return translate_many(
        texts, src, [tgt], engine=engine, model=model, model_table=model_table, glossary_hook=glossary_hook, **options
    )[tgt]


def signatures(src: str, tgt: str, *, engine: str = "transformers", model: str | None = None,
               model_table: Mapping[str, Any] | None = None, **options: Any) -> list[str]:
    """The signature of each hop's engine (loads them if needed), for reports and manifests."""
    return [
        f"{h.src}->{h.tgt}:" + get_engine(engine, h.model, src=h.src, tgt=h.tgt, **options).signature()
        for h in routes(src, tgt, model_table, model)
    ]
