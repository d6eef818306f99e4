"""The models a benchmark runs: built offline with random weights, made comparable, converted.

Two changes to the random-weight models of ``localise.devtools.tiny_model``, both in the benchmark's
own copy and both free per token:

* **fixed length** (:func:`make_fixed_length`, :func:`set_output_cap`): ``</s>`` can never win, so
  every path decodes exactly N tokens per line, even the batch flow whose settings hold no decoding
  options;
* **readable output** (:func:`readable_fillers`): the full-size vocabulary is 65k rows of which only
  a few thousand are SentencePiece pieces; the rest are named ``<filler_n>``. A random model picks
  those most of the time, and lines like ``<filler_3346><filler_3346>...`` (300 characters, no
  space, angle brackets) are nothing a layout or check step sees in production: they made wrapping
  and markup handling look far dearer than with real output. Renaming the filler rows to word
  pieces (``▁bexu``) makes the decoded output space-separated words of ordinary length. Token ids,
  and so the model's cost, do not change.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Models:
    hf_dir: Path
    ct2_dir: Path | None
    description: str


def prepare_models(s: Any) -> Models:
    """The transformers folder (built offline when it is the tiny or full-size random model, then
    made fixed-length, see :func:`make_fixed_length`) and its CTranslate2 int8 conversion, made with
    the engines' own ``convert_model`` (tokenizer saved beside it); cached in the work folder."""
    from localise.engines.ct2 import convert_model

    s.work_dir.mkdir(parents=True, exist_ok=True)
    if s.model in ("tiny", "full-size"):
        from localise.devtools.tiny_model import build_random_marian, build_tiny_marian

        hf_dir = s.work_dir / ("tiny-marian" if s.model == "tiny" else "random-marian-full")
        if not (hf_dir / "config.json").exists():
            log(f"building {s.model} model in {hf_dir}")
            if s.model == "tiny":
                build_tiny_marian(hf_dir)
            else:
                build_random_marian(hf_dir, full_size=True)
            readable_fillers(hf_dir)
            make_fixed_length(hf_dir)
        description = (
            "tiny random MarianMT (d_model 32, 1+1 layers)"
            if s.model == "tiny"
            else "random-weight MarianMT, opus-mt-zh-en architecture (d_model 512, 6+6 layers, 8 heads, FFN 2048, vocab 65001)"
        )
    else:
        hf_dir = Path(s.model)
        description = f"local model {hf_dir}"
    # The CTranslate2 engine decodes cap - 1 tokens (it does not count </s>) and reads the cap at
    # conversion; the transformers engine decodes cap tokens and reads it at load.
    set_output_cap(hf_dir, s.output_tokens + 1)
    ct2_dir = None
    # the comparison is a CPU figure: without CTranslate2 (a GPU image may lack it) it is skipped
    compare = "compare" in s.sections and importlib.util.find_spec("ctranslate2") is not None
    if s.engine == "ctranslate2" or compare:
        ct2_dir = s.work_dir / f"{hf_dir.name}-ct2-int8-out{s.output_tokens}"
        if not (ct2_dir / "model.bin").exists():
            log(f"converting {hf_dir.name} to CTranslate2 int8")
            convert_model(str(hf_dir), ct2_dir, quantization="int8", force=True)
    if s.engine == "transformers":
        set_output_cap(hf_dir, s.output_tokens)
    return Models(hf_dir, ct2_dir, description)


def make_fixed_length(hf_dir: Path) -> None:
    """Make a random-weight model never end a line early: a large negative output bias on ``</s>``.

    Why: the raw engine and the pipeline fix the output length with ``min == max`` new tokens, but
    the batch flow takes its engine settings from ``localise.config.Settings``, which has no
    decoding options. A model that never says ``</s>`` decodes exactly up to the checkpoint's
    ``generation_config.max_new_tokens`` cap (:func:`set_output_cap`) on every path, so all three
    do the same work. Costs nothing per token (the bias is added to logits that exist anyway)."""
    import torch
    from transformers import AutoModelForSeq2SeqLM

    model = AutoModelForSeq2SeqLM.from_pretrained(str(hf_dir), dtype=torch.float32)
    eos = model.config.eos_token_id
    with torch.no_grad():
        model.final_logits_bias[..., eos] = -1.0e4
    model.save_pretrained(str(hf_dir))


def set_output_cap(hf_dir: Path, cap: int) -> None:
    """``generation_config.max_new_tokens``: the cap an engine applies when not told a length."""
    from transformers import GenerationConfig

    config = GenerationConfig.from_pretrained(str(hf_dir))
    if config.max_new_tokens != cap:
        config.max_new_tokens = cap
        config.save_pretrained(str(hf_dir))


def readable_fillers(hf_dir: Path, seed: int = 7) -> int:
    """Rename ``<filler_n>`` vocabulary entries to unique word pieces; returns how many."""
    path = hf_dir / "vocab.json"
    vocab: dict[str, int] = json.loads(path.read_text(encoding="utf-8"))
    fillers = [tok for tok in vocab if tok.startswith("<filler_")]
    if not fillers:
        return 0
    rng = random.Random(seed)
    onsets = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "ch", "sh", "th", "br", "st"]
    vowels = ["a", "e", "i", "o", "u", "ai", "ou", "ee"]
    taken = set(vocab)
    renamed: dict[str, int] = {}
    for tok in fillers:
        while True:
            word = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.choice((1, 2, 2, 3))))
            piece = "\u2581" + word
            if piece not in taken:
                break
        taken.add(piece)
        renamed[piece] = vocab[tok]
    kept = {tok: i for tok, i in vocab.items() if not tok.startswith("<filler_")}
    merged = {**kept, **renamed}
    ordered = dict(sorted(merged.items(), key=lambda item: item[1]))
    path.write_text(json.dumps(ordered, ensure_ascii=False, indent=1), encoding="utf-8")
    return len(fillers)
