"""localise.storage on the local-folder backend: key sanitising, content-addressed layout, quality
gate, manifest, idempotent republish, outages mid-publish leaving a manifest that names exactly
what exists, the manifest's compare-and-swap, sweeping leftovers, and verify_store.
Concurrency and crashes (threads, processes, SIGKILL, a full disk): tests/test_publish_concurrency.py."""

from __future__ import annotations

import json
import pickle
import re
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localise.config import QualityGate
from localise.errors import PublishConflict, PublishError
from localise.model import Cue, Track
from localise.pipeline import LocalisedTrack
from localise.storage import (
    LocalStore,
    S3Store,
    episode_name,
    join_key,
    list_sources,
    open_store,
    publish_episode,
    read_manifest,
    safe_segment,
    sha256,
    tidy_episode,
    verify_store,
)

SOURCE = {"name": "ep01.srt", "sha256": "abc"}
SIGNATURE = {"engine": "test", "model": "m", "glossary_version": "g1"}


def _track(texts: list[str]) -> Track:
    return Track(cues=[Cue(i * 2000, i * 2000 + 1500, t, id=str(i + 1)) for i, t in enumerate(texts)], format="srt")


def _result(lang: str, texts: list[str], flagged: int = 0) -> LocalisedTrack:
    """A localised track with a real report whose first ``flagged`` cues carry a major flag."""
    from localise.model import Flag
    from localise.quality.report import build_report

    source, target = _track(["源"] * len(texts)), _track(texts)
    flags = [[Flag("glossary", "major", "term missing")] if i < flagged else [] for i in range(len(texts))]
    report = build_report(source, target, flags, src_lang="zh", tgt_lang=lang)
    return LocalisedTrack(source=source, lang=lang, track=target, report=report)


class CountingStore(LocalStore):
    """A real local store that counts writes and can be told to fail the n-th copy (fault injection)."""

    def __init__(self, root: Path, fail_copy_at: int | None = None) -> None:
        super().__init__(root)
        self.writes = 0
        self.copies = 0
        self.fail_copy_at = fail_copy_at

    def write(self, key, data, content_type=None):
        self.writes += 1
        super().write(key, data, content_type)

    def copy(self, src, dst):
        self.copies += 1
        if self.fail_copy_at is not None and self.copies == self.fail_copy_at:
            raise PublishError(f"injected failure copying {src}")
        super().copy(src, dst)


@pytest.mark.parametrize("raw", ["..", "../../x", "/etc/passwd", "a/../../b", ".hidden", "", "  ", "\\..\\x"])
def test_safe_segment_never_escapes(raw):
    seg = safe_segment(raw)
    assert seg and "/" not in seg and "\\" not in seg and not seg.startswith(".")


@given(st.lists(st.text(max_size=30), min_size=1, max_size=4))
def test_join_key_stays_under_root(tmp_path_factory, parts):
    root = tmp_path_factory.mktemp("store")
    store = LocalStore(root)
    key = join_key(*parts)
    assert store.location(key).startswith(str(store.root) + "/")


def test_traversal_name_is_written_inside_the_prefix(tmp_path):
    store = LocalStore(tmp_path / "out")
    episode = episode_name("../../x.srt")
    assert episode == "x"
    result = publish_episode(store, "../..", episode, [_result("en", ["Hi"])], source=SOURCE, signature=SIGNATURE)
    assert result.manifest_key.startswith("_/x/")
    assert all(p.resolve().is_relative_to(tmp_path / "out") for p in tmp_path.rglob("*"))
    with pytest.raises(PublishError):
        store.write("../escape.txt", b"no")


def test_chinese_names_survive():
    assert safe_segment("霸总的契约新娘") == "霸总的契约新娘"
    assert episode_name("第1集.srt") == "第1集"


def _track_key(store, series, episode, lang):
    manifest = read_manifest(store, series, episode)
    return f"{series}/{episode}/{manifest['languages'][lang]['track']}"


