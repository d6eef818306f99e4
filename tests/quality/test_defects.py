"""The hand-made defect set (tests/quality/data): every defect flagged with the right code, and
the clean cues of the same files unflagged — in four target languages (ar, en, es, ja)."""

from __future__ import annotations

import pytest

from benchmarks.quality_recall import DATA, evaluate, figures, read_expected
from localise.quality.checks import FLAG_CODES

LANGS = sorted(read_expected(DATA))
#: Codes only a bilingual lexicon raises (misaligned lines): no defect of the set plants them.
LEXICON_CODES = {"misalignment"}


@pytest.fixture(scope="module")
def results():
    return evaluate(DATA)


def test_the_set_covers_every_code_in_at_least_three_languages():
    expected = read_expected(DATA)
    assert len(LANGS) >= 3
    for code in FLAG_CODES:
        if code in LEXICON_CODES:  # needs a bilingual lexicon (zh-en only): tests/quality/test_meaning*.py
            continue
        langs = [lang for lang, cues in expected.items() if any(code in codes for codes, _ in cues.values())]
        assert len(langs) >= 3, f"{code} has defects in {langs} only"


@pytest.mark.parametrize("lang", LANGS)
def test_each_defect_gets_exactly_its_codes(results, lang):
    wrong = [(r.index, sorted(r.expected), sorted(r.found), r.reasons)
             for r in results if r.lang == lang and r.expected and r.found != r.expected]
    assert not wrong


@pytest.mark.parametrize("lang", LANGS)
def test_clean_cues_are_not_flagged(results, lang):
    clean = [r for r in results if r.lang == lang and not r.expected]
    assert len(clean) >= 10
    assert [(r.index, r.reasons) for r in clean if r.found] == []


def test_recall_figures(results):
    fig = figures(results)
    assert set(fig["recall"]) == set(FLAG_CODES) - LEXICON_CODES
    assert all(r["recall"] == 1.0 for r in fig["recall"].values())
    assert all(c["flagged"] == 0 for c in fig["clean_cues"].values())
    assert fig["unexpected"] == []


def test_recall_script_prints_the_figures(capsys):
    from benchmarks.quality_recall import main

    main([])
    out = capsys.readouterr().out
    for code in set(FLAG_CODES) - LEXICON_CODES:
        assert code in out
    assert "false flags on clean cues" in out and "ja:" in out


def test_few_flags_on_real_clean_translations(corpus):
    """3,645 real zh-en pairs taken as correct: under 1 % get a flag (see benchmarks/quality_recall.py)."""
    from benchmarks.quality_recall import real_text_flags

    real = real_text_flags()
    assert real["pairs"] == 3645
    assert real["false_flag_rate"] < 0.01, real["examples"]
