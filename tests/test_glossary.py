"""Glossaries: loading (CSV with/without BOM, TBX, malformed files), matching, enforcement, verification.

Enforcement is tested against engines whose behaviour the test controls: plain functions that
"translate" by replacing the Chinese characters with filler words and then keep, drop, change,
re-case or split the protected term — what real Marian models do to inserted names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localise.errors import GlossaryError
from localise.glossary import Glossary, TermEntry
from localise.model import Track, Cue
from localise.units import build_units, spread

DATA = Path(__file__).parent / "data" / "glossary"


@pytest.fixture(scope="module")
def series() -> Glossary:
    return Glossary.load(DATA / "series.csv")


def write(tmp_path: Path, content: str | bytes, name: str = "g.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# --------------------------------------------------------------------------------------------
# Loading


def test_csv_with_bom_and_without_give_the_same_glossary(tmp_path: Path, series: Glossary) -> None:
    raw = (DATA / "series.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    plain = Glossary.load(write(tmp_path, raw[3:]))
    assert plain.version == series.version
    assert [e.term for e in plain] == [e.term for e in series]
    assert series.source_lang == "zh"
    assert set(series.languages) == {"en", "es", "th"}


def test_csv_columns_case_and_notes(series: Glossary) -> None:
    by_term = {e.term: e for e in series}
    assert by_term["天启集团"].targets["es"] == "Grupo Tianqi"
    assert by_term["Boss"].case_sensitive is False
    assert by_term["李伟"].case_sensitive is True
    assert "notes" not in by_term["李伟"].targets
    assert by_term["Boss"].targets["th"] == ""  # empty cell: no rule for th


def test_crlf_tsv_and_comment_rows(tmp_path: Path) -> None:
    g = Glossary.load(write(tmp_path, "# series X\r\nzh\ten\r\n李伟\tLi Wei\r\n\r\n", "g.tsv"))
    assert [(e.term, e.targets) for e in g] == [("李伟", {"en": "Li Wei"})]


def test_version_is_a_content_hash(tmp_path: Path, series: Glossary) -> None:
    a = Glossary.load(write(tmp_path, "zh,en\n李伟,Li Wei\n", "a.csv"))
    b = Glossary.load(write(tmp_path, "\ufeffzh,en\r\n李伟,Li Wei\r\n", "b.csv"))
    c = Glossary.load(write(tmp_path, "zh,en\n李伟,Li  Wei\n", "c.csv"))
    d = Glossary.load(write(tmp_path, "zh,en,case\n李伟,Li Wei,insensitive\n", "d.csv"))
    assert a.version == b.version
    assert len({a.version, c.version, d.version}) == 3
    assert re.fullmatch(r"sha256:[0-9a-f]{16}", series.version)


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        ("", 1, "empty"),
        ("zh\n李伟\n", 1, "at least one target"),
        ("zh,english\n李伟,Li Wei\n", 1, "not a language code"),
        ("zh;en\n李伟;Li Wei\n", 1, "';'-separated"),
        ("zh,en,en\n李伟,Li Wei,Li\n", 1, "twice"),
        ("zh,en\n李伟,Li Wei\n王芳,Wang, Fang\n", 3, "columns"),
        ("zh,en,es\n李伟,Li Wei,Li Wei\n王芳,Wang Fang\n", 3, "2 columns but the header (line 1) has 3"),
        ("zh,en,case\n李伟,Li Wei\n", 2, "2 columns but the header"),
        ("zh,en\n李伟,Li Wei\n,Wang Fang\n", 3, "empty source term"),
        ("zh,en\n李伟,Li Wei\n王芳,Wang Fang\n李伟,Lee Way\n", 4, "also on line 2"),
        ("zh,en,case\n李伟,Li Wei,maybe\n", 2, "case must be"),
        ('zh,en\n李伟,"Li Wei\n', 2, "malformed CSV"),
    ],
)
def test_malformed_csv_names_file_and_line(tmp_path: Path, content: str, line: int, words: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(GlossaryError) as info:
        Glossary.load(path)
    err = info.value
    assert err.path == str(path) and err.line == line
    assert words in str(err)
    assert str(err).startswith(f"{path}:{line}: ")


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "zh,en\n李伟,Li Wei\n".encode("utf-8") + "王芳,Wang Fang\n".encode("gb18030"))
    with pytest.raises(GlossaryError) as info:
        Glossary.load(path)
    assert info.value.line == 3 and "UTF-8" in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(GlossaryError) as info:
        Glossary.load(tmp_path / "nope.csv")
    assert "nope.csv" in str(info.value)


def test_tbx_v2_with_synonyms_and_doctype() -> None:
    g = Glossary.load(DATA / "series.tbx")
    assert g.source_lang == "zh"
    by_term = {e.term: e.targets for e in g}
    assert by_term["李伟"] == {"en": "Li Wei", "th": "หลี่เว่ย"}
    assert by_term["总裁"] == by_term["老板"] == {"en": "CEO"}  # source synonyms, first target preferred
    assert "orphan" not in by_term  # no source-language term: nothing to match


def test_tbx_v3_namespaced() -> None:
    g = Glossary.load(DATA / "series-v3.tbx")
    assert [(e.term, e.targets) for e in g] == [("林小雨", {"en": "Lin Xiaoyu", "es": "Lin Xiaoyu"})]


def test_tbx_source_language_argument() -> None:
    g = Glossary.load(DATA / "series-v3.tbx", source_lang="en")
    assert [(e.term, e.targets) for e in g] == [("Lin Xiaoyu", {"zh": "林小雨", "es": "Lin Xiaoyu"})]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("<martif><text><body><termEntry>", "malformed TBX"),
        ("<html><body/></html>", "not a TBX file"),
        ('<!DOCTYPE m [<!ENTITY a "aaaa">]><martif>&a;</martif>', "refused"),
        ('<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><martif>&x;</martif>', "refused"),
    ],
)
def test_malformed_or_hostile_tbx(tmp_path: Path, content: str, words: str) -> None:
    with pytest.raises(GlossaryError) as info:
        Glossary.load(write(tmp_path, content, "g.tbx"))
    assert words in str(info.value)
    assert "g.tbx" in str(info.value)


def test_malformed_tbx_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '<martif xml:lang="zh">\n<text>\n<body>\n<termEntry>\n</martif>\n', "g.tbx")
    with pytest.raises(GlossaryError) as info:
        Glossary.load(path)
    assert info.value.line == 5


# --------------------------------------------------------------------------------------------
# Matching


def test_longest_first_and_nested_terms(series: Glossary) -> None:
    text = "霸道总裁李伟见了总裁和李先生"
    found = [(m.term, m.start, m.end) for m in series.find(text)]
    assert found == [("霸道总裁", 0, 4), ("李伟", 4, 6), ("总裁", 8, 10), ("李", 11, 12)]


def test_longest_first_beats_leftmost() -> None:
    g = Glossary([TermEntry("甲乙", {"en": "x"}), TermEntry("乙丙丁", {"en": "y"})])
    assert [m.term for m in g.find("甲乙丙丁")] == ["乙丙丁"]  # not the leftmost "甲乙"
    g2 = Glossary([TermEntry("小雨", {"en": "drizzle"}), TermEntry("林小雨", {"en": "Lin Xiaoyu"})])
    assert [m.term for m in g2.find("林小雨和小雨")] == ["林小雨", "小雨"]


def test_latin_terms_case_sensitive_unless_entry_says_otherwise() -> None:
    g = Glossary([TermEntry("Rose", {"es": "Rosa"}), TermEntry("Boss", {"es": "Jefe"}, case_sensitive=False)])
    assert [m.term for m in g.find("Rose bought a rose")] == ["Rose"]
    assert [(m.term, m.start) for m in g.find("BOSS, boss and Boss")] == [("Boss", 0), ("Boss", 6), ("Boss", 15)]


def test_latin_terms_match_whole_words_only() -> None:
    g = Glossary([TermEntry("Li", {"en": "Lee"})])
    assert [m.start for m in g.find("Lisa and Li, Li's friend, Eli")] == [9, 13]
    assert [m.start for m in g.find("我是Li你好")] == [2]  # next to CJK is a boundary


# --------------------------------------------------------------------------------------------
# Enforcement with controlled engines

Engine = Callable[[str], str]


def filler(text: str) -> str:
    """A controlled 'translation': Chinese runs become filler words; Latin text and placeholders stay."""
    return " ".join(re.sub(r"[\u4e00-\u9fff，。！？、]+", " la ", text).split())


def keep(text: str) -> str:
    return filler(text)


def drop(term: str) -> Engine:
    return lambda text: filler(text).replace(term, "")


def change(term: str, into: str) -> Engine:
    return lambda text: filler(text).replace(term, into)


def run(g: Glossary, source: str, lang: str, engine: Engine) -> tuple[str, list]:
    enforced = g.enforce(source, lang)
    out = enforced.restore(engine(enforced.text))
    return out, g.verify(source, out, lang)


def test_keeping_engine_gets_no_flag(series: Glossary) -> None:
    out, flags = run(series, "李伟是天启集团的霸道总裁。", "en", keep)
    assert "Li Wei" in out and "Tianqi Group" in out and "domineering CEO" in out
    assert flags == []


def test_source_gets_the_target_term_inline(series: Glossary) -> None:
    enforced = series.enforce("李伟是天启集团的霸道总裁。", "es")
    assert enforced.text == "Li Wei 是 Grupo Tianqi 的 director autoritario。"
    assert [p.placeholder for p in enforced.protections] == [False, False, False]


@pytest.mark.parametrize(
    "engine",
    [drop("Li Wei"), change("Li Wei", "Lee Way"), change("Li Wei", "Liwen"), lambda t: "Something else entirely."],
)
def test_engine_that_drops_or_changes_the_term_gets_the_line_flagged(series: Glossary, engine: Engine) -> None:
    out, flags = run(series, "李伟来了。", "en", engine)
    assert "Li Wei" not in out
    assert len(flags) == 1
    flag = flags[0]
    assert (flag.code, flag.severity) == ("glossary", "major")
    assert "李伟" in flag.reason and "Li Wei" in flag.reason


@pytest.mark.parametrize(
    "mangle",
    [str.lower, str.upper, lambda s: s.replace("Li Wei", "Li-Wei"), lambda s: s.replace("Li Wei", "LiWei")],
)
def test_near_misses_are_repaired(series: Glossary, mangle: Callable[[str], str]) -> None:
    out, flags = run(series, "李伟来了。", "en", lambda t: mangle(filler(t)))
    assert "Li Wei" in out and flags == []


def test_non_latin_targets_travel_as_placeholders(series: Glossary) -> None:
    enforced = series.enforce("李伟见了林小雨。", "th")
    assert "李伟" not in enforced.text and "หลี่เว่ย" not in enforced.text
    tokens = [p.token for p in enforced.protections]
    assert all(p.placeholder for p in enforced.protections) and len(set(tokens)) == 2
    assert all(re.fullmatch(r"[A-Z]+", t) for t in tokens)
    out, flags = run(series, "李伟见了林小雨。", "th", keep)
    assert "หลี่เว่ย" in out and "หลินเสี่ยวอวี่" in out and flags == []


@pytest.mark.parametrize("mangle", [str.lower, lambda s: re.sub(r"ZQX([A-Z])", r"ZQX \1", s), lambda s: s.replace("ZQX", "Zqx-")])
def test_mangled_placeholders_are_repaired(series: Glossary, mangle: Callable[[str], str]) -> None:
    out, flags = run(series, "李伟见了林小雨。", "th", lambda t: mangle(filler(t)))
    assert "หลี่เว่ย" in out and "หลินเสี่ยวอวี่" in out and flags == []


def test_dropped_placeholder_is_flagged(series: Glossary) -> None:
    out, flags = run(series, "李伟见了林小雨。", "th", lambda t: re.sub(r"ZQXA", "", filler(t)))
    assert [f.code for f in flags] == ["glossary"]
    assert "李伟" in flags[0].reason and "หลี่เว่ย" in flags[0].reason


def test_placeholders_into_chinese_leave_no_stray_spaces() -> None:
    g = Glossary([TermEntry("Li Wei", {"zh": "李伟"})], source_lang="en")
    enforced = g.enforce("Li Wei is here.", "zh")
    assert enforced.restore(enforced.text.replace(" is here.", " 来了。")) == "李伟来了。"


def test_case_insensitive_entry_is_verified_case_insensitively(series: Glossary) -> None:
    assert series.verify("BOSS来了", "the boss is here", "en") == []
    assert [f.code for f in series.verify("BOSS来了", "the chief is here", "en")] == ["glossary"]


def test_terms_without_a_target_for_the_language_set_no_rule(series: Glossary) -> None:
    enforced = series.enforce("Boss来了", "th")
    assert enforced.protections == ()
    assert series.verify("Boss来了", "มาแล้ว", "th") == []


def test_regional_target_codes_fall_back_to_the_language() -> None:
    g = Glossary([TermEntry("李伟", {"pt": "Li Wei"})])
    assert g.verify("李伟", "Li Wei chegou", "pt-BR") == []
    assert g.verify("李伟", "chegou", "pt-BR")[0].code == "glossary"


def test_verify_tolerates_line_breaks_inside_the_term(series: Glossary) -> None:
    assert series.verify("李伟来了", "Li\nWei is here", "en") == []
    g = Glossary([TermEntry("Li Wei", {"zh": "李伟"})], source_lang="en")
    assert g.verify("Li Wei is here", "李\n伟来了", "zh") == []


def test_pivot_enforce_per_hop() -> None:
    """zh -> en -> th: hop 1 carries the Thai term as a placeholder, hop 2 re-protects it."""
    g = Glossary([TermEntry("李伟", {"en": "Li Wei", "th": "หลี่เว่ย"})])
    hop1 = g.enforce("李伟来了。", "th")
    en = hop1.restore(filler(hop1.text))  # the engine layer may restore after each hop
    assert "หลี่เว่ย" in en
    hop2 = g.enforce(en, "th")
    assert "หลี่เว่ย" not in hop2.text  # protected again for the en->th model
    th = hop2.restore(hop2.text.lower().replace("la", "มา"))
    assert "หลี่เว่ย" in th and g.verify("李伟来了。", th, "th") == []
    # or carried through both hops without restoring in between
    raw = filler(filler(hop1.text))
    assert "หลี่เว่ย" in hop1.restore(raw)


def test_pivot_latin_terms_survive_two_hops() -> None:
    g = Glossary([TermEntry("李伟", {"en": "Li Wei", "es": "Li Wei"})])
    hop1 = g.enforce("李伟来了。", "es")
    en = hop1.restore(filler(hop1.text))
    hop2 = g.enforce(en, "es")
    es = hop2.restore(hop2.text.replace("Li Wei", "li wei"))
    assert "Li Wei" in es and g.verify("李伟来了。", es, "es") == []


def test_track_level_no_silent_misses(series: Glossary) -> None:
    """Units, enforcement, a term-dropping engine, spreading: every term present or flagged."""
    t = Track(
        [
            Cue(0, 1000, "李伟今天"),
            Cue(1000, 2000, "去了天启集团。"),
            Cue(2500, 3500, "- 林小雨呢？\n- 她在家。"),
            Cue(4000, 5000, "总裁来了！"),
        ],
        "srt",
    )
    units = build_units(t)
    engine = drop("Tianqi Group")
    translations = []
    for u in units:
        enforced = series.enforce(u.source, "en")
        translations.append(enforced.restore(engine(enforced.text)))
    texts = spread(t, units, translations, "en")
    flagged_units = {u.id: series.verify(u.source, tr, "en") for u, tr in zip(units, translations)}
    assert [f.reason for fl in flagged_units.values() for f in fl] == [
        "glossary term '天启集团' must be translated as 'Tianqi Group' (en); 'Tianqi Group' is missing from the translation"
    ]
    assert "Li Wei" in " ".join(texts[0:2]) and "Lin Xiaoyu" in texts[2] and "CEO" in texts[3]


_NAMES = ["李伟", "林小雨", "总裁", "霸道总裁", "天启集团", "李"]
_FILL = ["今天", "说", "的", "，", "去了", "。"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(_NAMES + _FILL), min_size=1, max_size=12),
    st.sampled_from(["en", "es", "th"]),
    st.sets(st.sampled_from(["Li Wei", "Lee", "Lin Xiaoyu", "CEO", "Tianqi Group", "ZQXA", "ZQXB", "ZQXC"])),
    st.booleans(),
)
def test_no_silent_misses(series: Glossary, parts: list[str], lang: str, dropped: set[str], lower: bool) -> None:
    source = "".join(parts)

    def engine(text: str) -> str:
        out = filler(text)
        for d in sorted(dropped, key=len, reverse=True):
            out = out.replace(d, "xx")
        return out.lower() if lower else out

    out, flags = run(series, source, lang, engine)
    reasons = " ".join(f.reason for f in flags)
    for m in series.find(source):
        target = Glossary.target_for(m.targets, lang)
        if not target:
            continue
        assert target in out or repr(m.term) in reasons, (source, out, reasons)
    # and flags only name terms that really are missing
    for f in flags:
        term = re.match(r"glossary term '([^']+)'", f.reason).group(1)  # type: ignore[union-attr]
        entry = next(e for e in series if e.term == term)
        assert Glossary.target_for(entry.targets, lang) not in out


# --------------------------------------------------------------------------------------------
# Properties of the parser and the matcher

_TERM_CHARS = "李伟林小雨总裁霸道天启集团abc AB,\"'"


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.text(alphabet=_TERM_CHARS, min_size=1, max_size=8).map(str.strip).filter(lambda s: s and not s.startswith("#")),
        st.tuples(st.text(alphabet=_TERM_CHARS + "é", max_size=10).map(str.strip), st.booleans()),
        min_size=1,
        max_size=8,
    ),
    st.booleans(),
    st.sampled_from(["\n", "\r\n"]),
)
def test_csv_round_trip(tmp_path_factory: pytest.TempPathFactory, rows: dict, bom: bool, newline: str) -> None:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=newline)
    writer.writerow(["zh", "en", "case"])
    for term, (target, sensitive) in rows.items():
        writer.writerow([term, target, "sensitive" if sensitive else "insensitive"])
    data = ("\ufeff" if bom else "") + buf.getvalue()
    path = tmp_path_factory.mktemp("rt") / "g.csv"
    path.write_bytes(data.encode("utf-8"))
    g = Glossary.load(path)
    assert {e.term: (e.targets["en"], e.case_sensitive) for e in g} == rows


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(alphabet="甲乙丙丁戊", min_size=1, max_size=4), min_size=1, max_size=6, unique=True),
    st.text(alphabet="甲乙丙丁戊，", max_size=40),
)
def test_find_is_longest_first_and_non_overlapping(terms: list[str], text: str) -> None:
    g = Glossary([TermEntry(t, {"en": t}) for t in terms])
    found = g.find(text)
    for a, b in zip(found, found[1:]):
        assert a.end <= b.start  # in order, no overlap
    for m in found:
        assert text[m.start : m.end] == m.term
    # every occurrence of a term is matched or overlaps a match at least as long
    for t in terms:
        pos = text.find(t)
        while pos != -1:
            end = pos + len(t)
            assert any(m.start < end and pos < m.end and m.end - m.start >= len(t) for m in found)
            pos = text.find(t, pos + 1)


def test_glossary_and_enforced_pickle(series: Glossary) -> None:
    """Prefect, Dask and Ray ship these between processes."""
    import pickle

    enforced = series.enforce("李伟见了林小雨。", "th")
    g2 = pickle.loads(pickle.dumps(series))
    e2 = pickle.loads(pickle.dumps(enforced))
    assert g2.version == series.version and g2.find("李伟") == series.find("李伟")
    assert e2.restore(e2.text) == enforced.restore(enforced.text)


def _scan_every_term(glossary: Glossary, text: str) -> list[tuple[str, int, int]]:
    """The matching rule written as a plain scan of every entry (what find's first-character index
    must reproduce): all occurrences at word boundaries, longest first, non-overlapping."""
    from localise.glossary import _boundary_ok

    candidates = []
    for i, e in enumerate(glossary.entries):
        flags = 0 if e.case_sensitive else re.IGNORECASE
        for m in re.finditer(f"(?=({re.escape(e.term)}))", text, flags):
            start, end = m.start(1), m.end(1)
            if _boundary_ok(text, start, end):
                candidates.append((start - end, start, i))
    taken = [False] * len(text)
    found = []
    for neg, start, i in sorted(candidates):
        if not any(taken[start : start - neg]):
            taken[start : start - neg] = [True] * -neg
            found.append((glossary.entries[i].term, start, start - neg))
    return sorted(found, key=lambda f: f[1])


TERM_PIECES = st.sampled_from(["林", "总", "苏", "晚晴", "Lin", "lin", "OK", "Gu", "ß", "K", "a", " "])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.lists(TERM_PIECES, min_size=1, max_size=3).map("".join), st.booleans()),
                min_size=1, max_size=12, unique_by=lambda t: t[0]),
       st.lists(st.sampled_from(["林总", "苏晚晴", "Lin", "LIN", "ok", "OK", "gu", "SS", "K", "说", " ", "，"]), max_size=12))
def test_find_matches_a_scan_of_every_term(rows, words):
    entries = [TermEntry(term, {"en": f"T{n}"}, case_sensitive=cs) for n, (term, cs) in enumerate(rows) if term.strip()]
    if not entries:
        return
    glossary = Glossary(entries)
    text = "".join(words)
    assert [(m.term, m.start, m.end) for m in glossary.find(text)] == _scan_every_term(glossary, text)


def test_a_lower_case_term_capitalised_at_a_sentence_start_is_the_term() -> None:
    g = Glossary([TermEntry("顾家", {"en": "the Gu family"}), TermEntry("白月光", {"en": "first love"})])
    assert g.verify("顾家的人终于回来了。", "The Gu family finally came back.", "en") == []
    assert g.verify("她是我的白月光。", "First love, that is what she is.", "en") == []
    # the rest of the term keeps its case: a miss is still a miss
    assert [f.code for f in g.verify("顾家的人终于回来了。", "The gu family finally came back.", "en")] == ["glossary"]
    assert [f.code for f in g.verify("顾家的人终于回来了。", "The Lin family finally came back.", "en")] == ["glossary"]