def test_publish_layout_and_manifest(tmp_path):
    store = LocalStore(tmp_path)
    results = [_result("en", ["Hello", "Bye"]), _result("es", ["Hola", "Adiós"])]
    out = publish_episode(store, "Series", "ep01", results, source=SOURCE, signature=SIGNATURE,
                          quality_gate=QualityGate(max_flagged_share=0.5))
    assert out.uploaded == 7 and out.version == 1 and not out.unchanged
    manifest = read_manifest(store, "Series", "ep01")
    en, es = manifest["languages"]["en"], manifest["languages"]["es"]
    # content-addressed: <hash>/<lang>.<ext>, the file name a player downloads stays <lang>.<ext>
    assert re.fullmatch(r"[0-9a-f]{16}/en\.srt", en["track"]) and en["report"] == en["track"][:-4] + ".report.json"
    assert es["report_html"].endswith("/es.report.html") and en["track"].split("/")[0] != es["track"].split("/")[0]
    keys = set(store.list("Series/ep01"))
    assert {f"Series/ep01/{name}" for name in manifest["files"]} | {"Series/ep01/manifest.json",
                                                                      "Series/ep01/.lease"} == keys
    assert manifest["source"] == SOURCE and manifest["signature"] == SIGNATURE
    assert en["status"] == "published" and manifest["schema"] == 2
    for name, digest in manifest["files"].items():
        assert sha256(store.read(f"Series/ep01/{name}")) == digest
    assert "Hola" in store.read(f"Series/ep01/{es['track']}").decode()
    assert manifest["published_at"] and manifest["created_at"]
    assert verify_store(store) == [] and verify_store(store, "Series") == []


def test_quality_gate_holds_flagged_tracks(tmp_path):
    store = LocalStore(tmp_path)
    results = [_result("en", ["a", "b", "c", "d"], flagged=2), _result("es", ["a", "b", "c", "d"], flagged=0)]
    out = publish_episode(store, "s", "e", results, source=SOURCE, signature=SIGNATURE,
                          quality_gate=QualityGate(max_flagged_share=0.25))
    assert out.languages["en"]["status"] == "held" and re.fullmatch(r"held/[0-9a-f]{16}/en\.srt",
                                                                     out.languages["en"]["track"])
    assert out.languages["en"]["flagged"] == 2 and out.languages["en"]["flag_counts"] == {"glossary": 2}
    en_tracks = [k for k in store.list("s/e") if k.endswith("/en.srt")]
    assert en_tracks == [f"s/e/{out.languages['en']['track']}"]  # no public en track at all
    assert store.exists(_track_key(store, "s", "e", "es")) and not _track_key(store, "s", "e", "es").count("held")
    # reviewed later: en passes and moves out of held/, the superseded held files go
    fixed = [_result("en", ["A", "B", "C", "D"]), results[1]]
    again = publish_episode(store, "s", "e", fixed, source=SOURCE, signature=SIGNATURE,
                            quality_gate=QualityGate(max_flagged_share=0.25))
    assert again.languages["en"]["status"] == "published"
    assert not [k for k in store.list("s/e") if "/held/" in k]
    assert verify_store(store) == []
    # and held again: the public en track goes as soon as the new manifest is in place
    publish_episode(store, "s", "e", results, source=SOURCE, signature=SIGNATURE,
                    quality_gate=QualityGate(max_flagged_share=0.25))
    assert [k for k in store.list("s/e") if k.endswith("/en.srt")] == [_track_key(store, "s", "e", "en")]
    assert "/held/" in _track_key(store, "s", "e", "en") and verify_store(store) == []


