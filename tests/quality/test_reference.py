"""Reference metrics equal sacrebleu's own command line on the same lines: same signature, same numbers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from localise.io import read_track
from localise.quality.checks import align_by_time
from localise.quality.reference import cli_arguments, reference_scores, tokenizer_for
from localise.quality.text import plain_text

SACREBLEU = Path(sys.executable).with_name("sacrebleu")
PAIRS = {
    # (hypothesis, reference, target language): two translations of the same source track
    "en": ("test__data__test_cn_multiline.srt.out_Custom.srt", "test__data__test_cn_multiline.srt.out_English.srt"),
    "zh": ("test__data__test_ja_small.srt.out_Chinese.srt", "test__data__test_ja.srt.out_Chinese.srt"),
}


def lines(track) -> list[str]:
    return [" ".join(plain_text(c.text, track.format).split("\n")) for c in track.cues]


def run_cli(ref: Path, hyp: Path, args: list[str]) -> dict:
    out = subprocess.run([str(SACREBLEU), str(ref), "-i", str(hyp), "-w", "4", "-f", "json", *args],
                         check=True, capture_output=True, text=True, timeout=120).stdout
    data = json.loads(out)
    return data[0] if isinstance(data, list) else data


@pytest.mark.parametrize("lang", sorted(PAIRS))
def test_corpus_scores_equal_the_sacrebleu_cli(corpus, tmp_path, lang):
    folder = corpus / "Cerlancism__chatgpt-subtitle-translator"
    hyp_track = read_track(folder / PAIRS[lang][0])
    ref_track = align_by_time(read_track(folder / PAIRS[lang][1]), hyp_track)  # the reference runs longer
    hyps, refs = lines(hyp_track), lines(ref_track)
    assert len(hyps) == len(refs) >= 5
    hyp_file, ref_file = tmp_path / "hyp.txt", tmp_path / "ref.txt"
    hyp_file.write_text("\n".join(hyps) + "\n", encoding="utf-8")
    ref_file.write_text("\n".join(refs) + "\n", encoding="utf-8")

    ours = reference_scores(hyps, refs, lang)
    for metric, args in cli_arguments(lang).items():
        cli = run_cli(ref_file, hyp_file, args)
        assert ours[metric]["signature"] == cli["signature"], metric
        assert ours[metric]["score"] == pytest.approx(cli["score"], abs=1e-4), metric
    assert ours["bleu"]["signature"].split("|")[3] == f"tok:{tokenizer_for(lang)}"
    assert len(ours["sentence_chrf"]) == len(hyps) and ours["sentence_chrf"][0] == 100.0  # "Good morning." both


def test_tokenizer_per_language():
    assert tokenizer_for("zh") == "zh" and tokenizer_for("zh-Hans") == "zh"
    assert tokenizer_for("en") == "13a" and tokenizer_for("pt-BR") == "13a" and tokenizer_for("ar") == "13a"
    assert tokenizer_for("th") == "char"
    try:
        import MeCab  # noqa: F401
        import ipadic  # noqa: F401

        assert tokenizer_for("ja") == "ja-mecab"
    except ImportError:
        assert tokenizer_for("ja") == "char"  # the documented fallback where MeCab is not installed


def test_japanese_scores_carry_the_tokenizer_in_the_signature():
    scores = reference_scores(["明日また会おう。"], ["また明日会おう。"], "ja")
    assert f"tok:{tokenizer_for('ja')}" in scores["bleu"]["signature"]
    assert "asian:yes" in scores["ter"]["signature"]
    assert 0 < scores["chrf"]["score"] < 100


def test_counts_must_match():
    with pytest.raises(ValueError, match="2 hypotheses for 1 references"):
        reference_scores(["a", "b"], ["a"], "en")
