"""XLIFF 2.0 and 1.2: exports read by translate-toolkit (an independent reader), files edited with
translate-toolkit import back, mismatching or hostile files are refused and change nothing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.review.review_data import EPISODE, make_report

from localise.errors import ReviewError
from localise.review import ReviewStore
from localise.review.xliff import export_queue, export_track, import_xliff, plan_import


def _toolkit_store(text: str, version: str):
    from translate.storage import xliff, xliff2

    cls = xliff2.Xliff2File if version == "2.0" else xliff.xlifffile
    return cls.parsestring(text.encode("utf-8"))


def _notes(unit, version: str) -> list[str]:
    """Every note of a unit through translate-toolkit. For 2.0 the notes sit on ``<unit>`` (as the
    spec says); the toolkit's ``getnotes`` looks inside ``<segment>``, so read them off the unit
    element the toolkit gives us."""
    if version == "1.2":
        return unit.getnotes().split("\n")
    unit_el = unit.getunitelement()
    return [n.text for n in unit_el.iter(f"{{{unit.namespace}}}note")]


def _snapshot(store: ReviewStore) -> list[tuple]:
    return [(i.cue_index, i.state, i.final_text) for i in store.items(state=None)]


@pytest.mark.parametrize("version", ["2.0", "1.2"])
def test_track_export_read_by_translate_toolkit(store: ReviewStore, version: str) -> None:
    units = _toolkit_store(export_track(store, "dragon", "ep01", "en", version=version), version).units
    assert [u.source for u in units] == [src for src, _, _ in EPISODE]
    assert [u.target for u in units] == [mt for _, mt, _ in EPISODE]
    for unit, (_, _, codes) in zip(units, EPISODE):
        notes = _notes(unit, version)
        assert [n for n in notes if n.split(" ")[0] in codes] == [f"{c} (major): reason for {c}" for c in codes]
        assert any("-->" in n for n in notes)  # timing
    assert any(n.startswith("我是林总。 = ") for n in _notes(units[2], version))  # previous line as context


@pytest.mark.parametrize("version", ["2.0", "1.2"])
def test_queue_export_holds_flagged_lines_only(store: ReviewStore, version: str) -> None:
    units = _toolkit_store(export_queue(store, version=version), version).units
    assert [u.source for u in units] == ["我是林总。", "<i>再见</i>", "他来了"]
    assert [u.source for u in _toolkit_store(export_queue(store, version=version, flag="length"), version).units] \
        == ["他来了"]


@pytest.mark.parametrize("version", ["2.0", "1.2"])
def test_file_edited_with_translate_toolkit_imports_back(store: ReviewStore, version: str) -> None:
    toolkit = _toolkit_store(export_queue(store, version=version), version)
    toolkit.units[0].target = "I am President Lin."
    toolkit.units[1].markapproved(True)
    result = import_xliff(store, bytes(toolkit), name="ep01.xlf", reviewer="translator")
    assert result == {"edited": 1, "approved": 1}
    assert store.reviewed_lines("dragon", "ep01", "en") == {1: "I am President Lin.", 2: "<i>Bye</i>"}
    assert store.get(store.items(state="edited")[0].id).reviewer == "translator"
    # importing the same file again changes nothing further
    assert import_xliff(store, bytes(toolkit)) == {"edited": 0, "approved": 0}


@pytest.mark.parametrize("version", ["2.0", "1.2"])
def test_stale_export_does_not_undo_a_later_review(store: ReviewStore, version: str) -> None:
    stale = export_track(store, "dragon", "ep01", "en", version=version)  # machine text, before review
    toolkit = _toolkit_store(export_queue(store, version=version), version)
    toolkit.units[0].target = "I am President Lin."
    import_xliff(store, bytes(toolkit), reviewer="translator")
    before = store.reviewed_lines("dragon", "ep01", "en")
    assert import_xliff(store, stale) == {"edited": 0, "approved": 0}
    assert store.reviewed_lines("dragon", "ep01", "en") == before == {1: "I am President Lin."}


def test_unflagged_line_fixed_in_track_export_becomes_an_edit(store: ReviewStore) -> None:
    toolkit = _toolkit_store(export_track(store, "dragon", "ep01", "en", version="2.0"), "2.0")
    toolkit.units[0].target = "Hi."
    import_xliff(store, bytes(toolkit))
    assert store.reviewed_lines("dragon", "ep01", "en") == {0: "Hi."}


@pytest.mark.parametrize("version", ["2.0", "1.2"])
def test_changed_source_is_refused_and_nothing_changes(store: ReviewStore, version: str) -> None:
    toolkit = _toolkit_store(export_queue(store, version=version), version)
    toolkit.units[0].target = "I am President Lin."  # a good edit...
    toolkit.units[1].source = "别的"  # ...and a unit whose source changed
    before = _snapshot(store)
    with pytest.raises(ReviewError, match="source text changed"):
        import_xliff(store, bytes(toolkit), name="ep01.xlf")
    assert _snapshot(store) == before


@pytest.mark.parametrize("version", ["2.0", "1.2"])
def test_unknown_ids_and_tracks_are_refused(store: ReviewStore, version: str) -> None:
    text = export_queue(store, version=version)
    before = _snapshot(store)
    with pytest.raises(ReviewError, match="unknown unit id 'c99'"):
        import_xliff(store, text.replace('id="c1"', 'id="c99"').replace(">I am Lin.<", ">Edited<"))
    with pytest.raises(ReviewError, match="unknown track"):
        import_xliff(store, text.replace("dragon/ep01/en", "dragon/ep02/en"))
    assert _snapshot(store) == before


XXE = """<?xml version="1.0"?>
<!DOCTYPE xliff [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="zh" trgLang="en">
<file id="f1" original="dragon/ep01/en"><unit id="c1"><segment><source>我是林总。</source>
<target>&xxe;</target></segment></unit></file></xliff>"""

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<xliff xmlns="urn:oasis:names:tc:xliff:document:1.2" version="1.2">
<file original="dragon/ep01/en" source-language="zh" target-language="en" datatype="plaintext"><body>
<trans-unit id="c1"><source>我是林总。</source><target>&lol4;</target></trans-unit></body></file></xliff>"""


@pytest.mark.parametrize("payload", [XXE, LAUGHS], ids=["external-entity", "billion-laughs"])
def test_xml_attacks_are_refused(store: ReviewStore, payload: str) -> None:
    before = _snapshot(store)
    with pytest.raises(ReviewError, match="refused: the file declares entity"):
        import_xliff(store, payload.encode(), name="evil.xlf")
    assert _snapshot(store) == before


def test_export_refuses_mixed_languages_and_unknown_version(store: ReviewStore) -> None:
    store.ingest_report(make_report(EPISODE, lang="es"), series="dragon", episode="ep01")
    with pytest.raises(ReviewError, match="one language pair"):
        export_queue(store)
    assert "trgLang=\"es\"" in export_queue(store, language="es")
    with pytest.raises(ReviewError, match="unknown XLIFF version"):
        export_queue(store, language="es", version="3.0")


_line = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r"), min_size=1,
                max_size=30).filter(lambda s: s.strip() == s and s.strip())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sources=st.lists(_line, min_size=1, max_size=4), version=st.sampled_from(["2.0", "1.2"]),
       edit=_line)
