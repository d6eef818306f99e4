"""The offline models the whole test suite and the benchmarks use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localise.devtools import tiny_model


def test_tiny_marian_loads_by_path_through_from_pretrained(tiny_model: Path, monkeypatch: pytest.MonkeyPatch):
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, MarianMTModel, MarianTokenizer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for name in ("config.json", "model.safetensors", "source.spm", "target.spm", "vocab.json", "tokenizer_config.json"):
        assert (tiny_model / name).is_file(), name
    tokenizer = AutoTokenizer.from_pretrained(tiny_model, local_files_only=True)
    model = AutoModelForSeq2SeqLM.from_pretrained(tiny_model, local_files_only=True)
    assert isinstance(tokenizer, MarianTokenizer) and isinstance(model, MarianMTModel)
    config = model.config
    assert (config.d_model, config.encoder_layers, config.decoder_layers) == (32, 1, 1)
    vocab = json.loads((tiny_model / "vocab.json").read_text(encoding="utf-8"))
    assert vocab["</s>"] == 0 and vocab["<unk>"] == 1 and vocab["<pad>"] == len(vocab) - 1 == config.pad_token_id
    ids = tokenizer(["你好，我是王总。"]).input_ids[0]
    assert ids[-1] == 0 and tokenizer.unk_token_id not in ids  # the sentencepiece models cover these characters


def test_build_is_deterministic(tmp_path: Path):
    a = tiny_model.build_tiny_marian(tmp_path / "a")
    b = tiny_model.build_tiny_marian(tmp_path / "b")
    assert (a / "vocab.json").read_bytes() == (b / "vocab.json").read_bytes()
    assert (a / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()


def test_command_line_builds_a_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    tiny_model.main([str(tmp_path / "cli"), "--target-codes", "es,pt"])
    assert capsys.readouterr().out.strip() == str(tmp_path / "cli")
    vocab = json.loads((tmp_path / "cli" / "vocab.json").read_text(encoding="utf-8"))
    assert ">>es<<" in vocab and ">>pt<<" in vocab


def test_random_marian_has_the_requested_architecture(tmp_path: Path):
    from transformers import MarianConfig

    assert tiny_model.OPUS_MT_ZH_EN == {"d_model": 512, "layers": 6, "heads": 8, "ffn": 2048, "vocab_size": 65001}
    path = tiny_model.build_random_marian(tmp_path / "mid", full_size=False)  # the full one is ~300 MB: benchmarks build it
    config = MarianConfig.from_pretrained(path)
    dims = tiny_model.MID_SIZE
    assert (config.d_model, config.encoder_layers, config.decoder_layers) == (dims["d_model"], dims["layers"], dims["layers"])
    assert (config.encoder_attention_heads, config.encoder_ffn_dim, config.vocab_size) == (dims["heads"], dims["ffn"], dims["vocab_size"])
    vocab = json.loads((path / "vocab.json").read_text(encoding="utf-8"))
    assert len(vocab) == config.vocab_size  # filler entries give every embedding row a token