def test_identical_republish_writes_nothing(tmp_path):
    store = CountingStore(tmp_path)
    es = _result("es", ["Hola"])
    results = [_result("en", ["Hello"]), es]
    publish_episode(store, "s", "e", results, source=SOURCE, signature=SIGNATURE)
    before = store.writes
    lease_before = (tmp_path / "s/e/.lease").stat().st_mtime_ns
    again = publish_episode(store, "s", "e", results, source=SOURCE, signature=SIGNATURE)
    assert again.unchanged and again.uploaded == 0 and store.writes == before
    assert (tmp_path / "s/e/.lease").stat().st_mtime_ns == lease_before  # not even the lease
    # one language changes: only its track and reports, and the manifest, are written
    es_path = tmp_path / _track_key(store, "s", "e", "es")
    es_mtime = es_path.stat().st_mtime_ns
    changed = publish_episode(store, "s", "e", [_result("en", ["Hello there"]), es], source=SOURCE, signature=SIGNATURE)
    assert changed.version == 2 and changed.uploaded == 4
    assert es_path.stat().st_mtime_ns == es_mtime
    assert verify_store(store) == []


class FailingStore(LocalStore):
    """A real local store whose plain writes start failing after ``ok_writes`` (storage gone
    mid-publish); conditional writes (lease, manifest) fail too while it is down."""

    def __init__(self, root: Path, ok_writes: int | None = None) -> None:
        super().__init__(root)
        self.ok_writes = ok_writes
        self.writes = 0

    def _down(self) -> bool:
        return self.ok_writes is not None and self.writes >= self.ok_writes

    def write(self, key, data, content_type=None):
        if self._down():
            raise PublishError(f"injected outage writing {key}")
        self.writes += 1
        super().write(key, data, content_type)

    def delete(self, key):
        if self._down():
            raise PublishError(f"injected outage deleting {key}")
        super().delete(key)


@pytest.mark.parametrize("ok_writes", [0, 1, 2, 3, 4, 5, 6, 7])
def test_outage_mid_republish_keeps_a_true_manifest_and_a_rerun_repairs(tmp_path, ok_writes):
    """Storage gone after n writes of a republish (uploads; manifest; sweep): the manifest in
    place always names exactly what exists; the rerun uploads only what is missing."""
    store = FailingStore(tmp_path)
    first = [_result("en", ["one"]), _result("es", ["uno"])]
    publish_episode(store, "s", "e", first, source=SOURCE, signature=SIGNATURE)
    old_manifest = store.read("s/e/manifest.json")
    second = [_result("en", ["two"]), _result("es", ["dos"])]
    store.writes, store.ok_writes = 0, ok_writes
    try:
        publish_episode(store, "s", "e", second, source={**SOURCE, "sha256": "new"}, signature=SIGNATURE)
        finished = True
    except PublishError:
        finished = False
    problems = verify_store(store)
    assert not [p for p in problems if p.kind != "unlisted"], problems  # never missing or wrong bytes
    manifest = read_manifest(store, "s", "e")
    if not finished:
        assert store.read("s/e/manifest.json") == old_manifest  # nothing users see changed
    store.ok_writes = None
    kept = set(store.list("s/e"))
    rerun = publish_episode(store, "s", "e", second, source={**SOURCE, "sha256": "new"}, signature=SIGNATURE)
    assert verify_store(store) == []
    after = read_manifest(store, "s", "e")
    assert after["source"]["sha256"] == "new"
    if not finished:  # what the outage left uploaded is not uploaded again
        assert rerun.uploaded == len({f"s/e/{n}" for n in after["files"]} - kept) + 1
        assert ok_writes < 2 or rerun.uploaded < 7
    else:
        assert rerun.unchanged and manifest["version"] == 2


def test_write_if_is_a_compare_and_swap(tmp_path):
    store = LocalStore(tmp_path)
    etag = store.write_if("a/b.json", b"1", etag=None)
    with pytest.raises(PublishConflict):
        store.write_if("a/b.json", b"2", etag=None)
    newer = store.write_if("a/b.json", b"2", etag=etag)
    with pytest.raises(PublishConflict):
        store.write_if("a/b.json", b"3", etag=etag)  # stale ETag
    assert store.read_with_etag("a/b.json") == (b"2", newer)
    with pytest.raises(PublishConflict):
        store.write_if("a/missing.json", b"x", etag=newer)


