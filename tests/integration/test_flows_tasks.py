"""The plain functions under the flows (no servers): cache keys, chunking, glossary per series,
and the per-episode translation cache over a real Prefect result store on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.tasks import (
    Episode,
    chunk_by_cues,
    run_signature,
    series_settings,
    split_source,
    translate_episodes,
    work_key,
)
from localise.config import Settings
from localise.errors import GlossaryMissingError
from localise.model import Cue, Track

REPO = Path(__file__).resolve().parents[2]


def _episode(name: str, cues: int, sha: str | None = None) -> Episode:
    track = Track([Cue(i * 2000, i * 2000 + 1500, f"你好{i}。") for i in range(cues)], "srt")
    return Episode("s", name, f"{name}.srt", sha or name, track)


def test_chunks_respect_the_cue_budget_and_keep_order():
    eps = [_episode(f"e{i}", n) for i, n in enumerate([5, 5, 12, 1, 1])]
    chunks = chunk_by_cues(eps, 10)
    assert [[e.episode for e in c] for c in chunks] == [["e0", "e1"], ["e2"], ["e3", "e4"]]


def test_work_key_depends_on_content_and_settings_only():
    sig = {"model": "m", "glossary_version": "g"}
    assert work_key("abc", sig) == work_key("abc", dict(sig))
    assert work_key("abc", sig) != work_key("abd", sig)
    assert work_key("abc", sig) != work_key("abc", {**sig, "glossary_version": "h"})


def test_series_glossary_is_found_and_versioned(tiny_model, monkeypatch):
    settings = series_settings(Settings(targets=["en", "es"], model=str(tiny_model)), "tingyu-teahouse",
                               glossaries=REPO / "glossaries")
    assert settings.glossary.name == "tingyu-teahouse.csv"
    signature = run_signature(settings, settings.targets)
    assert signature["glossary_version"] and len(signature["models"]["es"]) == 1  # one run-wide model: direct
    assert series_settings(settings, "other-series").glossary == settings.glossary  # configured wins
    # a series without a glossary is never run silently without one (changed: it used to run)
    with pytest.raises(GlossaryMissingError, match=r"no-such-series.*no-such-series\.csv.*glossary_optional"):
        series_settings(Settings(), "no-such-series", glossaries=REPO / "glossaries")
    assert series_settings(Settings(glossary_optional=True), "no-such-series").glossary is None
    # the folder is a setting; a relative one is named in full in the message
    found = series_settings(Settings(glossary_dir=REPO / "glossaries"), "tingyu-teahouse")
    assert found.glossary == (REPO / "glossaries" / "tingyu-teahouse.csv").resolve()


def test_split_source():
    assert split_source("s3://bucket/in/ep1.srt") == ("s3://bucket/in", "ep1.srt")
    assert split_source("samples/x/ep1.srt") == ("samples/x", "ep1.srt")


def test_translation_cache_per_episode_skips_finished_work(tiny_model, tmp_path, monkeypatch):
    import localise.engines.registry as registry
    from localise.engines.hf import HFEngine
    from prefect.filesystems import LocalFileSystem
    from prefect.results import ResultStore

    calls: list[int] = []
    real = HFEngine.translate
    monkeypatch.setattr(HFEngine, "translate", lambda self, texts, *a: calls.append(len(texts)) or real(self, texts, *a))
    registry.clear_cache()  # no in-process hop memo: only the flows' cache may answer
    cache = ResultStore(result_storage=LocalFileSystem(basepath=str(tmp_path / "results")))
    settings = Settings(targets=["en"], model=str(tiny_model))
    signature = run_signature(settings, ["en"])
    a, b = _episode("a", 3), _episode("b", 4)

    first = translate_episodes([a], ["en"], settings, signature, cache=cache)
    assert len(calls) == 1 and len(first["s/a"][0].track.cues) == 3
    registry.clear_cache()
    both = translate_episodes([a, b], ["en"], settings, signature, cache=cache)  # only b reaches the engine
    assert len(calls) == 2 and calls[-1] <= len(b.track.cues)
    assert both["s/a"][0].track.to_dict() == first["s/a"][0].track.to_dict()
    registry.clear_cache()
    translate_episodes([b, a], ["en"], settings, signature, cache=cache)
    assert len(calls) == 2


def test_translate_tasks_are_tagged_only_when_the_settings_say_so(monkeypatch):
    from flows.tasks import translate_task_for

    assert not translate_task_for(Settings()).tags  # no slot request per task start
    assert set(translate_task_for(Settings(translate_tags="localise-translate, gpu")).tags) == {"localise-translate", "gpu"}
    monkeypatch.setenv("LOCALISE_TRANSLATE_TAGS", "localise-translate")
    assert set(translate_task_for(Settings()).tags) == {"localise-translate"}


def test_scan_sweeps_leftovers_of_current_episodes_and_publish_keeps_a_current_manifest(tiny_model, tmp_path):
    """A batch that finds an episode current sweeps the `.staging/` folder and uploads an
    interrupted run left beside it (under the episode's lease); publishing machine tracks over a
    manifest from the same source and settings (e.g. with reviewed lines applied) changes nothing."""
    import shutil

    from flows.tasks import load_episode, publish, scan_sources
    from localise.storage import LocalStore, read_manifest, verify_store

    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(REPO / "samples" / "tingyu-teahouse" / "ep01.srt", source / "ep01.srt")
    dest = str(tmp_path / "out")
    settings = Settings(targets=["en"], model=str(tiny_model))
    signature = run_signature(settings, ["en"])
    episode = load_episode(str(source), "ep01.srt", "s")
    results = translate_episodes([episode], ["en"], settings, signature)[episode.id]
    first = publish(dest, episode, results, signature, settings)
    assert first.status in ("published", "held")

    store = LocalStore(dest)
    store.write("s/ep01/.staging/0a1b2c/en.srt", b"left by a killed run of an earlier version")
    store.write("s/ep01/0123456789abcdef/en.srt", b"uploaded; its manifest never came")
    scan = scan_sources(str(source), "s", dest, signature, settings)
    assert [row.status for row in scan.settled] == ["current"] and not scan.pending
    assert verify_store(store) == []

    # an object the manifest names is gone: the episode is no longer current, it is published again
    named = read_manifest(store, "s", "ep01")["languages"]["en"]["report_html"]
    store.delete(f"s/ep01/{named}")
    rescan = scan_sources(str(source), "s", dest, signature, settings)
    assert [e.episode for e in rescan.pending] == ["ep01"] and not rescan.settled
    repaired = publish(dest, episode, results, signature, settings)
    assert repaired.status == "unchanged" and repaired.uploaded == 1 and verify_store(store) == []

    other = [r.__class__(source=r.source, lang=r.lang, track=r.track.with_texts(["x"] * len(r.track.cues)),
                         report=r.report) for r in results]
    again = publish(dest, episode, other, signature, settings)
    assert again.status == "unchanged" and read_manifest(store, "s", "ep01")["version"] == 1


def test_a_retried_publish_still_sends_its_lines_to_review(tiny_model, tmp_path):
    """The first attempt wrote the manifest but could not ingest (storage gone, or as here a review
    queue that never saw it): the retry finds the manifest unchanged and ingests all the same."""
    import shutil

    from flows.tasks import load_episode, publish
    from localise.review.store import ReviewStore

    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(REPO / "samples" / "tingyu-teahouse" / "ep02.srt", source / "ep02.srt")
    dest = str(tmp_path / "out")
    first_db, second_db = (f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db"))
    settings = Settings(targets=["en"], model=str(tiny_model), review_db_url=first_db)
    signature = run_signature(settings, ["en"])
    episode = load_episode(str(source), "ep02.srt", "s")
    results = translate_episodes([episode], ["en"], settings, signature)[episode.id]
    assert publish(dest, episode, results, signature, settings).status in ("published", "held")
    assert ReviewStore(first_db).track("s", "ep02", "en").track_version == "1"

    elsewhere = settings.model_copy(update={"review_db_url": second_db})
    again = publish(dest, episode, results, signature, elsewhere)
    assert again.status == "unchanged" and again.uploaded == 0
    assert ReviewStore(second_db).track("s", "ep02", "en").track_version == "1"


def test_source_files_that_would_be_the_same_episode_are_all_refused(tmp_path):
    """ep01.srt and ep01.vtt (or 'ep 02.srt' and 'ep-02.srt', or a/ep03.srt and b/ep03.srt) reduce to
    one storage segment: each run published whichever came last over the other, and a file dropped
    beside an episode replaced its tracks. Every file of such an episode is a failed row; the rest
    of the batch goes on."""
    import shutil

    from flows.tasks import scan_sources

    sample = REPO / "samples" / "tingyu-teahouse" / "ep01.srt"
    source = tmp_path / "src"
    for name in ("ep01.srt", "ep01.vtt", "ep 02.srt", "ep-02.srt", "a/ep03.srt", "b/ep03.srt", "ep04.srt"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample, source / name)
    settings = Settings(targets=["en"])
    scan = scan_sources(str(source), "s", str(tmp_path / "out"), run_signature(settings, ["en"]), settings)
    assert [e.episode for e in scan.pending] == ["ep04"]
    failed = sorted((row.episode, row.source) for row in scan.settled)
    assert failed == [("ep-02", "ep 02.srt"), ("ep-02", "ep-02.srt"), ("ep01", "ep01.srt"), ("ep01", "ep01.vtt"),
                      ("ep03", "a/ep03.srt"), ("ep03", "b/ep03.srt")]
    assert all(row.status == "failed" and "rename all but one" in row.error for row in scan.settled)
