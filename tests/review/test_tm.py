from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localise.errors import ReviewError
from localise.review import TranslationMemory
from localise.review.text import source_key


@pytest.fixture
def memory(tmp_path: Path) -> TranslationMemory:
    tm = TranslationMemory(f"sqlite:///{tmp_path / 'tm.db'}", series="dragon")
    tm.add("我是林总。", "I am President Lin.", "zh", "en")
    tm.add("林总来了。", "President Lin is here.", "zh", "en")
    tm.add("我是林总。", "Soy el presidente Lin.", "zh", "es")
    return tm


def test_exact_match_normalises_line_breaks_and_markup(memory: TranslationMemory) -> None:
    assert memory.exact("我是\n<i>林总</i>。", "zh", "en") == "I am President Lin."
    assert memory.exact("我是林总", "zh", "en") is None
    assert memory.exact_many(["我是林总。", "没有", ""], "zh", "es") == ["Soy el presidente Lin.", None, None]


def test_later_review_replaces_entry(memory: TranslationMemory) -> None:
    memory.add("我是林总。", "I'm President Lin.", "zh", "en")
    assert memory.exact("我是林总。", "zh", "en") == "I'm President Lin."
    assert len(memory.entries("zh", "en")) == 2


def test_fuzzy_matches_best_first(memory: TranslationMemory) -> None:
    matches = memory.fuzzy("我是林总吗？", "zh", "en")
    assert matches[0].target == "I am President Lin."
    assert 0.6 <= matches[0].score < 1
    assert memory.fuzzy("完全不同的句子", "zh", "en") == []


def test_series_is_required_and_separates_entries(tmp_path: Path) -> None:
    tm = TranslationMemory(f"sqlite:///{tmp_path / 'tm.db'}")
    with pytest.raises(ReviewError, match="no series"):
        tm.exact("你好", "zh", "en")
    tm.add("你好", "Hi", "zh", "en", series="a")
    assert tm.for_series("b").exact("你好", "zh", "en") is None


def test_pickles_as_url_and_series(memory: TranslationMemory) -> None:
    again = pickle.loads(pickle.dumps(memory))
    assert again.series == "dragon"
    assert again.exact("我是林总。", "zh", "en") == "I am President Lin."


def test_tmx_round_trip_and_translate_toolkit_reads_it(memory: TranslationMemory, tmp_path: Path) -> None:
    from translate.storage import tmx

    text = memory.export_tmx("zh", "en")
    units = tmx.tmxfile.parsestring(text.encode()).units
    assert {(u.source, u.target) for u in units} == {("我是林总。", "I am President Lin."),
                                                      ("林总来了。", "President Lin is here.")}
    other = TranslationMemory(f"sqlite:///{tmp_path / 'other.db'}", series="x")
    assert other.import_tmx(memory.export_tmx("zh", series="dragon")) == 3
    # the x-series property wins over the bound series
    assert other.for_series("dragon").exact("我是林总。", "zh", "es") == "Soy el presidente Lin."


def test_tmx_written_by_translate_toolkit_imports(tmp_path: Path) -> None:
    from translate.storage import tmx

    store = tmx.tmxfile(sourcelanguage="zh", targetlanguage="en")
    store.addtranslation("今天很好", "zh", "Today is good", "en")
    tm = TranslationMemory(f"sqlite:///{tmp_path / 'tm.db'}", series="s")
    assert tm.import_tmx(bytes(store)) == 1
    assert tm.exact("今天很好", "zh", "en") == "Today is good"


def test_tmx_with_entities_is_refused(tmp_path: Path) -> None:
    tm = TranslationMemory(f"sqlite:///{tmp_path / 'tm.db'}", series="s")
    evil = ('<?xml version="1.0"?><!DOCTYPE tmx [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            '<tmx version="1.4"><header srclang="zh"/><body><tu><tuv xml:lang="zh"><seg>&x;</seg></tuv>'
            '</tu></body></tmx>')
    with pytest.raises(ReviewError, match="refused"):
        tm.import_tmx(evil)
    assert tm.entries(all_series=True) == []


_cjk = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(st.lists(_cjk, min_size=1, max_size=4), st.sampled_from(["", " ", "\n", " \n "]))
def test_source_key_ignores_breaks_between_cjk(parts: list[str], sep: str) -> None:
    assert source_key(sep.join(parts)) == source_key("".join(parts))


_words = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="<>{}\\"),
                 min_size=1, max_size=40).map(lambda s: " ".join(s.split())).filter(bool)


@settings(max_examples=40, deadline=None)
@given(pairs=st.lists(st.tuples(_words, _words), min_size=1, max_size=5, unique_by=lambda p: source_key(p[0])))
def test_tmx_round_trip_any_text(tmp_path_factory, pairs: list[tuple[str, str]]) -> None:
    """Whatever the words, TMX export then import gives back every entry exactly."""
    folder = tmp_path_factory.mktemp("tmx")
    tm = TranslationMemory(f"sqlite:///{folder / 'a.db'}", series="s")
    for source, target in pairs:
        tm.add(source, target, "zh", "en")
    again = TranslationMemory(f"sqlite:///{folder / 'b.db'}", series="s")
    assert again.import_tmx(tm.export_tmx("zh", "en")) == len(pairs)
    assert {(e.source, e.target) for e in again.entries("zh", "en")} == {(e.source, e.target) for e in tm.entries("zh", "en")}