def test_stale_manifest_etag_refuses_to_overwrite_a_newer_publish(tmp_path):
    """A writer whose lease was taken over (it stalled past the TTL) cannot replace the manifest
    the new holder wrote: the manifest write is conditional on the ETag it started from."""
    from localise.lease import acquire_lease

    store = LocalStore(tmp_path)
    publish_episode(store, "s", "e", [_result("en", ["one"])], source=SOURCE, signature=SIGNATURE)
    stalled = acquire_lease(store, "s/e/.lease", ttl=0.2)
    time.sleep(0.3)  # expired: the next writer takes over
    publish_episode(store, "s", "e", [_result("en", ["two"])], source=SOURCE, signature=SIGNATURE, lease_wait=2)
    with pytest.raises(PublishConflict):
        publish_episode(store, "s", "e", [_result("en", ["three"])], source=SOURCE, signature=SIGNATURE,
                        lease=stalled)
    assert "two" in store.read(_track_key(store, "s", "e", "en")).decode() and verify_store(store) == []


def test_keep_if_leaves_a_manifest_that_already_says_it(tmp_path):
    store = LocalStore(tmp_path)
    publish_episode(store, "s", "e", [_result("en", ["reviewed"])], source=SOURCE, signature=SIGNATURE)
    kept = publish_episode(store, "s", "e", [_result("en", ["machine"])], source=SOURCE, signature=SIGNATURE,
                           keep_if=lambda m: m["source"] == SOURCE)
    assert kept.unchanged and kept.version == 1 and "reviewed" in store.read(_track_key(store, "s", "e", "en")).decode()
    assert kept.languages["en"]["track"] == read_manifest(store, "s", "e")["languages"]["en"]["track"]


def test_earlier_layout_and_leftovers_are_swept_on_republish(tmp_path):
    """Schema-1 stores (flat <lang>.<ext>, a public en.srt left beside a held manifest, .staging/
    of a killed run) become the content-addressed layout at the next publish; other files stay."""
    store = LocalStore(tmp_path)
    for name in ("en.srt", "en.report.json", "held/es.srt", ".staging/abc/en.srt", ".staging/abc/.previous/en.srt"):
        store.write(f"s/e/{name}", b"old")
    store.write("s/e/notes.txt", b"someone else's")
    store.write("s/e/manifest.json", json.dumps({"schema": 1, "files": {"held/es.srt": sha256(b"old")},
                                                 "languages": {}, "version": 3}).encode())
    kinds = sorted({p.kind for p in verify_store(store)})
    assert kinds == ["unlisted"]
    out = publish_episode(store, "s", "e", [_result("en", ["a"])], source=SOURCE, signature=SIGNATURE)
    assert out.version == 4
    assert [str(p) for p in verify_store(store)] == ["unlisted: s/e/notes.txt (not named by the manifest)"]
    assert store.read("s/e/notes.txt") == b"someone else's"
    assert not (tmp_path / "s/e/.staging").exists()


def test_tidy_episode_sweeps_an_interrupted_runs_uploads(tmp_path):
    store = LocalStore(tmp_path)
    publish_episode(store, "s", "e", [_result("en", ["a"])], source=SOURCE, signature=SIGNATURE)
    store.write("s/e/0123456789abcdef/en.srt", b"an upload whose manifest never came")
    store.write("s/e/.staging/x/en.srt", b"old staging")
    assert {p.kind for p in verify_store(store)} == {"unlisted"}
    assert tidy_episode(store, "s", "e") == [".staging/x/en.srt", "0123456789abcdef/en.srt"]
    assert verify_store(store) == []


