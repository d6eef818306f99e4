"""localise.storage on the local-folder backend: key sanitising, layout, quality gate, manifest,
idempotent republish, and a failed publish leaving the previous manifest and tracks in place."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localise.config import QualityGate
from localise.errors import PublishError
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


def test_publish_layout_and_manifest(tmp_path):
    store = LocalStore(tmp_path)
    results = [_result("en", ["Hello", "Bye"]), _result("es", ["Hola", "Adiós"])]
    out = publish_episode(store, "Series", "ep01", results, source=SOURCE, signature=SIGNATURE,
                          quality_gate=QualityGate(max_flagged_share=0.5))
    assert out.uploaded == 7 and out.version == 1 and not out.unchanged
    keys = store.list("Series/ep01")
    assert "Series/ep01/en.srt" in keys and "Series/ep01/es.report.json" in keys
    assert not any(".staging" in k for k in keys)
    manifest = read_manifest(store, "Series", "ep01")
    assert manifest["source"] == SOURCE and manifest["signature"] == SIGNATURE
    assert manifest["languages"]["en"]["status"] == "published"
    for name, digest in manifest["files"].items():
        assert sha256(store.read(f"Series/ep01/{name}")) == digest
    assert "Hola" in store.read("Series/ep01/es.srt").decode()
    assert manifest["published_at"] and manifest["created_at"]


def test_quality_gate_holds_flagged_tracks(tmp_path):
    store = LocalStore(tmp_path)
    results = [_result("en", ["a", "b", "c", "d"], flagged=2), _result("es", ["a", "b", "c", "d"], flagged=0)]
    out = publish_episode(store, "s", "e", results, source=SOURCE, signature=SIGNATURE,
                          quality_gate=QualityGate(max_flagged_share=0.25))
    assert out.languages["en"]["status"] == "held" and out.languages["en"]["track"] == "held/en.srt"
    assert out.languages["en"]["flagged"] == 2 and out.languages["en"]["flag_counts"] == {"glossary": 2}
    assert store.exists("s/e/held/en.srt") and not store.exists("s/e/en.srt")
    assert store.exists("s/e/es.srt")
    # reviewed later: en passes and moves out of held/, the stale held file goes
    fixed = [_result("en", ["A", "B", "C", "D"]), results[1]]
    publish_episode(store, "s", "e", fixed, source=SOURCE, signature=SIGNATURE,
                    quality_gate=QualityGate(max_flagged_share=0.25))
    assert store.exists("s/e/en.srt") and not store.exists("s/e/held/en.srt")


def test_identical_republish_writes_nothing(tmp_path):
    store = CountingStore(tmp_path)
    es = _result("es", ["Hola"])
    results = [_result("en", ["Hello"]), es]
    publish_episode(store, "s", "e", results, source=SOURCE, signature=SIGNATURE)
    before = store.writes
    again = publish_episode(store, "s", "e", results, source=SOURCE, signature=SIGNATURE)
    assert again.unchanged and again.uploaded == 0 and store.writes == before
    # one language changes: only its track and reports, and the manifest, are written
    es_mtime = (tmp_path / "s/e/es.srt").stat().st_mtime_ns
    changed = publish_episode(store, "s", "e", [_result("en", ["Hello there"]), es], source=SOURCE, signature=SIGNATURE)
    assert changed.version == 2 and changed.uploaded == 4
    assert (tmp_path / "s/e/es.srt").stat().st_mtime_ns == es_mtime


def test_failed_promote_keeps_previous_manifest_and_tracks(tmp_path):
    store = CountingStore(tmp_path)
    publish_episode(store, "s", "e", [_result("en", ["one"]), _result("es", ["uno"])], source=SOURCE, signature=SIGNATURE)
    old_manifest = store.read("s/e/manifest.json")
    store.fail_copy_at = store.copies + 4  # 2 backups, then the first promote works, the second fails
    with pytest.raises(PublishError):
        publish_episode(store, "s", "e", [_result("en", ["two"]), _result("es", ["dos"])],
                        source={**SOURCE, "sha256": "new"}, signature=SIGNATURE)
    assert store.read("s/e/manifest.json") == old_manifest
    manifest = json.loads(old_manifest)
    for name, digest in manifest["files"].items():
        assert sha256(store.read(f"s/e/{name}")) == digest, name
    assert not any(".staging" in k for k in store.list("s/e"))


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
