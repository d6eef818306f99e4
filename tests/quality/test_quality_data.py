"""The zh–en subtitle data for calibrating and measuring the checks (benchmarks.quality_data):
files parse cleanly, pairs are cue for cue, held-over lines are recorded, and the calibration and
evaluation splits never share a line or a name."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from benchmarks import quality_data as qd
from localise.formats.markup import strip_markup
from localise.glossary import Glossary
from localise.io import parse_text, read_track

DATA = qd.SUBTITLES
INDEX = qd.read_index()


def originals(split: str) -> list[qd.EpisodePair]:
    return qd.original_pairs(split)


def english_lines(pair: qd.EpisodePair) -> list[str]:
    return [ln for c in pair.target.cues for ln in c.text.split("\n")]


# --- the original set ----------------------------------------------------------------------------

def test_index_lists_every_file_and_nothing_else() -> None:
    on_disk = {(p.parent.name, p.name.split(".")[0]) for p in DATA.glob("*/*.srt")}
    listed = {(row["split"], row["episode"]) for row in INDEX}
    assert on_disk == listed
    for split, episode in listed:
        assert (DATA / split / f"{episode}.zh.srt").is_file() and (DATA / split / f"{episode}.en.srt").is_file()
    glossaries = {(p.parent.name, p.name) for p in DATA.glob("*/*.glossary.csv")}
    assert glossaries == {(row["split"], row["glossary"]) for row in INDEX if row["glossary"]}
    assert all(row["origin"] and row["genre"] for row in INDEX)


def test_readme_names_every_story() -> None:
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for row in INDEX:
        assert f"`{row['story']}`" in readme, row["story"]
        assert "Apache-2.0" in row["origin"]


def test_sizes_promised_by_the_readme() -> None:
    cal, ev = originals("calibration"), originals("evaluation")
    assert len(cal) + len(ev) >= 12
    assert len(ev) >= 5 and sum(p.cues for p in ev) >= 200
    assert all(30 <= p.cues <= 50 for p in cal + ev)


@pytest.mark.parametrize("path", sorted(DATA.glob("*/*.srt")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_file_reads_without_warnings(path: Path) -> None:
    track = read_track(path)
    assert track.warnings == []
    assert track.format == "srt" and track.encoding in ("utf-8", "utf_8", "ascii")
    assert all(c.text.strip() for c in track.cues)


@pytest.mark.parametrize("split", qd.SPLITS)
def test_pairs_are_cue_for_cue_with_the_source_timings(split: str) -> None:
    """Same count; identical timings, except that a held-over English line closes the gap to the
    cue it continues into (it stays on screen instead of blinking)."""
    for pair in originals(split):
        zh, en = pair.source.cues, pair.target.cues
        assert len(zh) == len(en), pair.name
        continued = {i for first, last in pair.held_over for i in range(first, last)}
        for i, (s, t) in enumerate(zip(zh, en)):
            assert t.start_ms == s.start_ms, (pair.name, i + 1)
            if i in continued:
                assert t.end_ms == zh[i + 1].start_ms, (pair.name, i + 1)
            else:
                assert t.end_ms == s.end_ms, (pair.name, i + 1)


def test_held_over_lines_are_recorded() -> None:
    recorded = qd.read_held_over()
    found = {}
    for split in qd.SPLITS:
        for pair in originals(split):
            runs = qd.held_over_runs(pair.target)
            if runs:
                found[(split, pair.name)] = runs
            assert list(pair.held_over) == runs, pair.name
            assert qd.held_over_runs(pair.source) == [], "a Chinese cue never repeats"
    assert found == recorded
    assert {split for split, _ in recorded} == set(qd.SPLITS), "both splits hold lines held over"
    with open(DATA / "held_over.tsv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):  # the text column is the line as shown
            pair = next(p for p in originals(row["split"]) if p.name == row["episode"])
            assert pair.target.cues[int(row["first_cue"]) - 1].text.replace("\n", " ") == row["text"]


def test_subtitle_shape() -> None:
    """What the README promises about the English: subtitle lines, not paragraphs; and the timing
    habits of real files (cues under a second, one-frame gaps) are present, not cleaned away."""
    short = one_frame = fast = 0
    for split in qd.SPLITS:
        for pair in originals(split):
            for line in english_lines(pair):
                assert len(line) <= 44, (pair.name, line)
                assert not re.search(r"[\u3400-\u9fff\uff01-\uff1f\u3001\u3002]", line), (pair.name, line)
            for c in pair.target.cues:
                assert c.text.count("\n") <= 1
            for c in pair.source.cues:
                assert len(c.text.replace("\n", "")) <= 20, (pair.name, c.text)
            cues = pair.source.cues
            short += sum(c.duration_ms < 1000 for c in cues)
            one_frame += sum(0 < b.start_ms - a.end_ms <= 42 for a, b in zip(cues, cues[1:]))
            continued = {i for first, last in pair.held_over for i in range(first, last + 1)}
            fast += sum(len(c.text.replace("\n", "")) / (c.duration_ms / 1000) >= 18
                        for i, c in enumerate(pair.target.cues) if i not in continued)
    assert short >= 30 and one_frame >= 10 and fast >= 10


def test_glossary_terms_are_used_and_rendered() -> None:
    """Every term occurs in its story, and where the Chinese has it, the English of that cue or a
    neighbouring cue (the same sentence split over cues) has the term's translation."""
    for split in qd.SPLITS:
        for pair in originals(split):
            if pair.glossary is None:
                continue
            glossary = Glossary.load(pair.glossary)
            zh, en = pair.source.cues, pair.target.cues
            for i, cue in enumerate(zh):
                nearby = " ".join(c.text.replace("\n", " ") for c in en[max(0, i - 1): i + 2])
                for match in glossary.find(cue.text):
                    assert match.targets["en"] in nearby, (pair.name, i + 1, match.term)
    for row in INDEX:
        if not row["glossary"]:
            continue
        text = "".join(p.read_text(encoding="utf-8") for p in (DATA / row["split"]).glob(f"{row['story']}-*.zh.srt"))
        with open(DATA / row["split"] / row["glossary"], newline="", encoding="utf-8") as fh:
            for term in csv.DictReader(fh):
                assert term["zh"] in text, (row["glossary"], term["zh"])