def test_verify_store_names_each_kind_of_problem(tmp_path):
    store = LocalStore(tmp_path)
    publish_episode(store, "s", "e", [_result("en", ["a", "b"], flagged=2), _result("es", ["a"])],
                    source=SOURCE, signature=SIGNATURE, quality_gate=QualityGate(max_flagged_share=0.1))
    manifest = read_manifest(store, "s", "e")
    en, es = dict(manifest["languages"]["en"]), manifest["languages"]["es"]
    store.delete(f"s/e/{es['report_html']}")
    store.write(f"s/e/{es['track']}", b"other bytes")
    # a manifest that says "held" but points at a public track, which it lists but which is missing
    manifest["languages"]["en"]["track"] = en["track"].removeprefix("held/")
    manifest["files"][manifest["languages"]["en"]["track"]] = manifest["files"].pop(en["track"])
    store.write("s/e/manifest.json", json.dumps(manifest).encode())
    store.write("s/e2/en.srt", b"no manifest")
    store.write("stray.txt", b"x")
    found = {(p.kind, p.key) for p in verify_store(store)}
    assert found == {
        ("missing", f"s/e/{es['report_html']}"),
        ("checksum", f"s/e/{es['track']}"),
        ("missing", f"s/e/{manifest['languages']['en']['track']}"),
        ("held-public", f"s/e/{manifest['languages']['en']['track']}"),
        ("unlisted", f"s/e/{en['track']}"),
        ("unlisted", "s/e2/en.srt"),
        ("unlisted", "stray.txt"),
    }
    assert {p.kind for p in verify_store(store, checksums=False)} == {"missing", "held-public", "unlisted"}


def test_list_sources_skips_hidden_and_non_subtitles(tmp_path):
    (tmp_path / "ep01.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\n你好\n")
    (tmp_path / "ep02.vtt").write_text("WEBVTT\n")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / ".staging").mkdir()
    (tmp_path / ".staging" / "ep03.srt").write_text("x")
    found = list_sources(LocalStore(tmp_path))
    assert [(s.key, s.episode) for s in found] == [("ep01.srt", "ep01"), ("ep02.vtt", "ep02")]


def test_open_store_urls(tmp_path):
    assert isinstance(open_store(tmp_path), LocalStore)
    s3 = open_store("s3://bucket/some/prefix/", endpoint_url="http://127.0.0.1:1")
    assert isinstance(s3, S3Store) and s3.bucket == "bucket" and s3.prefix == "some/prefix"
    assert s3.addressing_style == "path"
    assert pickle.loads(pickle.dumps(s3)).url == "s3://bucket/some/prefix"
    with pytest.raises(Exception):
        open_store("ftp://x/y")


def test_s3_stores_share_one_client_per_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch opens a store several times per episode; a boto3 client costs ~0.1 s of CPU to make."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key-one")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    first = open_store("s3://bucket/a", endpoint_url="http://127.0.0.1:1", region="us-east-1")
    second = open_store("s3://bucket/b", endpoint_url="http://127.0.0.1:1", region="us-east-1")
    assert first.client is second.client
    assert pickle.loads(pickle.dumps(first)).client is first.client  # rebuilt in a worker: the same one
    other_endpoint = open_store("s3://bucket/a", endpoint_url="http://127.0.0.1:2", region="us-east-1")
    assert other_endpoint.client is not first.client
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key-two")  # other credentials: never the old client
    assert open_store("s3://bucket/a", endpoint_url="http://127.0.0.1:1", region="us-east-1").client is not first.client


def test_a_rerun_puts_back_objects_its_manifest_names_that_are_gone(tmp_path):
    store = LocalStore(tmp_path)
    results = [_result("en", ["a"]), _result("es", ["b"])]
    publish_episode(store, "s", "e", results, source=SOURCE, signature=SIGNATURE)
    track = _track_key(store, "s", "e", "en")
    store.delete(track)
    assert [p.kind for p in verify_store(store)] == ["missing"]
    again = publish_episode(store, "s", "e", results, source=SOURCE, signature=SIGNATURE)
    assert again.unchanged and again.uploaded == 1 and again.version == 1
    assert verify_store(store) == []
    # a manifest kept by keep_if whose objects are gone is not kept: it is replaced
    store.delete(track)
    replaced = publish_episode(store, "s", "e", [_result("en", ["c"]), results[1]], source=SOURCE,
                               signature=SIGNATURE, keep_if=lambda m: True)
    assert not replaced.unchanged and replaced.version == 2 and verify_store(store) == []


