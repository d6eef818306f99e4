"""The shared composition: structure is kept (cues, order, timings, markup), units, glossary,
translation memory, one engine call per language, reports, bounded memory. Settings too.

The tiny Marian model (``tiny_model`` fixture) runs the real transformers path; its words are
noise, so these tests check structure, never wording. Engines whose behaviour a test controls are
plain classes with ``translate(texts, src, tgt)`` passed as ``options.engine``.
"""

from __future__ import annotations

import json
import pickle
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localise.config import Settings, load_settings
from localise.errors import ConfigError
from localise.model import Track, Translation
from localise.pipeline import LocaliseOptions, LocalisedTrack, localise_files, localise_tracks

REPORT_CUE_FIELDS = {"index", "start_ms", "end_ms", "source", "translation", "unit", "confidence", "flags"}

EPISODE_SRT = """\
1
00:00:01,000 --> 00:00:02,500
<i>林晓</i>，你听我说

2
00:00:02,600 --> 00:00:04,000
这件事不是你想的那样。

3
00:00:05,000 --> 00:00:07,000
- 你去哪儿？
- 我回公司。

4
00:00:09,000 --> 00:00:11,000
{\\an8}顾总来了！

5
00:00:11,200 --> 00:00:12,000
好

6
00:00:20,000 --> 00:00:22,000
我们明天见。
"""

GLOSSARY_CSV = "\ufeffzh,en,es\n林晓,Lin Xiao,Lin Xiao\n顾总,President Gu,Presidente Gu\n"


def parse(text: str, name: str = "episode.srt") -> Track:
    from localise.io import parse_text

    return parse_text(text, name=name)


def flags_of(report: dict, code: str) -> list[list[dict]]:
    return [[f for f in cue["flags"] if f["code"] == code] for cue in report["cues"]]


class EchoEngine:
    """Returns what it is given: keeps every term (and placeholder) the pipeline puts in."""

    name = "echo"
    model_id = "echo"

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], str, str]] = []

    def translate(self, texts, src, tgt):  # noqa: ANN001
        self.calls.append((list(texts), src, tgt))
        return [Translation(t, 0.9) for t in texts]

    def signature(self) -> str:
        return "echo"


class DropEngine(EchoEngine):
    """Loses every term: answers the same English sentence whatever it is given."""

    def translate(self, texts, src, tgt):  # noqa: ANN001
        self.calls.append((list(texts), src, tgt))
        return [Translation("Listen to me, it is not what you think.", 0.9) for _ in texts]


class CountingEngine:
    """The real transformers engine on the tiny model, counting the calls the pipeline makes."""

    name = "counting"

    def __init__(self, model: Path) -> None:
        from localise.engines.registry import get_engine

        self.inner = get_engine("transformers", str(model), src="zh", tgt="en")
        self.model_id = self.inner.model_id
        self.calls: list[tuple[list[str], str, str]] = []

    def translate(self, texts, src, tgt):  # noqa: ANN001
        self.calls.append((list(texts), src, tgt))
        return self.inner.translate(texts, src, tgt)

    def signature(self) -> str:
        return self.inner.signature()