# --- the splits ----------------------------------------------------------------------------------

def test_original_splits_share_no_line() -> None:
    cal = set().union(*(qd.line_keys(p) for p in originals("calibration")))
    ev = set().union(*(qd.line_keys(p) for p in originals("evaluation")))
    assert cal and ev and not (cal & ev)


def test_original_splits_share_no_story_or_name() -> None:
    stories = {split: {row["story"] for row in INDEX if row["split"] == split} for split in qd.SPLITS}
    assert not (stories["calibration"] & stories["evaluation"])
    for split, other in (("calibration", "evaluation"), ("evaluation", "calibration")):
        zh_other = "".join(c.text for p in originals(other) for c in p.source.cues)
        en_other = " ".join(c.text for p in originals(other) for c in p.target.cues)
        for path in (DATA / split).glob("*.glossary.csv"):
            with open(path, newline="", encoding="utf-8") as fh:
                for term in csv.DictReader(fh):
                    assert term["zh"] not in zh_other, (path.name, term["zh"])
                    assert not re.search(rf"\b{re.escape(term['en'])}\b", en_other), (path.name, term["en"])


def test_normalise_ignores_markup_case_and_punctuation() -> None:
    assert qd.normalise("<i>No!</i>") == qd.normalise("no") == "no"
    assert qd.normalise("{\\an8}好的。", "ass") == qd.normalise("好的") == "好的"
    assert qd.normalise("……") == ""


def test_splits_are_disjoint_with_the_corpus(corpus: Path) -> None:
    cal, ev = qd.load_pairs("calibration", corpus=corpus), qd.load_pairs("evaluation", corpus=corpus)
    assert not (set().union(*map(qd.line_keys, cal)) & set().union(*map(qd.line_keys, ev)))
    names = {p.name.split(":")[0] for p in cal}, {p.name.split(":")[0] for p in ev}
    for source in qd.CORPUS_SOURCES:  # each corpus source wholly in one split
        mine, other = (names[0], names[1]) if source.split == "calibration" else (names[1], names[0])
        assert source.name in mine and source.name not in other
    assert all(p.dropped == 0 for p in cal if p.name in {row["episode"] for row in INDEX}), \
        "the original calibration episodes must not need lines dropped"
    assert all(p.dropped == 0 for p in ev)


