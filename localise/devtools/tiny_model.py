"""Offline MarianMT models with random weights, built from nothing but code.

The Hugging Face Hub cannot be reached from tests or CI, yet the engines must run their real
code paths (``from_pretrained``, the Marian tokenizer, ``generate``, CTranslate2 conversion).
So we train two small SentencePiece models on zh/en lines written here, build a
``MarianTokenizer`` over them and a ``MarianMTModel`` from a ``MarianConfig``, and
``save_pretrained`` both into one folder that loads by path with ``HF_HUB_OFFLINE=1``.

* :func:`build_tiny_marian` — d_model 32, one encoder and one decoder layer: a few seconds, for tests.
  Its output words are noise; tests check structure, never wording.
* :func:`build_random_marian` — the opus-mt-zh-en architecture (d_model 512, 6+6 layers, 8 heads,
  FFN 2048, ``vocab_size`` 65001) with random weights, for benchmarks: it costs what the real model
  costs per token. The SentencePiece vocabularies trained here are much smaller than 65k (there are
  not 65k distinct pieces in a few hundred lines); the rest of the embedding rows are filler entries
  in ``vocab.json`` so every id has a token, as in the real model where the vocabulary is shared.

Command line (used by ``make tiny-model``)::

    python -m localise.devtools.tiny_model OUT [--full-size] [--target-codes es,pt]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SEED = 1234

# A small inventory of common characters and words: enough for SentencePiece to learn pieces
# that cover the dialogue lines of the corpus reasonably (unknown characters become <unk>).
_ZH_CHARS = (
    "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事"
    "其里所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主"
    "没公从知她妈爸哥姐妹弟少爷总裁夫人小姐先生老板公司钱房车爱恨走吗呢吧啊哦嗯快别回来谁什怎样为何真假"
    "想要给让被把再就都很太最更已经正在马上今明昨晚早点钟王李张刘陈杨赵黄周吴林叶沈顾陆苏"
)
_ZH_PUNCT = ["。", "！", "？", "，", "…", "、"]
_EN_WORDS = (
    "the a and to of I you he she we they it is are was were be have has do did not no yes what why how "
    "who where when this that there here my your his her our their me him them come go went gone back now "
    "today tomorrow night morning mother father brother sister young master president madam miss sir boss "
    "company money house car love hate really please sorry thank know think want need give take tell ask "
    "never always again still already just very too more most good bad right wrong true false wait stop"
).split()
_EN_PUNCT = [".", "!", "?", ",", "..."]

# Helsinki-NLP/opus-mt-zh-en's config.json: d_model 512, 6+6 layers, 8 heads, FFN 2048, 65001 tokens.
OPUS_MT_ZH_EN = {"d_model": 512, "layers": 6, "heads": 8, "ffn": 2048, "vocab_size": 65001}
MID_SIZE = {"d_model": 256, "layers": 3, "heads": 4, "ffn": 1024, "vocab_size": 16001}

SPECIAL_TOKENS = ("</s>", "<unk>")  # ids 0 and 1, as in the opus-mt vocabularies; <pad> comes last


def sample_lines(n: int = 400, seed: int = SEED) -> tuple[list[str], list[str]]:
    """``n`` Chinese-looking and ``n`` English-looking lines, deterministic for a seed."""
    rng = random.Random(seed)
    zh: list[str] = []
    en: list[str] = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 3)):
            parts.append("".join(rng.choice(_ZH_CHARS) for _ in range(rng.randint(2, 12))))
            parts.append(rng.choice(_ZH_PUNCT))
        zh.append("".join(parts))
        words = [rng.choice(_EN_WORDS) for _ in range(rng.randint(2, 14))]
        words[0] = words[0].capitalize()
        en.append(" ".join(words) + rng.choice(_EN_PUNCT))
    return zh, en


def _train_spm(lines: Sequence[str], prefix: Path, vocab_size: int, character_coverage: float) -> Path:
    """Train a unigram SentencePiece model like the opus-mt ones (no BOS/EOS/PAD in the spm itself)."""
    import sentencepiece as spm

    text = prefix.with_suffix(".txt")
    text.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(text),
        model_prefix=str(prefix),
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=character_coverage,
        hard_vocab_limit=False,  # a few hundred lines may not support the requested size
        bos_id=-1,
        eos_id=-1,
        pad_id=-1,
        unk_id=0,
        num_threads=1,
        minloglevel=2,
    )
    return prefix.with_suffix(".model")


def _vocab(spm_paths: Sequence[Path], target_codes: Sequence[str], size: int | None) -> dict[str, int]:
    """The shared Marian vocabulary: ``</s>`` 0, ``<unk>`` 1, language tokens, the pieces of both
    SentencePiece models, filler up to ``size - 1`` entries, and ``<pad>`` last (as opus-mt has it)."""
    import sentencepiece as spm

    tokens: list[str] = list(SPECIAL_TOKENS)
    tokens += [f">>{code}<<" for code in target_codes]
    seen = set(tokens)
    for path in spm_paths:
        proc = spm.SentencePieceProcessor(model_file=str(path))
        for i in range(proc.get_piece_size()):
            piece = proc.id_to_piece(i)
            if piece not in seen and piece != "<unk>":
                seen.add(piece)
                tokens.append(piece)
    if size is not None:
        if size - 1 < len(tokens):
            raise ValueError(f"vocabulary of {len(tokens) + 1} tokens does not fit vocab_size {size}")
        tokens += [f"<filler_{i}>" for i in range(size - 1 - len(tokens))]
    tokens.append("<pad>")
    return {tok: i for i, tok in enumerate(tokens)}


def _build(
    out_dir: str | Path,
    *,
    d_model: int,
    layers: int,
    heads: int,
    ffn: int,
    vocab_size: int | None,
    spm_vocab: int,
    max_positions: int,
    target_codes: Sequence[str],
    seed: int,
    init_std: float = 0.02,
    max_new_tokens: int | None = None,
) -> Path:
    import torch
    from transformers import GenerationConfig, MarianConfig, MarianMTModel, MarianTokenizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    zh, en = sample_lines(seed=seed)
    with tempfile.TemporaryDirectory(prefix="tiny-spm-") as tmp:
        work = Path(tmp)
        source_spm = _train_spm(zh, work / "source", spm_vocab, character_coverage=1.0)
        target_spm = _train_spm(en, work / "target", spm_vocab, character_coverage=1.0)
        vocab = _vocab([source_spm, target_spm], target_codes, vocab_size)
        vocab_file = work / "vocab.json"
        vocab_file.write_text(json.dumps(vocab, ensure_ascii=False, indent=1), encoding="utf-8")
        tokenizer = MarianTokenizer(
            source_spm=str(source_spm),
            target_spm=str(target_spm),
            vocab=str(vocab_file),
            source_lang="zh",
            target_lang="en",
            model_max_length=max_positions,
        )
        tokenizer.save_pretrained(out)

    pad_id = vocab["<pad>"]
    config = MarianConfig(
        vocab_size=len(vocab),
        decoder_vocab_size=len(vocab),
        d_model=d_model,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=heads,
        decoder_attention_heads=heads,
        encoder_ffn_dim=ffn,
        decoder_ffn_dim=ffn,
        max_position_embeddings=max_positions,
        activation_function="swish",
        scale_embedding=True,
        pad_token_id=pad_id,
        decoder_start_token_id=pad_id,
        eos_token_id=0,
        forced_eos_token_id=0,
        share_encoder_decoder_embeddings=True,
        tie_word_embeddings=True,
        init_std=init_std,
    )
    torch.manual_seed(seed)
    model = MarianMTModel(config).eval()
    # The same decoding defaults the opus-mt checkpoints ship (never emit <pad>; eos id 0).
    model.generation_config = GenerationConfig(
        bad_words_ids=[[pad_id]],
        decoder_start_token_id=pad_id,
        pad_token_id=pad_id,
        eos_token_id=0,
        forced_eos_token_id=0,
        max_length=max_positions,
        num_beams=1,
        # A random model never chooses </s>; this keeps its noise short (the engines honour a
        # checkpoint's max_new_tokens as a cap on their own default). Benchmarks set their own.
        max_new_tokens=max_new_tokens,
    )
    model.save_pretrained(out)
    (out / "TINY_MODEL.md").write_text(
        "Random-weight MarianMT built offline by localise.devtools.tiny_model; its words are noise.\n"
        f"d_model={d_model} layers={layers}+{layers} heads={heads} ffn={ffn} vocab_size={len(vocab)} "
        f"sentencepiece pieces≈{spm_vocab} per side, seed={seed}\n",
        encoding="utf-8",
    )
    return out


def build_tiny_marian(
    out_dir: str | Path,
    *,
    target_codes: Sequence[str] = (),
    max_positions: int = 512,
    seed: int = SEED,
) -> Path:
    """Build a MarianMT with d_model 32 and one encoder and one decoder layer into ``out_dir``.

    ``target_codes`` (e.g. ``("es", "pt")``) adds ``>>es<<``-style tokens, making it a multi-target
    model like ``opus-mt-en-ROMANCE``; ``max_positions`` sets the model's input limit.
    Takes a few seconds; returns ``out_dir``.
    """
    return _build(
        out_dir,
        d_model=32,
        layers=1,
        heads=2,
        ffn=64,
        vocab_size=None,
        spm_vocab=400,
        max_positions=max_positions,
        target_codes=target_codes,
        seed=seed,
        init_std=0.5,  # with 0.02 a 32-wide random model says the same thing for every input
        max_new_tokens=32,
    )


def build_random_marian(out_dir: str | Path, full_size: bool = True, *, seed: int = SEED) -> Path:
    """The opus-mt-zh-en architecture with random weights, for benchmarks.

    ``full_size=True``: d_model 512, 6+6 layers, 8 heads, FFN 2048, ``vocab_size`` 65001 (as
    Helsinki-NLP/opus-mt-zh-en). The SentencePiece models are small (≈2k pieces trained on generated
    lines), so the tokenizer produces more pieces per line than the real one would and most of the
    65k rows are filler tokens; compute per token (embeddings, attention, the 65k-way output
    projection) is the real model's. ``full_size=False`` gives a mid-size model (d_model 256, 3+3).
    """
    dims = OPUS_MT_ZH_EN if full_size else MID_SIZE
    return _build(out_dir, spm_vocab=2000, max_positions=512, target_codes=(), seed=seed, **dims)  # type: ignore[arg-type]


def build_tiny_m2m100(out_dir: str | Path, *, seed: int = SEED) -> Path:
    """A tiny M2M100 (d_model 32, one layer each side) with an ``M2M100Tokenizer`` over one
    SentencePiece model trained on the zh and en lines: tests the ``__zh__``/``__en__`` language
    tokens and the forced first target token through the real code paths."""
    from transformers import M2M100Tokenizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    zh, en = sample_lines(seed=seed)
    with tempfile.TemporaryDirectory(prefix="tiny-m2m-") as tmp:
        work = Path(tmp)
        spm_path = _train_spm(zh + en, work / "spm", 600, character_coverage=1.0)
        import sentencepiece as spm

        proc = spm.SentencePieceProcessor(model_file=str(spm_path))
        vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
        for i in range(proc.get_piece_size()):
            vocab.setdefault(proc.id_to_piece(i), len(vocab))
        vocab_file = work / "vocab.json"
        vocab_file.write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        tokenizer = M2M100Tokenizer(str(vocab_file), str(spm_path), src_lang="zh", tgt_lang="en", model_max_length=256)
        tokenizer.save_pretrained(out)
    # Language tokens (and 8 "madeup" words) sit after the SentencePiece vocabulary.
    top = max([len(tokenizer)] + [tokenizer.get_lang_id(code) + 1 for code in tokenizer.lang_code_to_token])
    return _save_tiny_m2m100(out, tokenizer, vocab_size=top + 8, max_positions=256, max_new_tokens=24, seed=seed,
                             with_bos=True)


def build_tiny_nllb(out_dir: str | Path, *, seed: int = SEED) -> Path:
    """A tiny M2M100-architecture model with an ``NllbTokenizer`` built from code (its vocabulary is
    the special and FLORES-200 language tokens only, so every word is ``<unk>`` and outputs are
    empty): tests the ``zho_Hans``/``eng_Latn`` conventions and conversion, not words."""
    from transformers import NllbTokenizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = NllbTokenizer(src_lang="zho_Hans", tgt_lang="eng_Latn")
    tokenizer.save_pretrained(out)
    return _save_tiny_m2m100(out, tokenizer, vocab_size=max(tokenizer.get_vocab().values()) + 1,
                             max_positions=128, max_new_tokens=8, seed=seed, with_bos=False)


def _save_tiny_m2m100(out: Path, tokenizer: Any, *, vocab_size: int, max_positions: int, max_new_tokens: int,
                      seed: int, with_bos: bool) -> Path:
    """A d_model-32, one-layer M2M100 for ``tokenizer``, saved beside it (the M2M100 and NLLB builders)."""
    import torch
    from transformers import GenerationConfig, M2M100Config, M2M100ForConditionalGeneration

    config = M2M100Config(
        vocab_size=vocab_size,
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=max_positions,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        init_std=0.5,
    )
    torch.manual_seed(seed)
    model = M2M100ForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(
        decoder_start_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        max_new_tokens=max_new_tokens,
        **({"bos_token_id": tokenizer.bos_token_id} if with_bos else {}),
    )
    model.save_pretrained(out)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m localise.devtools.tiny_model", description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder to write the model into")
    parser.add_argument("--full-size", action="store_true", help="opus-mt-zh-en architecture (benchmarks)")
    parser.add_argument("--target-codes", default="", help="comma-separated >>xx<< target tokens to add")
    args = parser.parse_args(argv)
    if args.full_size:
        path = build_random_marian(args.out, full_size=True)
    else:
        codes = [c for c in args.target_codes.split(",") if c]
        path = build_tiny_marian(args.out, target_codes=codes)
    print(path)


if __name__ == "__main__":
    main()