def test_storage_verify_command(tmp_path):
    from typer.testing import CliRunner

    from localise.cli import app

    runner = CliRunner()
    store = LocalStore(tmp_path)
    publish_episode(store, "s", "e", [_result("en", ["a"])], source=SOURCE, signature=SIGNATURE)
    assert runner.invoke(app, ["storage", "verify", str(tmp_path)]).exit_code == 0
    store.write("s/e/.staging/run/en.srt", b"left by a killed run")
    found = runner.invoke(app, ["storage", "verify", str(tmp_path), "--series", "s", "--no-checksums"])
    assert found.exit_code == 1 and "unlisted: s/e/.staging/run/en.srt" in found.output
    tidied = runner.invoke(app, ["storage", "verify", str(tmp_path), "--tidy"])
    assert tidied.exit_code == 0 and "swept 1 object(s)" in tidied.output and "consistent" in tidied.output
    assert runner.invoke(app, ["storage", "verify", "ftp://nowhere"]).exit_code == 2
    typo = runner.invoke(app, ["storage", "verify", str(tmp_path / "no-such-store")])  # not "consistent"
    assert typo.exit_code == 2 and "no such folder" in typo.output


def test_keep_if_under_the_lease_uploads_nothing(tmp_path):
    """A manifest kept by keep_if under the lease (another run's content) gets none of this
    publish's objects, not even for a moment."""
    from localise.lease import acquire_lease

    store = CountingStore(tmp_path)
    publish_episode(store, "s", "e", [_result("en", ["reviewed"])], source=SOURCE, signature=SIGNATURE)
    before = store.writes
    with acquire_lease(store, "s/e/.lease") as lease:
        lease_writes = store.writes - before
        kept = publish_episode(store, "s", "e", [_result("en", ["machine"])], source=SOURCE, signature=SIGNATURE,
                               keep_if=lambda m: True, lease=lease)
        assert kept.unchanged and kept.uploaded == 0 and store.writes - before == lease_writes


def test_flag_stats_count_the_cues_that_need_review() -> None:
    from localise.storage import flag_stats

    report = {"cues": [
        {"flags": [{"code": "length", "severity": "minor"}], "need_review": False},
        {"flags": [{"code": "number", "severity": "major"}], "need_review": True},
        {"flags": [{"code": "empty", "severity": "critical"}]},  # an older report without the field
        {"flags": []},
    ]}
    stats = flag_stats(report)
    assert (stats["flagged"], stats["need_review"], stats["need_review_share"]) == (3, 2, 0.5)


def test_the_batch_summary_shows_need_review_per_episode_and_language() -> None:
    from flows.tasks import Outcome, summary_markdown

    row = Outcome("s", "ep01", "ep01.srt", "published", None,
                  {"en": {"cues": 40, "flagged": 6, "need_review": 2, "need_review_share": 0.05, "track": "x"}}, 3, "m")
    table = summary_markdown([row])
    assert "| need review |" in table and "| 2 (5.0 %) | 6/40 |" in table


def test_sources_are_listed_in_episode_order_numbers_by_value(tmp_path: Path) -> None:
    """ep2 before ep10 (chunks and the LLM's running summary follow the story, not the alphabet)."""
    store = LocalStore(tmp_path)
    for name in ("ep10.srt", "ep2.srt", "ep1.srt", "ep9.ass", "notes.txt"):
        store.write(name, b"1\n00:00:01,000 --> 00:00:02,000\n\xe4\xbd\xa0\xe5\xa5\xbd\n")
    assert [s.key for s in list_sources(store)] == ["ep1.srt", "ep2.srt", "ep9.ass", "ep10.srt"]


def test_shared_episodes_names_every_file_of_an_episode_several_files_would_be() -> None:
    from localise.storage import SourceFile, shared_episodes

    keys = ["ep01.srt", "ep01.vtt", "ep 02.srt", "ep-02.srt", "x/ep03.ass", "ep04.srt", "ep..04.srt"]
    clashes = shared_episodes(SourceFile(k, episode_name(k)) for k in keys)
    assert clashes == {"ep01": ["ep01.srt", "ep01.vtt"], "ep-02": ["ep 02.srt", "ep-02.srt"]}
