"""Resumable runs (localise.resume): `localise translate` keeps finished files and engine calls in a
cache folder, an identical rerun does no engine work, an interrupted run redoes only the rest, and
the outputs are byte for byte those of an uninterrupted run. Real tiny model, real files, real CLI."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from localise.cli import app
from localise.model import Translation
from localise.resume import CACHE_DIRNAME, FolderCache, RunCache, TranslationCache, work_key

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _srt(n: int, cues: int = 6) -> str:
    lines = []
    for i in range(cues):
        start = i * 3
        lines.append(f"{i + 1}\n00:00:{start:02d},000 --> 00:00:{start + 2:02d},000\n第{n}集第{i}句，你听我说。\n")
    return "\n".join(lines)


@pytest.fixture()
def sources(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    paths = []
    for n in range(5):
        path = folder / f"ep{n:02d}.srt"
        path.write_text(_srt(n), encoding="utf-8")
        paths.append(path)
    return paths


@pytest.fixture()
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of texts of every real engine call (the tiny Marian model's ``translate``); the
    registry's in-process hop memo is cleared so only the resume cache can answer."""
    import localise.engines.registry as registry
    from localise.engines.hf import HFEngine

    calls: list[int] = []
    real = HFEngine.translate

    def counted(self, texts, *args):  # noqa: ANN001, ANN202
        calls.append(len(texts))
        return real(self, texts, *args)

    monkeypatch.setattr(HFEngine, "translate", counted)
    registry.clear_cache()
    yield calls
    registry.clear_cache()


def _translate(*args: str):  # noqa: ANN202
    import localise.engines.registry as registry

    registry._HOP_MEMO.clear()  # noqa: SLF001 - a rerun in a new process has no memo either
    return runner.invoke(app, ["translate", *args])


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def _cli(sources: list[Path], out: Path, model: Path, *extra: str, to: str = "en") -> list[str]:
    return [*map(str, sources), "--to", to, "--model", str(model), "--out", str(out), *extra]


# ------------------------------------------------------------------ the CLI


def test_an_identical_rerun_makes_no_engine_call_and_writes_the_same_bytes(
        sources: list[Path], tmp_path: Path, tiny_model: Path, engine_calls: list[int]) -> None:
    out = tmp_path / "out"
    first = _translate(*_cli(sources, out, tiny_model))
    assert first.exit_code == 0, first.output
    assert engine_calls and "already done" not in first.output
    written = _outputs(out)
    assert len(written) == 5 * 3 and (out / CACHE_DIRNAME).is_dir()

    engine_calls.clear()
    again = _translate(*_cli(sources, out, tiny_model))
    assert again.exit_code == 0, again.output
    assert engine_calls == []
    assert "5 of 5 files already done" in again.output
    assert _outputs(out) == written

    # --no-cache: the engine works again, and the words are the same
    fresh = _translate(*_cli(sources, tmp_path / "fresh", tiny_model, "--no-cache"))
    assert fresh.exit_code == 0, fresh.output
    assert engine_calls and not (tmp_path / "fresh" / CACHE_DIRNAME).exists()
    assert _outputs(tmp_path / "fresh") == written


def test_a_changed_file_or_setting_is_done_again_and_only_that(
        sources: list[Path], tmp_path: Path, tiny_model: Path, engine_calls: list[int]) -> None:
    out = tmp_path / "out"
    assert _translate(*_cli(sources, out, tiny_model)).exit_code == 0
    sources[1].write_text(_srt(1) + "\n7\n00:00:30,000 --> 00:00:32,000\n新的一句话。\n", encoding="utf-8")
    engine_calls.clear()
    result = _translate(*_cli(sources, out, tiny_model))
    assert result.exit_code == 0, result.output
    assert "4 of 5 files already done" in result.output
    assert sum(engine_calls) == 1  # the one new line; ep01's other lines are finished engine calls

    engine_calls.clear()
    other_format = _translate(*_cli(sources, out, tiny_model, "--format", "vtt"))
    assert other_format.exit_code == 0, other_format.output
    assert "already done" not in other_format.output and engine_calls == []  # new files, same engine work