@pytest.fixture(scope="module")
def glossary_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("glossary") / "series.csv"
    path.write_text(GLOSSARY_CSV, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def localised(tiny_model: Path, glossary_file: Path) -> list[LocalisedTrack]:
    options = LocaliseOptions(src="zh", model=str(tiny_model), glossary=glossary_file)
    return localise_tracks([parse(EPISODE_SRT)], ["en", "es", "pt"], options=options)


# ------------------------------------------------------------------ structure


def test_every_language_comes_back_in_order(localised: list[LocalisedTrack]) -> None:
    assert [r.lang for r in localised] == ["en", "es", "pt"]


def test_cue_count_order_timings_and_extras_are_the_source_s(localised: list[LocalisedTrack]) -> None:
    for result in localised:
        src, out = result.source.cues, result.track.cues
        assert len(out) == len(src)
        assert [(c.id, c.start_ms, c.end_ms, c.extras) for c in out] == [
            (c.id, c.start_ms, c.end_ms, c.extras) for c in src
        ]
        assert result.track.format == result.source.format


def test_markup_and_positioning_are_restored(localised: list[LocalisedTrack]) -> None:
    for result in localised:
        cues = result.track.cues
        assert cues[0].text.count("<i>") == 1 and cues[0].text.count("</i>") == 1
        assert cues[0].text.index("<i>") < cues[0].text.index("</i>")
        assert cues[3].text.startswith("{\\an8}")


def test_sentence_running_over_cues_is_one_unit_and_dialogue_two(localised: list[LocalisedTrack]) -> None:
    report = localised[0].report
    units = [cue["unit"] for cue in report["cues"]]
    assert units[0] == units[1]  # no sentence-final punctuation, 100 ms gap
    assert units[1] != units[2]
    assert units[4] != units[5]  # 8 s gap: never one unit
    dialogue = localised[0].track.cues[2].text.split("\n")
    assert len(dialogue) == 2 and all(line.startswith(("-", "–")) for line in dialogue)


def test_unit_over_the_length_limit_is_split_at_punctuation(tiny_model: Path) -> None:
    """Four cues of one running sentence, over ``max_unit_chars``: cut into several units, cut after
    the cue that ends a clause; cue count and timings unchanged."""
    texts = ["我昨天在公司门口，", "看见他和一个女人", "一起上了一辆黑色的车，", "然后就再也没有回来。"]
    srt = "\n".join(
        f"{n + 1}\n00:00:0{n * 2},000 --> 00:00:0{n * 2 + 1},900\n{text}\n" for n, text in enumerate(texts)
    )
    track = parse(srt)
    whole = localise_tracks([track], ["en"], options=LocaliseOptions(model=str(tiny_model)))[0]
    assert len({cue["unit"] for cue in whole.report["cues"]}) == 1  # one sentence, under 400 chars
    [cut] = localise_tracks([track], ["en"], options=LocaliseOptions(model=str(tiny_model), max_unit_chars=20))
    units = [cue["unit"] for cue in cut.report["cues"]]
    assert len(set(units)) > 1 and units == sorted(units)
    for i in range(len(units) - 1):  # every cut falls after a cue that ends a clause
        if units[i] != units[i + 1]:
            assert texts[i].endswith(("，", "。")), (units, texts[i])
    assert [(c.start_ms, c.end_ms) for c in cut.track.cues] == [(c.start_ms, c.end_ms) for c in track.cues]


def test_report_is_complete(localised: list[LocalisedTrack]) -> None:
    for result in localised:
        report = result.report
        assert report["target_language"] == result.lang
        assert report["source"]
        assert isinstance(report["summary"], dict) and report["summary"]
        assert len(report["cues"]) == len(result.source.cues)
        for n, (cue, src) in enumerate(zip(report["cues"], result.source.cues)):
            assert REPORT_CUE_FIELDS <= set(cue)
            assert (cue["start_ms"], cue["end_ms"]) == (src.start_ms, src.end_ms)
            assert cue["translation"] == result.track.cues[n].text or cue["translation"]
            assert cue["confidence"] is None or 0.0 <= cue["confidence"] <= 1.0
            for flag in cue["flags"]:
                assert set(flag) >= {"code", "severity", "reason"}
                assert flag["severity"] in ("minor", "major", "critical")
        json.dumps(report)  # JSON-safe


def test_every_glossary_term_is_present_or_flagged(localised: list[LocalisedTrack]) -> None:
    targets = {"en": {"林晓": "Lin Xiao", "顾总": "President Gu"}, "es": {"林晓": "Lin Xiao", "顾总": "Presidente Gu"}}
    for result in localised:
        if result.lang not in targets:
            continue
        for cue, out, src in zip(result.report["cues"], result.track.cues, result.source.cues):
            for term, target in targets[result.lang].items():
                if term in src.text:
                    flagged = [f for f in cue["flags"] if f["code"] == "glossary"]
                    assert target in out.text or any(target in f["reason"] or term in f["reason"] for f in flagged)


class WordsEngine(EchoEngine):
    """Deterministic English-looking output, about one word per two source characters."""

    def translate(self, texts, src, tgt):  # noqa: ANN001
        self.calls.append((list(texts), src, tgt))
        return [Translation(" ".join(f"w{len(t)}x{k}" for k in range(max(1, len(t) // 2))) + ".", 0.8) for t in texts]


_ZH = st.text(alphabet="林晓顾总你我他来了去哪儿公司好吗是不", min_size=1, max_size=14)
_END = st.sampled_from(["", "。", "，", "！", "？", "…"])


@st.composite
def _cue_text(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["plain", "italic", "an8", "dialogue", "empty"]))
    body = draw(_ZH) + draw(_END)
    if kind == "italic":
        return f"<i>{body}</i>"
    if kind == "an8":
        return "{\\an8}" + body
    if kind == "dialogue":
        return f"- {body}\n- {draw(_ZH)}。"
    if kind == "empty":
        return ""
    return body


@st.composite
def _srt(draw: st.DrawFn) -> str:
    blocks, start = [], 0
    for n in range(draw(st.integers(1, 12))):
        start += draw(st.integers(0, 3000))
        end = start + draw(st.integers(300, 6000))
        text = draw(_cue_text()) if n else draw(_ZH) + "。"  # a track needs one cue with words
        blocks.append(f"{n + 1}\n{_ts(start)} --> {_ts(end)}\n{text}\n")
        start = end
    return "\n".join(blocks)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_srt(), st.integers(0, 3000))
def test_only_the_words_ever_change(srt: str, max_gap_ms: int) -> None:
    """Any track, any unit gap: same cue count, order, timings, ids and extras; positioning kept;
    a report entry per cue; every unit translated exactly once."""
    track = parse(srt)
    engine = WordsEngine()
    [en] = localise_tracks([track], ["en"], options=LocaliseOptions(engine=engine, max_gap_ms=max_gap_ms))
    assert [(c.id, c.start_ms, c.end_ms, c.extras) for c in en.track.cues] == [
        (c.id, c.start_ms, c.end_ms, c.extras) for c in track.cues
    ]
    assert len(en.report["cues"]) == len(track.cues)
    for before, after in zip(track.cues, en.track.cues):
        if before.text.startswith("{\\an8}"):
            assert after.text.startswith("{\\an8}")
        if before.text.startswith("<i>"):
            assert after.text.startswith("<i>") and after.text.endswith("</i>")
    assert len(engine.calls) <= 1
    if engine.calls:
        assert len(engine.calls[0][0]) == len(set(engine.calls[0][0]))


# ------------------------------------------------------------------ glossary with controlled engines

GLOSSARY_SRT = """\
1
00:00:01,000 --> 00:00:02,000
林晓来了。

2
00:00:04,000 --> 00:00:05,000
顾总好！

3
00:00:07,000 --> 00:00:08,000
今天下雨。
"""


def test_engine_that_drops_terms_gets_lines_flagged(glossary_file: Path) -> None:
    engine = DropEngine()
    [en] = localise_tracks([parse(GLOSSARY_SRT)], ["en"], options=LocaliseOptions(engine=engine, glossary=glossary_file))
    glossary = flags_of(en.report, "glossary")
    assert glossary[0] and "Lin Xiao" in glossary[0][0]["reason"]
    assert glossary[1] and "President Gu" in glossary[1][0]["reason"]
    assert not glossary[2]  # no term in the source: nothing to miss


def test_engine_that_keeps_terms_gets_no_glossary_flag(glossary_file: Path) -> None:
    engine = EchoEngine()
    results = localise_tracks(
        [parse(GLOSSARY_SRT)], ["en", "es"], options=LocaliseOptions(engine=engine, glossary=glossary_file)
    )
    for result in results:
        assert not any(flags_of(result.report, "glossary"))
    en, es = results
    assert "Lin Xiao" in en.track.cues[0].text and "President Gu" in en.track.cues[1].text
    assert "Presidente Gu" in es.track.cues[1].text


def test_pivot_hop_carries_the_final_target_term(glossary_file: Path) -> None:
    """zh -> en -> es: the first hop enforces the English term; the second hop reads English, finds
    that term (the glossary seen from the pivot) and puts the Spanish term in its place."""
    from localise.glossary import Glossary
    from localise.pipeline import _GlossaryHook

    hook = _GlossaryHook(Glossary.load(glossary_file), "zh")
    first, restore_first = hook(["顾总好！"], "zh", "en")
    assert "President Gu" in first[0]
    english = restore_first(["Good day, President Gu!"])
    second, restore_second = hook(english, "en", "es")
    assert "Presidente Gu" in second[0] and "President Gu!" not in second[0]
    assert "Presidente Gu" in restore_second(["Buenos días, Presidente Gu!"])[0]
    untouched, _ = hook(["Nothing to see here."], "en", "es")
    assert untouched == ["Nothing to see here."]


def test_pivot_route_through_the_registry(tiny_model: Path, glossary_file: Path) -> None:
    """A model table with zh-en and en-es only: es goes through English, en directly; structure kept."""
    table = {"zh-en": str(tiny_model), "en-es": str(tiny_model)}
    options = LocaliseOptions(model_table=table, glossary=glossary_file)
    en, es = localise_tracks([parse(GLOSSARY_SRT)], ["en", "es"], options=options)
    assert len(en.report["signature"]["engine_signature"]) == 1
    assert len(es.report["signature"]["engine_signature"]) == 2
    for result in (en, es):
        assert [(c.start_ms, c.end_ms) for c in result.track.cues] == [(c.start_ms, c.end_ms) for c in result.source.cues]
        for cue, src in zip(result.report["cues"], result.source.cues):
            if "顾总" in src.text:
                target = "President Gu" if result.lang == "en" else "Presidente Gu"
                assert target in cue["translation"] or any(f["code"] == "glossary" for f in cue["flags"])


# ------------------------------------------------------------------ batching, de-duplication, memory hook


def test_one_engine_call_per_language_over_all_tracks_deduplicated(tiny_model: Path) -> None:
    engine = CountingEngine(tiny_model)
    tracks = [parse(EPISODE_SRT, "ep1.srt"), parse(EPISODE_SRT, "ep2.srt"), parse(GLOSSARY_SRT, "ep3.srt")]
    results = localise_tracks(tracks, ["en", "es"], options=LocaliseOptions(engine=engine))
    assert len(results) == 6
    assert [tgt for _, _, tgt in engine.calls] == ["en", "es"]
    texts = engine.calls[0][0]
    assert len(texts) == len(set(texts))  # identical unit sources translated once
    # the two copies of the episode got the same words
    assert [c.text for c in results[0].track.cues] == [c.text for c in results[2].track.cues]


def test_translation_memory_exact_match_skips_the_engine(tmp_path: Path) -> None:
    from localise.review.tm import TranslationMemory

    memory = TranslationMemory(f"sqlite:///{tmp_path / 'tm.db'}", series="demo")
    memory.add("顾总好！", "Good day, President Gu!", src_lang="zh", tgt_lang="en")
    engine = EchoEngine()
    [en] = localise_tracks([parse(GLOSSARY_SRT)], ["en"], options=LocaliseOptions(engine=engine, memory=memory))
    assert en.track.cues[1].text == "Good day, President Gu!"
    assert all("顾总好！" not in texts for texts, _, _ in engine.calls)
    assert en.report["cues"][1].get("origin") == "tm"
    assert en.report["cues"][0].get("origin", "mt") == "mt"


def test_cues_without_words_stay_as_they_are(tiny_model: Path) -> None:
    track = parse(
        "1\n00:00:01,000 --> 00:00:02,000\n你好。\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\n{\\an8}\n\n"
        "3\n00:00:05,000 --> 00:00:06,000\n走吧。\n"
    )
    [en] = localise_tracks([track], ["en"], options=LocaliseOptions(model=str(tiny_model)))
    assert len(en.track.cues) == 3
    assert en.track.cues[1].text == track.cues[1].text
    assert en.report["cues"][1]["unit"] is None and en.report["cues"][1]["origin"] == "mt"


def test_source_language_as_target_is_refused() -> None:
    with pytest.raises(ConfigError):
        localise_tracks([parse(GLOSSARY_SRT)], ["zh"], options=LocaliseOptions(engine=EchoEngine()))


def test_options_pickle() -> None:
    options = LocaliseOptions(model="m", model_table={"zh-en": "x"}, styles={"en": {"max_chars_per_line": 40}})
    assert pickle.loads(pickle.dumps(options)) == options


# ------------------------------------------------------------------ files and memory


def _write_episodes(folder: Path, count: int, cues: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["林晓，你听我说", "这件事不是你想的那样。", "- 你去哪儿？\n- 我回公司。", "{\\an8}顾总来了！", "我们明天见。"]
    paths = []
    for e in range(count):
        blocks = []
        for n in range(cues):
            start = n * 3000
            text = lines[(n + e) % len(lines)]
            blocks.append(f"{n + 1}\n{_ts(start)} --> {_ts(start + 2000)}\n{text}\n")
        path = folder / f"ep{e:03d}.srt"
        path.write_text("\n".join(blocks), encoding="utf-8")
        paths.append(path)
    return paths


def _ts(ms: int) -> str:
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def test_localise_files_writes_every_language_and_report(tmp_path: Path, tiny_model: Path) -> None:
    inputs = _write_episodes(tmp_path / "in", 3, 12)
    written = localise_files(inputs, ["en", "es"], tmp_path / "out", LocaliseOptions(model=str(tiny_model)))
    for path in inputs:
        for lang in ("en", "es"):
            for suffix in ("srt", "report.json", "report.html"):
                assert (tmp_path / "out" / f"{path.stem}.{lang}.{suffix}") in written
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in written)


def test_files_are_translated_in_groups_one_call_per_group(tmp_path: Path, tiny_model: Path) -> None:
    engine = CountingEngine(tiny_model)
    paths = _write_episodes(tmp_path / "in", 5, 10)
    written = localise_files(paths, ["en"], tmp_path / "out", LocaliseOptions(engine=engine), chunk_cues=20)
    assert len(engine.calls) == 3  # 10 + 10 cues, 10 + 10, 10
    assert len(written) == 5 * 3


def _peak_memory(paths: list[Path], out: Path, options: LocaliseOptions) -> tuple[int, int]:
    """(peak Python heap by tracemalloc, peak process RSS sampled every 5 ms) over one run."""
    import threading

    import psutil

    process = psutil.Process()
    peak_rss = process.memory_info().rss
    running = True

    def sample() -> None:
        nonlocal peak_rss
        while running:
            peak_rss = max(peak_rss, process.memory_info().rss)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    tracemalloc.start()
    try:
        localise_files(paths, ["en"], out, options, chunk_cues=100, cache_cues=100)
        return tracemalloc.get_traced_memory()[1], peak_rss
    finally:
        tracemalloc.stop()
        running = False
        sampler.join()


@pytest.mark.slow
def test_memory_does_not_grow_with_the_number_of_input_files(tmp_path: Path, tiny_model: Path) -> None:
    """Peak Python heap (tracemalloc) and peak RSS over 5 and over 20 files of 100 cues, translated
    one group of files at a time. A design that held every file's tracks and reports would need
    about 4x the heap for 20 files. Output length is capped (``max_new_tokens``) to keep the run
    short; memory is what is measured."""
    options = LocaliseOptions(model=str(tiny_model), engine_options={"max_new_tokens": 8})
    paths = _write_episodes(tmp_path / "in", 20, 100)
    localise_files(paths[:2], ["en"], tmp_path / "warm", options, chunk_cues=100)  # model loaded, caches warm
    few_heap, few_rss = _peak_memory(paths[:5], tmp_path / "few", options)
    many_heap, many_rss = _peak_memory(paths, tmp_path / "many", options)
    print(f"peak heap 5 files {few_heap / 1e6:.1f} MB, 20 files {many_heap / 1e6:.1f} MB; "
          f"peak RSS 5 files {few_rss / 1e6:.0f} MB, 20 files {many_rss / 1e6:.0f} MB")
    assert len(list((tmp_path / "many").glob("*.en.srt"))) == 20
    assert many_heap < few_heap * 1.5, (few_heap, many_heap)
    assert many_rss - few_rss < 32 * 2**20, (few_rss, many_rss)


# ------------------------------------------------------------------ settings


def test_settings_defaults() -> None:
    settings = Settings()
    assert settings.source_language == "zh" and settings.max_gap_ms == 1500
    assert settings.engine == "transformers"


def test_settings_file_environment_and_flags_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "localise.toml"
    config.write_text(
        'targets = ["en", "es"]\nengine = "ctranslate2"\nmax_gap_ms = 900\n'
        '[model_table]\n"zh-en" = "/models/zh-en"\n[styles.en]\nmax_chars_per_line = 40\n'
        "[quality_gate]\nmax_flagged_share = 0.1\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LOCALISE_CONFIG", str(config))
    monkeypatch.setenv("LOCALISE_TARGETS", "pt, th")
    monkeypatch.setenv("LOCALISE_QUALITY_GATE__SEVERITY", "critical")
    settings = load_settings(engine="transformers", model=None)
    assert settings.targets == ["pt", "th"]  # environment over file
    assert settings.engine == "transformers"  # flag over file
    assert settings.max_gap_ms == 900 and settings.model_table == {"zh-en": "/models/zh-en"}
    assert settings.quality_gate.max_flagged_share == 0.1 and settings.quality_gate.severity == "critical"
    options = settings.options()
    assert options.max_gap_ms == 900 and options.styles == {"en": {"max_chars_per_line": 40}}
    assert options.model_table == {"zh-en": "/models/zh-en"}
    pickle.dumps(settings)


def test_bad_settings_name_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCALISE_CONFIG", raising=False)
    config = tmp_path / "bad.toml"
    config.write_text("max_gap_ms = -5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.toml"):
        load_settings(config)
    config.write_text("max_gap_ms = [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.toml"):
        load_settings(config)
    with pytest.raises(ConfigError, match="missing.toml"):
        load_settings(tmp_path / "missing.toml")
    config.write_text("no_such_setting = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no_such_setting"):
        load_settings(config)


def test_a_pivot_keeps_its_first_hop_and_the_lexicon_checks_it() -> None:
    """zh -> en -> es: the English the Spanish was made from is judged by the zh-en lexicon."""
    from localise.engines.registry import _combine
    from localise.pipeline import _pivot_flags, _prepare

    first = [Translation("Why did you come up the mountain?", 0.9), Translation("The parking lot closes at nine on "
                                                                                 "weekdays, please remember it.", 0.8)]
    second = [Translation("¿Por qué subiste a la montaña?", 0.5), Translation("Papá, confía en mí.", 0.5)]
    combined = _combine(first, second, "en")
    assert combined[0].pivot == ("en", "Why did you come up the mountain?") and combined[0].confidence == 0.45
    prep = _prepare(parse("1\n00:00:01,000 --> 00:00:03,000\n你为什么要上山来？\n\n"
                          "2\n00:00:04,000 --> 00:00:06,000\n爸，您就信我一次。\n"), LocaliseOptions())
    flags = _pivot_flags(prep, combined, LocaliseOptions(), None, None)
    assert 0 not in flags  # the first hop said what the source says
    assert [f.code for f in flags[1]] and all(f.code in ("omission", "addition", "misalignment") for f in flags[1])
