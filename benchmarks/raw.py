"""The raw engine: the model called directly on a list of strings, with nothing of localise around it.

This is the ceiling the pipeline is measured against: tokenise, ``translate_batch`` (CTranslate2)
or ``generate`` (transformers), detokenise — the least any code must do to translate those lines.
Decoding is greedy and the output length is fixed (``min == max``), so every run does the same work
whatever the random weights say, and lines/s and tokens/s are comparable between engines.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RunStats:
    """What one measured pass did and how long each part took (seconds)."""

    lines: int
    input_tokens: int
    output_tokens: int
    wall_s: float
    tokenise_s: float = 0.0
    decode_s: float = 0.0
    detokenise_s: float = 0.0
    batches: int | None = None  # unknown where CTranslate2 cuts the batches itself
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def lines_per_s(self) -> float:
        return self.lines / self.wall_s if self.wall_s else 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.output_tokens / self.wall_s if self.wall_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("extra")
        out.update(self.extra)
        out["wall_s"] = round(self.wall_s, 3)
        for key in ("tokenise_s", "decode_s", "detokenise_s"):
            out[key] = round(out[key], 3)
        out["lines_per_s"] = round(self.lines_per_s, 2)
        out["tokens_per_s"] = round(self.tokens_per_s, 1)
        return out


def load_tokenizer(model_dir: str | Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir))


def tokenise_pieces(tokenizer: Any, texts: Sequence[str]) -> list[list[str]]:
    """SentencePiece pieces per text, ``</s>`` included (what CTranslate2 takes)."""
    encoded = tokenizer(list(texts), add_special_tokens=True)["input_ids"]
    return [tokenizer.convert_ids_to_tokens(ids) for ids in encoded]


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of ``batch_size`` after sorting by length, so padding is small.
    The same grouping is given to both engines when they are compared."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


# --------------------------------------------------------------------------------------- CTranslate2


def load_ct2(ct2_dir: str | Path, *, device: str = "cpu", compute_type: str = "int8", threads: int = 0) -> Any:
    import ctranslate2

    return ctranslate2.Translator(
        str(ct2_dir), device=device, compute_type=compute_type, inter_threads=1, intra_threads=threads
    )


def ct2_translate(
    translator: Any,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    output_tokens: int,
    max_batch_size: int,
    batch_type: str = "examples",
    pieces: list[list[str]] | None = None,
    return_scores: bool = False,
) -> tuple[list[str], RunStats]:
    """Translate ``texts`` with one ``translate_batch`` call (CTranslate2 sorts by length and splits
    into ``max_batch_size`` batches itself). Tokenising and detokenising are timed in.

    ``return_scores=True`` is what an engine that reports a confidence per line must ask for: it
    makes CTranslate2 normalise every step over the whole vocabulary (65k exps per token)."""
    t0 = time.perf_counter()
    if pieces is None:
        pieces = tokenise_pieces(tokenizer, texts)
    t1 = time.perf_counter()
    results = translator.translate_batch(
        pieces,
        max_batch_size=max_batch_size,
        batch_type=batch_type,
        beam_size=1,
        min_decoding_length=output_tokens,
        max_decoding_length=output_tokens,
        return_scores=return_scores,
    )
    t2 = time.perf_counter()
    hyps = [r.hypotheses[0] for r in results]
    outputs = [tokenizer.convert_tokens_to_string(h) for h in hyps]
    t3 = time.perf_counter()
    stats = RunStats(
        lines=len(texts),
        input_tokens=sum(len(p) for p in pieces),
        output_tokens=sum(len(h) for h in hyps),
        wall_s=t3 - t0,
        tokenise_s=t1 - t0,
        decode_s=t2 - t1,
        detokenise_s=t3 - t2,
        batches=-(-len(texts) // max_batch_size) if batch_type == "examples" else None,
    )
    return outputs, stats


def ct2_on_batches(translator: Any, pieces: list[list[str]], batches: list[list[int]], output_tokens: int) -> RunStats:
    """Decode exactly the given batches (no re-batching), for a like-for-like engine comparison."""
    out_tokens = 0
    t0 = time.perf_counter()
    for batch in batches:
        results = translator.translate_batch(
            [pieces[i] for i in batch],
            max_batch_size=len(batch),
            beam_size=1,
            min_decoding_length=output_tokens,
            max_decoding_length=output_tokens,
        )
        out_tokens += sum(len(r.hypotheses[0]) for r in results)
    wall = time.perf_counter() - t0
    n = sum(len(b) for b in batches)
    return RunStats(n, sum(len(pieces[i]) for b in batches for i in b), out_tokens, wall, decode_s=wall, batches=len(batches))


# ------------------------------------------------------------------------------------- transformers


def load_hf(model_dir: str | Path, *, device: str = "cpu", dtype: str = "float32") -> Any:
    import torch
    from transformers import AutoModelForSeq2SeqLM

    model = AutoModelForSeq2SeqLM.from_pretrained(str(model_dir), dtype=getattr(torch, dtype))
    model.generation_config.max_length = None  # the length is max_new_tokens, not the checkpoint's 512
    return model.to(device).eval()


def hf_on_batches(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    batches: list[list[int]],
    *,
    output_tokens: int,
    device: str = "cpu",
    pad_to_multiple_of: int | None = None,
    detokenise: bool = True,
) -> tuple[list[str], RunStats]:
    """``generate`` on the given batches (greedy, exactly ``output_tokens`` new tokens per line).

    ``pad_to_multiple_of`` rounds the padded input length up (8 or 16 on a GPU) so the same few
    shapes repeat and kernels/allocations are reused from the first pass on."""
    import torch

    outputs: list[str] = [""] * len(texts)
    tokenise_s = decode_s = detok_s = 0.0
    in_tokens = out_tokens = 0
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    t_start = time.perf_counter()
    with torch.inference_mode():
        for batch in batches:
            t0 = time.perf_counter()
            enc = tokenizer(
                [texts[i] for i in batch], return_tensors="pt", padding=True, pad_to_multiple_of=pad_to_multiple_of
            ).to(device)
            t1 = time.perf_counter()
            generated = model.generate(
                **enc,
                num_beams=1,
                do_sample=False,
                min_new_tokens=output_tokens,
                max_new_tokens=output_tokens,
            )
            sync()
            t2 = time.perf_counter()
            new = generated[:, 1:]  # drop the decoder start token
            if detokenise:
                texts_out = tokenizer.batch_decode(new, skip_special_tokens=True)
                for i, text in zip(batch, texts_out):
                    outputs[i] = text
            t3 = time.perf_counter()
            in_tokens += int(enc["attention_mask"].sum())
            out_tokens += int(new.shape[0] * new.shape[1])
            tokenise_s += t1 - t0
            decode_s += t2 - t1
            detok_s += t3 - t2
    wall = time.perf_counter() - t_start
    n = sum(len(b) for b in batches)
    return outputs, RunStats(n, in_tokens, out_tokens, wall, tokenise_s, decode_s, detok_s, len(batches))
