"""Routes from the model table, one engine load per process, pivot translation and its confidence."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from localise.engines import registry
from localise.engines.registry import Hop, get_engine, routes, translate_many, translate_texts
from localise.errors import ConfigError


def test_default_table_direct_and_pivot_routes():
    assert routes("zh", "en") == [Hop("zh", "en", "Helsinki-NLP/opus-mt-zh-en")]
    assert routes("zh", "es") == [
        Hop("zh", "en", "Helsinki-NLP/opus-mt-zh-en"),
        Hop("en", "es", "Helsinki-NLP/opus-mt-en-es"),
    ]
    assert [h.model for h in routes("zh", "pt-BR")] == ["Helsinki-NLP/opus-mt-zh-en", "Helsinki-NLP/opus-mt-en-ROMANCE"]
    assert routes("zh", "ja") == [Hop("zh", "ja", "facebook/nllb-200-distilled-600M")]


def test_configured_table_overrides_flat_or_nested():
    assert routes("zh", "es", model_table={"zh-es": "my/zh-es"}) == [Hop("zh", "es", "my/zh-es")]
    assert routes("zh", "es", model_table={"zh": {"es": "/models/zh-es"}}) == [Hop("zh", "es", "/models/zh-es")]
    hops = routes("zh", "de", model_table={"zh-en": "/m/zh-en"})
    assert hops == [Hop("zh", "en", "/m/zh-en"), Hop("en", "de", "Helsinki-NLP/opus-mt-en-de")]


def test_run_model_is_one_direct_hop():
    # One model for every pair: never run it twice through a pivot.
    assert routes("zh", "es", model="/tiny") == [Hop("zh", "es", "/tiny")]
    assert routes("zh", "xx", model="/tiny") == [Hop("zh", "xx", "/tiny")]  # no table route: direct


def test_no_route_and_same_language_are_config_errors():
    with pytest.raises(ConfigError, match="zh -> xx"):
        routes("zh", "xx")
    with pytest.raises(ConfigError, match="same"):
        routes("zh", "zh")


def test_engine_is_loaded_once_and_shared(tiny_model: Path):
    first = get_engine("transformers", str(tiny_model), src="zh", tgt="en")
    again = get_engine("transformers", str(tiny_model), src="zh", tgt="es")
    assert first is again
    assert registry.LOADS == [("transformers", str(tiny_model))]
    other = get_engine("transformers", str(tiny_model), src="zh", tgt="en", num_beams=2)
    assert other is not first and len(registry.LOADS) == 2


def test_concurrent_first_use_loads_once(tiny_model: Path):
    got: list[object] = []
    barrier = threading.Barrier(4)

    def use() -> None:
        barrier.wait()
        got.append(get_engine("transformers", str(tiny_model), src="zh", tgt="en"))

    threads = [threading.Thread(target=use) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4 and all(e is got[0] for e in got)
    assert len(registry.LOADS) == 1


def test_unknown_engine_and_option_are_config_errors(tiny_model: Path):
    with pytest.raises(ConfigError, match="unknown engine"):
        get_engine("marian-cpp", str(tiny_model), src="zh", tgt="en")
    with pytest.raises(ConfigError, match="beam_width"):
        get_engine("transformers", str(tiny_model), src="zh", tgt="en", beam_width=4)


def test_pivot_confidence_is_the_product_of_the_hops(tiny_model: Path, zh_lines: list[str]):
    table = {"zh-en": str(tiny_model), "en-es": str(tiny_model)}
    texts = zh_lines[:6]
    out = translate_texts(texts, "zh", "es", model_table=table, max_new_tokens=10)
    assert len(out) == len(texts)
    engine = get_engine("transformers", str(tiny_model), src="zh", tgt="en", max_new_tokens=10)
    first = engine.translate(texts, "zh", "en")
    second = engine.translate([t.text for t in first], "en", "es")
    assert [t.text for t in out] == [t.text for t in second]
    assert [t.confidence for t in out] == pytest.approx([a.confidence * b.confidence for a, b in zip(first, second)])
    assert len(registry.LOADS) == 1  # both hops share the one loaded model


def test_shared_first_hop_runs_once_and_hook_sees_each_hop(tiny_model: Path, zh_lines: list[str]):
    calls: list[tuple[str, str, int]] = []

    def hook(texts, src, tgt):
        calls.append((src, tgt, len(texts)))
        return list(texts), lambda outputs: [f"{o} [{tgt}]" for o in outputs]

    table = {"zh-en": str(tiny_model), "en-es": str(tiny_model), "en-pt": str(tiny_model)}
    out = translate_many(zh_lines[:5], "zh", ["en", "es", "pt"], model_table=table, glossary_hook=hook, max_new_tokens=8)
    assert calls == [("zh", "en", 5), ("en", "es", 5), ("en", "pt", 5)]
    assert set(out) == {"en", "es", "pt"} and all(len(v) == 5 for v in out.values())
    assert all(t.text.endswith("[en]") for t in out["en"])
    assert all(t.text.endswith("[es]") for t in out["es"])


def test_registry_runs_ctranslate2_too(tiny_ct2: Path, zh_lines: list[str]):
    out = translate_texts(zh_lines[:4], "zh", "en", engine="ctranslate2", model=str(tiny_ct2))
    assert len(out) == 4 and all(0.0 <= t.confidence <= 1.0 for t in out)
    assert registry.LOADS == [("ctranslate2", str(tiny_ct2))]


def test_per_language_calls_share_the_pivot_hop(tiny_model: Path, zh_lines: list[str], monkeypatch: pytest.MonkeyPatch):
    """translate_texts once per target (as a pipeline looping over languages does): zh->en runs once."""
    table = {"zh-en": str(tiny_model), "en-es": str(tiny_model), "en-pt": str(tiny_model)}
    engine = get_engine("transformers", str(tiny_model), src="zh", tgt="en", max_new_tokens=8)
    real = engine.translate
    calls: list[tuple[str, str]] = []

    def counting(texts, src, tgt):
        calls.append((src, tgt))
        return real(texts, src, tgt)

    monkeypatch.setattr(engine, "translate", counting)
    texts = zh_lines[:5]
    en = translate_texts(texts, "zh", "en", model_table=table, max_new_tokens=8)
    es = translate_texts(texts, "zh", "es", model_table=table, max_new_tokens=8)
    pt = translate_texts(texts, "zh", "pt", model_table=table, max_new_tokens=8)
    assert calls == [("zh", "en"), ("en", "es"), ("en", "pt")]
    assert len(en) == len(es) == len(pt) == 5
    translate_texts(texts[:4], "zh", "en", model_table=table, max_new_tokens=8)  # other texts: runs again
    assert calls[-1] == ("zh", "en") and len(calls) == 4