def test_every_loaded_pair_is_aligned(corpus: Path) -> None:
    for split in qd.SPLITS:
        for pair in qd.load_pairs(split, corpus=corpus):
            assert pair.split == split and pair.cues > 0
            assert "licence" in pair.origin, pair.name  # where the lines come from, and on what terms
            assert pair.kind in ("subtitles", "sentences")
            assert len(pair.source.cues) == len(pair.target.cues)
            if pair.name in {row["episode"] for row in INDEX}:
                continue  # the held-over rule is checked above
            qd.check_aligned(pair.source, pair.target, pair.name)


def test_cerlancism_pair_aligns_cue_for_cue(corpus: Path) -> None:
    (pair,) = [p for p in qd.load_pairs("evaluation", corpus=corpus) if p.name == "cerlancism-test-cn-multiline"]
    assert pair.cues == 23
    assert pair.source.cues[0].text == "早上好。" and pair.target.cues[0].text == "Good morning."
    assert pair.source.cues[2].text.count("\n") == 1  # a two-line Chinese cue, one English line


def test_fansub_ass_pairs_by_time(corpus: Path) -> None:
    pairs = {p.name: p for p in qd.load_pairs("calibration", corpus=corpus) if p.name.startswith("fpsluozi")}
    fps = pairs["fpsluozi-fansub-ass:模板__FPSRussia双语字幕模板av1129222"]
    assert fps.cues >= 80
    first = list(zip(fps.source.cues, fps.target.cues))[0]
    assert (first[0].text, first[1].text) == ("大家好欢迎收看FPSRussia的大枪秀", "Hello my friends this is FPSRussia")
    for pair in pairs.values():
        for zh, en in zip(pair.source.cues, pair.target.cues):
            assert qd.line_language(strip_markup(zh.text, "ass")) == "zh"
            assert qd.line_language(strip_markup(en.text, "ass")) == "en"
    # the Chinese-only typesetting file has no English events: it yields no pair
    assert not any("暴力厨房" in name for name in pairs)


def test_tatoeba_is_calibration_sentences(corpus: Path) -> None:
    (pair,) = [p for p in qd.load_pairs("calibration", corpus=corpus) if p.name == "tatoeba-cmn-every8th"]
    assert pair.kind == "sentences"
    assert pair.cues + pair.dropped == 3645
    assert all(c.extras["attribution"].startswith("CC-BY") for c in pair.source.cues[:50])


def test_absent_corpus_is_skipped_with_reasons(tmp_path: Path) -> None:
    for split in qd.SPLITS:
        reasons = qd.unavailable(split, tmp_path)
        assert set(reasons) == {s.name for s in qd.CORPUS_SOURCES if s.split == split}
        assert all(str(tmp_path) in why for why in reasons.values())
        loaded = qd.load_pairs(split, corpus=tmp_path)
        assert [p.name for p in loaded] == [row["episode"] for row in INDEX if row["split"] == split]
    assert qd.load_pairs("evaluation", corpus=None) == qd.load_pairs("evaluation", corpus=tmp_path)
    with pytest.raises(ValueError, match="unknown split"):
        qd.load_pairs("test")


def test_calibration_drops_lines_the_evaluation_holds(tmp_path: Path) -> None:
    """A corpus calibration pair repeating an evaluation line is left out, and counted."""
    zh, en = qd.original_pairs("evaluation")[0].source.cues[0].text, qd.original_pairs("evaluation")[0].target.cues[0].text
    tsv = tmp_path / qd.CORPUS_SOURCES[0].files[0]
    tsv.parent.mkdir(parents=True)
    tsv.write_text(f"Go away.\t走开。\tCC-BY 2.0 (France) x\n{en}\t{zh}\tCC-BY 2.0 (France) y\n", encoding="utf-8")
    (pair,) = [p for p in qd.load_pairs("calibration", corpus=tmp_path) if p.name == "tatoeba-cmn-every8th"]
    assert [c.text for c in pair.source.cues] == ["走开。"] and pair.dropped == 1


