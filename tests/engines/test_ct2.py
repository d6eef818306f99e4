"""CTranslate2: conversion of the tiny Marian with transformers 5, int8 on CPU, same structure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from localise.engines.ct2 import CT2Engine, convert_model
from localise.engines.hf import HFEngine
from localise.errors import ModelUnavailableError


def test_conversion_writes_weights_tokenizer_and_metadata(tiny_ct2: Path, tiny_model: Path):
    for name in ("model.bin", "config.json", "shared_vocabulary.json", "source.spm", "target.spm", "vocab.json", "localise_model.json"):
        assert (tiny_ct2 / name).is_file(), name
    meta = json.loads((tiny_ct2 / "localise_model.json").read_text())
    assert meta["source_model"] == str(tiny_model) and meta["quantization"] == "int8"
    assert meta["max_input_tokens"] == 512


def test_int8_engine_translates_every_line_in_order(tiny_ct2: Path, zh_lines: list[str]):
    engine = CT2Engine(str(tiny_ct2), max_tokens=64)  # a small budget: several batches
    assert engine.compute_type == "int8" and engine.device == "cpu"
    texts = zh_lines[:10] + [""] + zh_lines[10:16]
    out = engine.translate(texts, "zh", "en")
    assert len(out) == len(texts)
    assert out[10].text == "" and all(t.text for i, t in enumerate(out) if i != 10)
    assert all(0.0 <= t.confidence <= 1.0 for t in out)
    alone = [engine.translate([t], "zh", "en")[0].text for t in texts[:4]]
    assert alone == [t.text for t in out[:4]]
    sig = engine.signature()
    assert "engine=ctranslate2" in sig and "compute_type=int8" in sig and str(tiny_model_name(tiny_ct2)) in sig


def tiny_model_name(path: Path) -> str:
    return json.loads((path / "localise_model.json").read_text())["source_model"]


def test_float32_conversion_decodes_like_transformers(tiny_model: Path, tmp_path: Path, zh_lines: list[str]):
    """Same weights, same greedy search: CTranslate2 (float32) and transformers agree on the words."""
    f32 = convert_model(str(tiny_model), tmp_path / "f32", quantization="float32")
    ct2 = CT2Engine(str(f32), compute_type="float32", max_new_tokens=10)
    hf = HFEngine(str(tiny_model), max_new_tokens=10)
    texts = zh_lines[:8]
    ct2_out, hf_out = ct2.translate(texts, "zh", "en"), hf.translate(texts, "zh", "en")
    agree = sum(a.text == b.text for a, b in zip(ct2_out, hf_out))
    assert agree >= 6  # float summation order may flip a near-tie in a random model


def test_not_a_converted_folder_is_unavailable(tiny_model: Path, tmp_path: Path):
    with pytest.raises(ModelUnavailableError, match="convert"):
        CT2Engine(str(tiny_model))  # a transformers folder, not a CTranslate2 one
    with pytest.raises(ModelUnavailableError, match="nowhere"):
        CT2Engine(str(tmp_path / "nowhere"))


def test_cli_convert_and_its_errors(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from localise.cli import app

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    runner = CliRunner()
    out = tmp_path / "cli-int8"
    result = runner.invoke(app, ["models", "convert", str(tiny_model), str(out), "--quantization", "int8"])
    assert result.exit_code == 0, result.output
    assert (out / "model.bin").is_file()
    again = runner.invoke(app, ["models", "convert", str(tiny_model), str(out)])
    assert again.exit_code != 0  # refuses to overwrite without --force
    missing = runner.invoke(app, ["models", "convert", "Helsinki-NLP/opus-mt-zh-xx-missing", str(tmp_path / "x")])
    assert missing.exit_code == 2
    assert "Helsinki-NLP/opus-mt-zh-xx-missing" in missing.output


def test_cli_route_shows_pivot():
    from localise.cli import app

    result = CliRunner().invoke(app, ["models", "route", "--from", "zh", "--to", "en,es"])
    assert result.exit_code == 0
    assert "zh -> es: zh->en Helsinki-NLP/opus-mt-zh-en  then  en->es Helsinki-NLP/opus-mt-en-es" in result.output


def test_m2m100_converts_despite_transformers5_special_tokens_change(tiny_m2m100: Path, tmp_path: Path, zh_lines: list[str]):
    """ctranslate2's M2M100 loader misses the language tokens under transformers 5 (see ct2.py);
    with the by-id vocabulary the converted model decodes the same words as transformers."""
    out = convert_model(str(tiny_m2m100), tmp_path / "m2m-f32", quantization="float32")
    ct2 = CT2Engine(str(out), compute_type="float32")
    hf = HFEngine(str(tiny_m2m100))
    texts = zh_lines[:6]
    for tgt in ("en", "fr"):
        a, b = ct2.translate(texts, "zh", tgt), hf.translate(texts, "zh", tgt)
        assert sum(x.text == y.text for x, y in zip(a, b)) >= 5
        assert all(0.0 < x.confidence <= 1.0 for x in a)


def test_nllb_runs_on_both_engines_with_flores_codes(tiny_nllb: Path, tmp_path: Path):
    from localise.engines.hf import conventions_for, encode

    hf = HFEngine(str(tiny_nllb))
    assert hf.family == "nllb"
    conv = conventions_for(hf.tokenizer, "zh", "en")
    assert hf.tokenizer.convert_ids_to_tokens(encode(hf.tokenizer, ["你好"], conv)[0])[0] == "zho_Hans"
    out = convert_model(str(tiny_nllb), tmp_path / "nllb-f32", quantization="float32")
    ct2 = CT2Engine(str(out), compute_type="float32")
    for engine in (hf, ct2):
        result = engine.translate(["你好", "他去那里了？"], "zh", "ko")
        assert len(result) == 2 and all(0.0 < t.confidence <= 1.0 for t in result)
        assert all("kor_Hang" not in t.text for t in result)  # the forced language token is not text


@pytest.mark.parametrize("family", ["marian", "m2m100", "nllb"])
def test_detokenize_gives_what_decode_gives(family: str, tiny_model: Path, tiny_m2m100: Path, tiny_nllb: Path,
                                            tmp_path: Path):
    """The engine joins output pieces itself (no round trip through ids); the text must be what
    ``tokenizer.decode(..., skip_special_tokens=True)`` makes of the same pieces."""
    import random

    source = {"marian": tiny_model, "m2m100": tiny_m2m100, "nllb": tiny_nllb}[family]
    engine = CT2Engine(str(convert_model(str(source), tmp_path / "ct2", quantization=None)))
    tokenizer = engine.tokenizer
    vocab = sorted(tokenizer.get_vocab())
    rng = random.Random(7)
    for _ in range(500):
        pieces = [rng.choice(vocab) for _ in range(rng.randint(0, 25))]
        expected = tokenizer.decode(tokenizer.convert_tokens_to_ids(pieces), skip_special_tokens=True).strip()
        assert engine.detokenize(pieces) == expected, pieces
