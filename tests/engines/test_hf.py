"""The transformers engine on tiny random models built offline: real from_pretrained, tokenizer,
generate. The words are noise; these tests check structure, order, confidences and errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from localise.engines.hf import HFEngine, conventions_for, work_items
from localise.errors import ModelUnavailableError
from localise.model import Translation


@pytest.fixture(scope="module")
def engine(tiny_model: Path) -> HFEngine:
    return HFEngine(str(tiny_model), max_new_tokens=12)


def test_one_translation_per_input_in_order(engine: HFEngine, zh_lines: list[str]):
    texts = zh_lines[:12] + [""] + zh_lines[12:20]
    out = engine.translate(texts, "zh", "en")
    assert len(out) == len(texts)
    assert all(isinstance(t, Translation) for t in out)
    assert out[12] == Translation("", 1.0)
    assert all(t.text for i, t in enumerate(out) if i != 12)
    assert all(t.confidence is not None and 0.0 <= t.confidence <= 1.0 for t in out)
    # the random model says different things for different inputs, so order is observable
    assert len({t.text for t in out}) > len(out) // 2


def test_token_budget_batching_restores_input_order(tiny_model: Path, engine: HFEngine, zh_lines: list[str]):
    one_batch = engine.translate(zh_lines, "zh", "en")
    small = HFEngine(str(tiny_model), max_new_tokens=12, max_tokens=40, max_batch_size=3)
    many_batches = small.translate(zh_lines, "zh", "en")
    alone = [engine.translate([t], "zh", "en")[0] for t in zh_lines[:6]]
    assert [t.text for t in many_batches] == [t.text for t in one_batch]
    assert [t.text for t in alone] == [t.text for t in one_batch[:6]]
    for a, b in zip(many_batches, one_batch):
        assert a.confidence == pytest.approx(b.confidence, abs=1e-4)
    reversed_out = engine.translate(list(reversed(zh_lines)), "zh", "en")
    assert [t.text for t in reversed_out] == [t.text for t in reversed(one_batch)]


def test_greedy_confidence_is_exp_mean_token_logprob(engine: HFEngine, zh_lines: list[str]):
    """Checked against transformers' own compute_transition_scores on the same inputs."""
    import torch

    texts = zh_lines[:4]
    tok, model = engine.tokenizer, engine.model
    enc = tok(texts, return_tensors="pt", padding=True)
    with torch.inference_mode():
        out = model.generate(**enc, max_new_tokens=12, num_beams=1, do_sample=False, output_scores=True, return_dict_in_generate=True)
    scores = model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
    expected = []
    for row_tokens, row_scores in zip(out.sequences[:, 1:], scores):
        keep = []
        for token, score in zip(row_tokens.tolist(), row_scores.tolist()):
            keep.append(score)
            if token == model.generation_config.eos_token_id:
                break
        expected.append(math.exp(sum(keep) / len(keep)))
    got = [t.confidence for t in engine.translate(texts, "zh", "en")]
    assert got == pytest.approx(expected, rel=1e-4)


def test_beam_search_gives_confidences_too(tiny_model: Path, zh_lines: list[str]):
    beam = HFEngine(str(tiny_model), num_beams=3, max_new_tokens=10)
    out = beam.translate(zh_lines[:5], "zh", "en")
    assert len(out) == 5 and all(t.text and 0.0 < t.confidence <= 1.0 for t in out)
    assert "num_beams=3" in beam.signature()


def test_fixed_output_length_for_benchmarks(tiny_model: Path, zh_lines: list[str]):
    fixed = HFEngine(str(tiny_model), min_new_tokens=8, max_new_tokens=8)
    out = fixed.translate(zh_lines[:3], "zh", "en")
    assert all(t.text for t in out)
    # min length meeting the checkpoint's forced </s> masks every token at the last step:
    # that step must not turn the confidence into NaN or 0
    assert all(0.0 < t.confidence <= 1.0 for t in out)
    assert "min_new_tokens=8" in fixed.signature() and "max_new_tokens=8" in fixed.signature()


def test_signature_names_engine_model_revision_device_dtype_and_decoding(engine: HFEngine, tiny_model: Path):
    sig = engine.signature()
    for part in ("engine=transformers", f"model={tiny_model}", "revision=", "device=cpu", "dtype=float32", "num_beams=1", "max_new_tokens=12"):
        assert part in sig
    assert engine.revision and engine.revision != "unknown"


def test_input_beyond_the_model_limit_is_cut_at_punctuation_not_truncated(short_marian: Path):
    eng = HFEngine(str(short_marian), max_new_tokens=6)
    long_text = "我是王总，你是谁？" * 6 + "他去那里了。"
    conv = conventions_for(eng.tokenizer, "zh", "en")
    owners, items = work_items(eng.tokenizer, ["你好。", long_text], conv, eng.max_input_tokens, eng.model_id)
    assert eng.max_input_tokens == 24
    assert owners.count(1) > 1 and all(len(ids) <= 24 for ids in items)
    pieces = [eng.tokenizer.decode(ids, skip_special_tokens=True) for o, ids in zip(owners, items) if o == 1]
    assert "".join(pieces).replace(" ", "") == long_text.replace("，", ",").replace("？", "?")  # spm normalises to ASCII
    out = eng.translate(["你好。", long_text], "zh", "en")
    assert len(out) == 2 and out[1].text and 0.0 <= out[1].confidence <= 1.0


def test_unknown_hub_model_offline_raises_naming_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelUnavailableError) as err:
        HFEngine("Helsinki-NLP/opus-mt-zh-xx-does-not-exist")
    assert err.value.model == "Helsinki-NLP/opus-mt-zh-xx-does-not-exist"
    assert "Helsinki-NLP/opus-mt-zh-xx-does-not-exist" in str(err.value)
    assert "HF_HUB_OFFLINE" in str(err.value)


def test_missing_model_folder_raises_naming_it(tmp_path: Path):
    missing = tmp_path / "no-model-here"
    with pytest.raises(ModelUnavailableError, match="no-model-here"):
        HFEngine(str(missing))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelUnavailableError, match="empty"):
        HFEngine(str(tmp_path / "empty"))


def test_m2m100_forces_the_target_language_token(tiny_m2m100: Path, zh_lines: list[str]):
    eng = HFEngine(str(tiny_m2m100), max_new_tokens=8)
    to_en = eng.translate(zh_lines[:4], "zh", "en")
    to_fr = eng.translate(zh_lines[:4], "zh", "fr")
    assert all("__en__" not in t.text and "__fr__" not in t.text for t in to_en + to_fr)
    assert [t.text for t in to_en] != [t.text for t in to_fr]  # the forced first token steers decoding


def test_multi_target_marian_translates_with_prefix(multi_marian: Path, zh_lines: list[str]):
    eng = HFEngine(str(multi_marian), max_new_tokens=8)
    es = eng.translate(zh_lines[:3], "zh", "es")
    pt = eng.translate(zh_lines[:3], "zh", "pt-BR")
    assert len(es) == len(pt) == 3
    assert [t.text for t in es] != [t.text for t in pt]


def test_asking_for_a_missing_device_is_a_clear_error(tiny_model: Path):
    import torch

    from localise.errors import EngineError

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(EngineError, match="cuda"):
        HFEngine(str(tiny_model), device="cuda")
