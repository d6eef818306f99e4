"""Reference-based scores through sacrebleu: BLEU, chrF, chrF++ and TER per track, chrF per cue.

Why sacrebleu and its signatures: numbers that anybody can reproduce with the ``sacrebleu``
command line on the same lines (tests check that they match), and a signature string that says
how they were computed.

Tokenisation by target language (BLEU; TER follows for CJK):

* ``zh`` -> ``zh`` (sacrebleu's Chinese tokenizer, the WMT convention);
* ``ja`` -> ``ja-mecab`` where ``mecab-python3`` and ``ipadic`` are installed; otherwise
  ``char`` — 13a would treat a whole unspaced Japanese line as one word, so BLEU would only
  count whole-line matches. The signature (``tok:char``) says which one was used;
* ``ko`` -> ``ko-mecab`` where installed, else ``13a`` (Korean is written with spaces);
* ``th`` (and other unspaced scripts: lo, km, my) -> ``char``, for the same reason as Japanese;
* every other language -> ``13a`` (sacrebleu's default).

TER runs with ``asian_support`` and ``normalized`` for zh, ja, ko and th so CJK text is split into
characters; elsewhere sacrebleu's defaults. chrF ignores tokenisation (characters, as it should).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from localise.quality.text import base_lang

_CHAR_LANGS = {"th", "lo", "km", "my"}
_ASIAN_TER = {"zh", "ja", "ko", "th"}


@lru_cache(maxsize=None)
def _mecab_ok(lang: str) -> bool:
    """Whether sacrebleu's MeCab tokenizer for ``ja``/``ko`` can be built here (dictionaries included)."""
    try:
        if lang == "ja":
            from sacrebleu.tokenizers.tokenizer_ja_mecab import TokenizerJaMecab

            TokenizerJaMecab()
        else:
            from sacrebleu.tokenizers.tokenizer_ko_mecab import TokenizerKoMecab

            TokenizerKoMecab()
        return True
    except Exception:
        return False


def tokenizer_for(lang: str) -> str:
    """The sacrebleu tokenizer name used for BLEU on a target in ``lang`` (see the module doc)."""
    lang = base_lang(lang)
    if lang == "zh":
        return "zh"
    if lang == "ja":
        return "ja-mecab" if _mecab_ok("ja") else "char"
    if lang == "ko":
        return "ko-mecab" if _mecab_ok("ko") else "13a"
    if lang in _CHAR_LANGS:
        return "char"
    return "13a"


def metrics_for(lang: str) -> dict[str, Any]:
    """The sacrebleu metric objects, configured for a target in ``lang``."""
    from sacrebleu.metrics import BLEU, CHRF, TER

    asian = base_lang(lang) in _ASIAN_TER
    return {
        "bleu": BLEU(tokenize=tokenizer_for(lang)),
        "chrf": CHRF(),
        "chrf++": CHRF(word_order=2),
        "ter": TER(normalized=asian, asian_support=asian),
    }


def cli_arguments(lang: str) -> dict[str, list[str]]:
    """The ``sacrebleu`` command-line options that give the same numbers, per metric (for people and tests)."""
    asian = base_lang(lang) in _ASIAN_TER
    return {
        "bleu": ["-m", "bleu", "-tok", tokenizer_for(lang)],
        "chrf": ["-m", "chrf"],
        "chrf++": ["-m", "chrf", "--chrf-word-order", "2"],
        "ter": ["-m", "ter"] + (["--ter-normalized", "--ter-asian-support"] if asian else []),
    }


def _one_line(text: str) -> str:
    """sacrebleu compares lines: a cue's line breaks become spaces (none between CJK letters)."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def reference_scores(hypotheses: Sequence[str], references: Sequence[str], tgt_lang: str) -> dict[str, Any]:
    """Corpus BLEU, chrF, chrF++, TER (score, signature, sacrebleu's verbose line) and chrF per line.

    ``hypotheses`` and ``references`` are plain texts, one per cue, in the same order; a cue's
    line breaks are joined. Raises ``ValueError`` when the counts differ.
    """
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    hyps = [_one_line(h) for h in hypotheses]
    refs = [_one_line(r) for r in references]
    metrics = metrics_for(tgt_lang)
    out: dict[str, Any] = {"segments": len(hyps), "tokenize": tokenizer_for(tgt_lang),
                           "sacrebleu_cli": {k: " ".join(v) for k, v in cli_arguments(tgt_lang).items()}}
    for name, metric in metrics.items():
        result = metric.corpus_score(hyps, [refs])
        out[name] = {
            "score": round(float(result.score), 4),
            "signature": str(metric.get_signature()),
            "verbose": result.format(signature=str(metric.get_signature())),
        }
    chrf = metrics["chrf"]
    out["sentence_chrf"] = [round(float(chrf.sentence_score(h, [r]).score), 4) for h, r in zip(hyps, refs)]
    return out