def test_round_trip_any_text(tmp_path_factory, sources: list[str], version: str, edit: str) -> None:
    """Whatever the text (markup, ampersands, emoji, CJK), an exported file imports back as a no-op,
    and an edit of the first line comes back exactly."""
    store = ReviewStore(f"sqlite:///{tmp_path_factory.mktemp('rt') / 'r.db'}")
    store.ingest_report(make_report([(s, s + "!", ["x"]) for s in sources]), series="s", episode="e")
    text = export_track(store, "s", "e", "en", version=version)
    assert plan_import(store, text) == []
    toolkit = _toolkit_store(text, version)
    toolkit.units[0].target = edit
    decisions = plan_import(store, bytes(toolkit))
    if edit != sources[0] + "!":
        assert [(d.cue_index, d.state, d.text) for d in decisions] == [(0, "edited", edit)]


# -- issue 12: languages, duplicate ids, target length, scope --------------------------------------
@pytest.mark.parametrize("version,attr,value", [
    ("2.0", 'trgLang="en"', 'trgLang="fr"'), ("2.0", 'srcLang="zh"', 'srcLang="ja"'),
    ("1.2", 'target-language="en"', 'target-language="fr"'), ("1.2", 'source-language="zh"', 'source-language="ja"'),
    ("2.0", ' trgLang="en"', ""), ("1.2", ' target-language="en"', ""),
])
def test_import_refuses_languages_other_than_the_tracks(store: ReviewStore, version: str, attr: str,
                                                        value: str) -> None:
    text = export_queue(store, version=version)
    assert attr in text
    changed = text.replace(attr, value).replace(">I am Lin.<", ">Je suis Lin.<")
    before = _snapshot(store)
    with pytest.raises(ReviewError, match="the track's is"):
        import_xliff(store, changed)
    assert _snapshot(store) == before


def test_import_accepts_language_tags_in_another_case(store: ReviewStore) -> None:
    text = export_queue(store, version="2.0").replace('trgLang="en"', 'trgLang="EN"')
    assert import_xliff(store, text.replace(">I am Lin.<", ">I am President Lin.<")) == {"edited": 1, "approved": 0}


@pytest.mark.parametrize("version", ["2.0", "1.2"])
def test_import_refuses_duplicate_unit_ids(store: ReviewStore, version: str) -> None:
    import re

    text = export_queue(store, version=version)
    tag = "unit" if version == "2.0" else "trans-unit"
    first = re.search(rf"<{tag} id=\"c1\".*?</{tag}>", text, re.S).group(0)
    doubled = text.replace(first, first.replace(">I am Lin.<", ">First.<") + first.replace(">I am Lin.<", ">Second.<"))
    before = _snapshot(store)
    with pytest.raises(ReviewError, match="appears more than once"):
        import_xliff(store, doubled)
    assert _snapshot(store) == before


def test_import_refuses_a_huge_target(store: ReviewStore) -> None:
    text = export_queue(store, version="2.0")
    huge = text.replace(">I am Lin.<", ">" + "x" * 50_000 + "<").replace(">He <", ">He, shorter <")
    before = _snapshot(store)
    with pytest.raises(ReviewError, match="at most 2000"):
        import_xliff(store, huge)
    with pytest.raises(ReviewError, match="at most 100"):
        import_xliff(store, text.replace(">I am Lin.<", ">" + "y" * 101 + "<"), max_target_chars=100)
    assert _snapshot(store) == before


def test_import_outside_the_callers_series_is_refused(store: ReviewStore) -> None:
    from localise.review.access import ScopeError

    text = export_queue(store, version="2.0").replace(">I am Lin.<", ">Changed.<")
    with pytest.raises(ScopeError, match="outside"):
        import_xliff(store, text, series_in={"tiger"})
    assert import_xliff(store, text, series_in={"dragon"}) == {"edited": 1, "approved": 0}
    assert "dragon/ep01/en" in export_queue(store, version="2.0", state=None, series_in={"dragon", "tiger"})
    with pytest.raises(ReviewError, match="nothing to export"):
        export_queue(store, version="2.0", state=None, series_in={"tiger"})