def test_pair_bilingual_ass_rules() -> None:
    ass = """[Script Info]
ScriptType: v4.00+

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2,2,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.00,0:00:05.00,Default,,0,0,0,,{\\an8}字幕：某某
Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,你好\\NHello there
Dialogue: 0,0:00:03.00,0:00:04.50,Default,,0,0,0,,{\\i1}We're late{\\i0}
Dialogue: 0,0:00:03.02,0:00:04.49,Default,,0,0,0,,我们迟到了
Dialogue: 0,0:00:06.00,0:00:07.00,Default,,0,0,0,,(╯°□°)╯
Dialogue: 0,0:00:06.00,0:00:07.00,Default,,0,0,0,,D
"""
    zh, en = qd.pair_bilingual_ass(parse_text(ass, format="ass"))
    assert [c.text for c in zh.cues] == ["你好", "我们迟到了"]
    assert [c.text for c in en.cues] == ["Hello there", "{\\i1}We're late{\\i0}"]
    assert [(c.start_ms, c.end_ms) for c in en.cues] == [(c.start_ms, c.end_ms) for c in zh.cues]
    assert zh.format == en.format == "ass"


def test_check_aligned_names_the_cue() -> None:
    a = parse_text("1\n00:00:01,000 --> 00:00:02,000\n好\n\n2\n00:00:03,000 --> 00:00:04,000\n走\n", format="srt")
    b = parse_text("1\n00:00:01,000 --> 00:00:02,000\nGood\n\n2\n00:00:03,000 --> 00:00:04,100\nGo\n", format="srt")
    with pytest.raises(ValueError, match="x.srt: cue 2 timed 3000-4000 ms"):
        qd.check_aligned(a, b, "x.srt")
    with pytest.raises(ValueError, match="2 source cues but 1 target"):
        qd.check_aligned(a, parse_text("1\n00:00:01,000 --> 00:00:02,000\nGood\n", format="srt"), "y")


def test_command_lists_both_splits(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    qd.main(["--json"])
    report = json.loads(capsys.readouterr().out)
    assert set(report) == set(qd.SPLITS)
    for split in qd.SPLITS:
        names = [s["name"] for s in report[split]["sources"]]
        assert names[: len([r for r in INDEX if r["split"] == split])] == [
            r["episode"] for r in INDEX if r["split"] == split]
        assert report[split]["cues"] == sum(s["cues"] for s in report[split]["sources"])
        assert all(name in {s.name for s in qd.CORPUS_SOURCES} for name in report[split]["skipped"])


def test_film_reels_carry_what_film_subtitles_do() -> None:
    """The film-register calibration material (README, "The original films") keeps the habits it was
    written to hold: italics the Chinese lacks, two-speaker dash cues, song lines, held-over lines,
    lines of 42–44 characters and heavy condensation — the things the checks must accept as clean."""
    films = [p for p in originals("calibration")
             if next(r for r in INDEX if r["episode"] == p.name)["genre"].endswith("-film")]
    assert {p.name.rsplit("-", 1)[0] for p in films} == {"guiyun-sword", "binjiang-case", "cheng-family"}
    assert sum(p.cues for p in films) >= 330
    en = [c.text for p in films for c in p.target.cues]
    zh = [c.text for p in films for c in p.source.cues]
    assert sum("<i>" in t for t in en) >= 8 and not any("<i>" in t for t in zh)
    assert sum(t.startswith("- ") and "\n- " in t for t in en) >= 4
    assert sum("♪" in t for t in en) >= 3
    assert sum(len(p.held_over) for p in films) >= 3
    assert any(42 <= len(line) <= 44 for t in en for line in t.split("\n"))
    condensed = [(s, t) for p in films for s, t in zip(p.source.cues, p.target.cues)
                 if len(strip_markup(t.text, "srt")) < len(s.text)]
    assert len(condensed) >= 2  # English shorter than the Chinese ("Run!" for 三十六计，走为上计！, "So?")