def test_ctrl_c_during_a_file_keeps_the_finished_ones_and_the_rerun_redoes_only_the_rest(
        sources: list[Path], tmp_path: Path, tiny_model: Path, engine_calls: list[int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import localise.pipeline as pipeline
    import localise.quality.report as report

    reference = tmp_path / "reference"
    assert _translate(*_cli(sources, reference, tiny_model, "--no-cache")).exit_code == 0
    all_texts = sum(engine_calls)

    out = tmp_path / "out"
    real_html = report.render_html
    rendered: list[dict] = []

    def interrupted_on_the_third_file(rep):  # noqa: ANN001, ANN202
        rendered.append(rep)
        if len(rendered) == 3:
            raise KeyboardInterrupt  # Ctrl-C while the third file is being written
        return real_html(rep)

    monkeypatch.setattr(report, "render_html", interrupted_on_the_third_file)
    engine_calls.clear()
    stopped = _translate(*_cli(sources, out, tiny_model))
    assert stopped.exit_code == 130, stopped.output
    assert "interrupted" in stopped.output and "2 finished" in stopped.output
    assert _outputs(out) == {}  # all or nothing in OUT: the finished work is in the cache only
    assert sum(engine_calls) == all_texts
    monkeypatch.setattr(report, "render_html", real_html)

    localised: list[int] = []
    real_tracks = pipeline.localise_tracks
    monkeypatch.setattr(pipeline, "localise_tracks",
                        lambda tracks, *a, **k: localised.append(len(tracks)) or real_tracks(tracks, *a, **k))
    engine_calls.clear()
    resumed = _translate(*_cli(sources, out, tiny_model))
    assert resumed.exit_code == 0, resumed.output
    assert "2 of 5 files already done" in resumed.output
    assert localised == [3]  # only the three unfinished files went through the pipeline
    assert engine_calls == []  # and their engine calls had finished before the stop
    assert _outputs(out) == _outputs(reference)


def test_ctrl_c_during_machine_translation_keeps_the_finished_engine_calls(
        sources: list[Path], tmp_path: Path, tiny_model: Path, engine_calls: list[int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import localise.engines.hf as hf
    import localise.pipeline as pipeline

    reference = tmp_path / "reference"
    assert _translate(*_cli(sources, reference, tiny_model, "--no-cache")).exit_code == 0
    all_texts = sum(engine_calls)
    monkeypatch.setattr(pipeline, "CACHE_SLICE_UNITS", 4)

    counted = hf.HFEngine.translate

    def stop_on_the_third_slice(self, texts, *args):  # noqa: ANN001, ANN202
        if len(engine_calls) == 2:
            raise KeyboardInterrupt
        return counted(self, texts, *args)

    monkeypatch.setattr(hf.HFEngine, "translate", stop_on_the_third_slice)
    engine_calls.clear()
    out = tmp_path / "out"
    stopped = _translate(*_cli(sources, out, tiny_model))
    assert stopped.exit_code == 130 and engine_calls == [4, 4]
    monkeypatch.setattr(hf.HFEngine, "translate", counted)

    engine_calls.clear()
    resumed = _translate(*_cli(sources, out, tiny_model))
    assert resumed.exit_code == 0, resumed.output
    assert sum(engine_calls) == all_texts - 8  # the two finished slices are not translated again
    assert _outputs(out) == _outputs(reference)


def test_sigint_to_a_real_run_then_the_rerun_finishes_only_the_rest(
        tmp_path: Path, tiny_model: Path, engine_calls: list[int]) -> None:
    """Ctrl-C as a terminal sends it: SIGINT to a `python -m localise translate` process in the
    middle of writing its files. The rerun reuses what it finished, sends the engine only the
    unfinished files' lines, and the outputs are byte-identical to an uninterrupted run's."""
    folder = tmp_path / "in"
    folder.mkdir()
    sources = []
    for n in range(40):
        path = folder / f"ep{n:02d}.srt"
        path.write_text(_srt(n, cues=30), encoding="utf-8")
        sources.append(path)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "localise", "translate", *_cli(sources, out, tiny_model, to="en,es")],
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    files = out / CACHE_DIRNAME / "files"
    try:
        deadline = time.monotonic() + 300
        while len(list(files.glob("*/*.json"))) < 3:  # ep00 in both languages, at least
            assert proc.poll() is None, "the run ended before it finished a file"
            assert time.monotonic() < deadline, "no file finished in time"
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, output
    assert "interrupted" in output and not [p for p in out.iterdir() if p.is_file()]
    kept = len(list(files.glob("*/*.json")))
    assert 3 <= kept < 80  # some, not all, of the 40 files x 2 languages

    reference = tmp_path / "reference"
    assert _translate(*_cli(sources, reference, tiny_model, "--no-cache", to="en,es")).exit_code == 0
    engine_calls.clear()
    resumed = _translate(*_cli(sources, out, tiny_model, to="en,es"))
    assert resumed.exit_code == 0, resumed.output
    assert f"{kept // 2} of 40 files already done" in resumed.output
    # files go through in groups (RESUME_GROUP_CUES): the stop may fall before later groups were
    # translated; the rerun sends at most the unfinished files' lines (30 per file and language)
    assert sum(engine_calls) <= 30 * 2 * (40 - kept // 2)
    assert _outputs(out) == _outputs(reference)


def test_a_run_that_fails_before_any_work_leaves_no_cache(sources: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _translate(*map(str, sources), "--to", "en", "--model", str(tmp_path / "absent"), "--out", str(out))
    assert result.exit_code == 1 and not out.exists()


def test_cache_dir_elsewhere(sources: list[Path], tmp_path: Path, tiny_model: Path, engine_calls: list[int]) -> None:
    cache = tmp_path / "cache"
    assert _translate(*_cli(sources, tmp_path / "a", tiny_model, "--cache-dir", str(cache))).exit_code == 0
    assert (cache / "translations.sqlite").is_file() and not (tmp_path / "a" / CACHE_DIRNAME).exists()
    engine_calls.clear()
    result = _translate(*_cli(sources, tmp_path / "b", tiny_model, "--cache-dir", str(cache)))
    assert result.exit_code == 0 and engine_calls == []
    # the outputs do not depend on the output folder: a shared cache fills another one too
    assert "5 of 5 files already done" in result.output
    assert _outputs(tmp_path / "b") == _outputs(tmp_path / "a")


# ------------------------------------------------------------------ the caches themselves


def test_folder_cache_round_trip_and_misses(tmp_path: Path) -> None:
    cache = FolderCache(tmp_path / "c")
    key = work_key("abc", {"model": "m"})
    assert cache.get(key) is None and not (tmp_path / "c").exists()
    cache.put(key, {"track": "1\n", "json": "{}"})
    assert cache.get(key) == {"track": "1\n", "json": "{}"} and cache.stored == 1
    assert FolderCache(tmp_path / "c").get(key) == {"track": "1\n", "json": "{}"}
    path = next((tmp_path / "c").glob("*/*.json"))
    path.write_text("{ half written", encoding="utf-8")
    assert cache.get(key) is None  # unreadable: a miss, never an error
    for bad in ("", "../x", "a/b", ".hidden"):
        with pytest.raises(ValueError):
            cache.put(bad, 1)
    assert not list((tmp_path / "c").rglob(".tmp-*"))


def test_translation_cache_keeps_translations_per_namespace_and_pickles(tmp_path: Path) -> None:
    cache = TranslationCache(tmp_path / "t" / "mt.sqlite")
    assert cache.lookup("ns", ["你好"]) == {} and not (tmp_path / "t").exists()
    cache.store("ns", [("你好", Translation("hello", 0.5, "mt", ("en", "hi"))), ("再见", Translation("bye", None))])
    assert cache.lookup("ns", ["你好", "再见", "谢谢"]) == {
        "你好": Translation("hello", 0.5, "mt", ("en", "hi")), "再见": Translation("bye", None)}
    assert cache.lookup("other", ["你好"]) == {}
    again = pickle.loads(pickle.dumps(cache))
    assert again.lookup("ns", ["你好"])["你好"].text == "hello"
    many = [f"句子{i}" for i in range(1200)]  # more than one query's worth of bound variables
    cache.store("ns", [(t, Translation(t.upper())) for t in many])
    assert len(cache.lookup("ns", many)) == 1200
    cache.close()
    again.close()


def test_model_fingerprint_changes_when_the_model_is_rebuilt(tmp_path: Path) -> None:
    from localise.engines.base import model_fingerprint

    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "vocab.spm").write_bytes(b"a")
    before = model_fingerprint(str(model))
    assert before.startswith("m@") and model_fingerprint(str(model)) == before
    (model / "vocab.spm").write_bytes(b"b")  # a tokenizer file too, not only the config
    assert model_fingerprint(str(model)) != before
    assert model_fingerprint("Helsinki-NLP/opus-mt-zh-en") == "Helsinki-NLP/opus-mt-zh-en"


def test_the_cache_folder_is_never_swept_as_a_staging_folder(tmp_path: Path) -> None:
    from localise.outputs import OutputBatch, sweep_stale_staging

    cache = RunCache(tmp_path / CACHE_DIRNAME)
    cache.files.put(work_key("x", {}), {"a": "b"})
    assert sweep_stale_staging(tmp_path) == []
    out = tmp_path / "new"
    with pytest.raises(KeyboardInterrupt), OutputBatch(out) as batch:
        batch.stage(out / "a.en.srt").write_text("x")
        RunCache(out / CACHE_DIRNAME).files.put(work_key("y", {}), {"a": "b"})
        raise KeyboardInterrupt
    assert [p.name for p in out.iterdir()] == [CACHE_DIRNAME]  # the folder stays for the cache it holds


def test_a_small_series_keeps_each_finished_group_of_files_when_stopped_in_the_engine(
        sources: list[Path], tmp_path: Path, tiny_model: Path, engine_calls: list[int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A series small enough for one engine call must not finish all its files only at the end:
    with a cache, files go through in groups of RESUME_GROUP_CUES cues, each group's files kept as
    it finishes. Ctrl-C during the second group's engine call keeps the first group's files; the
    rerun translates only the others, and the outputs are those of an uninterrupted run."""
    import localise.engines.hf as hf
    import localise.pipeline as pipeline

    reference = tmp_path / "reference"
    assert _translate(*_cli(sources, reference, tiny_model, "--no-cache")).exit_code == 0
    assert len(engine_calls) == 1  # without a cache: the whole series in one engine call
    all_texts = sum(engine_calls)
    monkeypatch.setattr(pipeline, "RESUME_GROUP_CUES", 12)  # two files of six cues per group

    counted = hf.HFEngine.translate

    def stop_in_the_second_group(self, texts, *args):  # noqa: ANN001, ANN202
        if len(engine_calls) == 1:
            raise KeyboardInterrupt
        return counted(self, texts, *args)

    monkeypatch.setattr(hf.HFEngine, "translate", stop_in_the_second_group)
    engine_calls.clear()
    out = tmp_path / "out"
    stopped = _translate(*_cli(sources, out, tiny_model))
    assert stopped.exit_code == 130, stopped.output
    assert "2 finished file(s) kept" in stopped.output
    first_group = sum(engine_calls)
    assert 0 < first_group < all_texts
    monkeypatch.setattr(hf.HFEngine, "translate", counted)

    engine_calls.clear()
    resumed = _translate(*_cli(sources, out, tiny_model))
    assert resumed.exit_code == 0, resumed.output
    assert "2 of 5 files already done" in resumed.output
    assert sum(engine_calls) == all_texts - first_group  # only the unfinished files' lines
    assert _outputs(out) == _outputs(reference)


def test_store_translation_cache_is_shared_through_a_store_and_survives_bad_entries(tmp_path: Path) -> None:
    """The flows' engine-call cache in a store every worker reaches (``cache_url``): one object per
    finished call; another process (another instance) sees it; an unreadable object is a miss."""
    from localise.resume import StoreTranslationCache
    from localise.storage import open_store

    store = open_store(tmp_path / "cache")
    one = StoreTranslationCache(store, prefix="mt", slice_units=7)
    assert one.lookup("ns", ["你好"]) == {}
    one.store("ns", [("你好", Translation("hello", 0.9)), ("再见", Translation("bye", 0.5, "mt", ("en", "bye")))])
    one.store("ns", [])  # nothing finished: nothing written
    assert len(store.list("mt/ns")) == 1 and one.stored == 2

    other = pickle.loads(pickle.dumps(one))  # as a Prefect task or another worker gets it
    assert other.slice_units == 7 and other.hits == 0
    assert other.lookup("ns", ["你好", "再见", "没有"]) == {
        "你好": Translation("hello", 0.9), "再见": Translation("bye", 0.5, "mt", ("en", "bye"))}
    assert other.lookup("other-ns", ["你好"]) == {} and other.hits == 2

    store.write("mt/ns/broken.json", b"{not json", "application/json")
    one.store("ns", [("谢谢", Translation("thanks", 0.8))])
    third = StoreTranslationCache(store, prefix="mt")
    assert set(third.lookup("ns", ["你好", "谢谢"])) == {"你好", "谢谢"}  # the broken entry is skipped
    with pytest.raises(ValueError):
        third.lookup("../escape", ["x"])


def test_a_cache_with_its_own_slice_size_sets_the_engine_calls(
        tmp_path: Path, tiny_model: Path, engine_calls: list[int]) -> None:
    from localise.io import parse_text
    from localise.pipeline import LocaliseOptions, localise_tracks
    from localise.resume import StoreTranslationCache
    from localise.storage import open_store

    track = parse_text(_srt(1, cues=10), format="srt", name="ep.srt")
    cache = StoreTranslationCache(open_store(tmp_path / "cache"), slice_units=3)
    options = LocaliseOptions(model=str(tiny_model))
    localise_tracks([track], ["en"], options=options, translations=cache)
    assert engine_calls == [3, 3, 3, 1] and cache.stored == 10
    engine_calls.clear()
    again = StoreTranslationCache(open_store(tmp_path / "cache"), slice_units=3)
    localise_tracks([track], ["en"], options=options, translations=again)
    assert engine_calls == [] and again.hits == 10
