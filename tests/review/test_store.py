from __future__ import annotations

import pytest

from localise.errors import ReviewError
from localise.review import ReviewStore

from tests.review.review_data import EPISODE, make_report


def test_ingest_makes_one_item_per_flagged_cue(store: ReviewStore) -> None:
    items = store.items()
    assert [i.cue_index for i in items] == [1, 2, 4]
    assert items[0].flags == [{"code": "glossary", "severity": "major", "reason": "reason for glossary"}]
    assert (items[0].start_ms, items[0].end_ms, items[0].track_version) == (2000, 3500, "1")
    assert all(i.state == "open" for i in items)


def test_queue_filters(store: ReviewStore) -> None:
    assert [i.cue_index for i in store.items(flag="length")] == [4]
    assert store.items(series="other") == []
    assert store.items(language="es") == []
    assert store.flag_codes() == ["glossary", "length", "low-confidence", "reading-speed"]


def test_new_run_never_overwrites_reviewed_lines(store: ReviewStore) -> None:
    edited, approved, open_ = store.items()
    store.edit(edited.id, "I am President Lin.", reviewer="ann")
    store.approve(approved.id, reviewer="bob")
    rerun = [(s, f"new MT {n}", ["glossary"]) for n, (s, _, _) in enumerate(EPISODE)]
    result = store.ingest_report(make_report(rerun), series="dragon", episode="ep01", track_version="2")
    assert (result.added, result.updated, result.kept) == (2, 1, 2)
    assert store.get(edited.id).text == "I am President Lin."
    assert store.get(edited.id).state == "edited"
    assert store.get(approved.id).text == "<i>Bye</i>"
    assert store.get(open_.id).machine_translation == "new MT 4"
    assert store.get(open_.id).track_version == "2"
    assert store.reviewed_lines("dragon", "ep01", "en") == {1: "I am President Lin.", 2: "<i>Bye</i>"}


def test_a_line_no_longer_flagged_leaves_the_queue(store: ReviewStore) -> None:
    clean = [(s, t, []) for s, t, _ in EPISODE]
    store.ingest_report(make_report(clean), series="dragon", episode="ep01")
    assert store.items(state=None) == []


def test_decisions_feed_translation_memory(store: ReviewStore) -> None:
    item = store.items()[0]
    store.edit(item.id, "I am\nPresident Lin.", reviewer="ann")
    memory = store.memory.for_series("dragon")
    assert memory.exact("我是林总。", "zh", "en") == "I am President Lin."
    assert memory.exact("我是林总。", "zh", "es") is None
    assert store.memory.for_series("other").exact("我是林总。", "zh", "en") is None


def test_reject_keeps_machine_text_and_skips_memory(store: ReviewStore) -> None:
    item = store.items()[0]
    store.reject(item.id, reviewer="ann")
    assert store.get(item.id).text == "I am Lin."
    assert store.memory.for_series("dragon").exact("我是林总。", "zh", "en") is None


def test_bad_input_is_a_review_error(store: ReviewStore) -> None:
    with pytest.raises(ReviewError, match="non-empty"):
        store.edit(store.items()[0].id, "  ")
    with pytest.raises(ReviewError, match="no review item"):
        store.approve(9999)
    with pytest.raises(ReviewError, match="target_language"):
        store.ingest_report({"cues": []}, series="s", episode="e")
    with pytest.raises(ReviewError, match="cue 1 is incomplete"):
        store.ingest_report({"target_language": "en", "cues": [{"source": "x"}]}, series="s", episode="e")


def test_context_is_the_neighbouring_cues(store: ReviewStore) -> None:
    before, after = store.context(store.items()[1], before=1, after=1)
    assert [c["source"] for c in before] == ["我是林总。"]
    assert [c["source"] for c in after] == ["走吧！"]


def test_the_queue_routes_needs_review_and_filters_show_minor_flags() -> None:
    from tests.review.review_data import make_report as report_of

    store = ReviewStore("sqlite://")
    report = report_of([("好。", "OK.", ["length"]), ("他有五千万。", "He has five million.", ["number"]),
                        ("走。", "Go.", ["reading-speed"])])
    report["cues"][0]["flags"][0]["severity"] = "minor"
    report["cues"][2]["flags"][0]["severity"] = "critical"
    store.ingest_report(report, series="s", episode="e1")
    assert [i.cue_index for i in store.items()] == [1, 2]  # major or worse: what needs a person
    assert [i.cue_index for i in store.items(severity="minor")] == [0, 1, 2]  # minor stays visible
    assert [i.cue_index for i in store.items(severity="critical")] == [2]
    with pytest.raises(ReviewError):
        store.items(severity="bad")
