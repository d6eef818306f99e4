"""The benchmark's structure, not its speed: workloads are deterministic and shaped like a series,
per-phase memory is measured, and the quick run (`make bench BENCH_ARGS=--quick`) writes every
figure the results file promises. No test here asserts a wall time."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import workloads
from benchmarks.memory import PeakRSS, cpu_seconds, process_peak_rss_mb

REPO = Path(__file__).resolve().parent.parent

REQUIRED = [
    "machine",
    "raw_lines_per_s",
    "pipeline_lines_per_s",
    "flow_lines_per_s",
    "pipeline_vs_raw",
    "flow_vs_raw",
    "ct2_int8_vs_hf_fp32",
    "parse_check_render_20k_s",
    "peak_rss_mb",
]


def test_workloads_are_deterministic_and_series_shaped():
    assert workloads.episode_srt(3) == workloads.episode_srt(3)
    assert workloads.episode_srt(3) != workloads.episode_srt(4)
    series = workloads.series_srt()
    assert len(series) == workloads.SERIES_EPISODES == 80
    assert len({name for name, _ in series}) == 80
    assert sum(text.count(" --> ") for _, text in series) == 80 * workloads.EPISODE_CUES
    assert workloads.big_track_srt().count(" --> ") == workloads.BIG_TRACK_CUES == 20_000


def test_synthetic_cues_have_sane_timings_and_the_shapes_units_need():
    cues = workloads.synthetic_cues(2000, seed=5)
    for a, b in itertools.pairwise(cues):
        assert a.start_ms < a.end_ms <= b.start_ms
    texts = [c.text for c in cues]
    assert any("\n-" in t for t in texts), "two-speaker cues"
    assert any(t.startswith("<i>") for t in texts), "markup"
    assert any(t[-1] not in "。！？…>" for t in texts), "sentences running over two cues"
    assert len(set(texts)) > 0.6 * len(texts), "mostly distinct lines, as in a real series"


def test_workloads_parse_with_the_library():
    from localise.io import parse_text
    from localise.units import build_units

    track = parse_text(workloads.episode_srt(1), name="ep001.zh.srt")
    assert track.format == "srt"
    assert len(track.cues) == workloads.EPISODE_CUES
    units = build_units(track)
    assert units and all(u.source.strip() for u in units)
    covered = sorted(c for u in units for c in u.cues)
    assert set(covered) == set(range(len(track.cues)))


def test_glossary_csv_loads_and_matches_the_lines():
    from localise.glossary import Glossary

    glossary = Glossary.from_csv(workloads.glossary_csv(), path="series-glossary.csv")
    text = " ".join(t for _, t in workloads.series_srt(2))
    found = {m.term for m in glossary.find(text)}
    assert found and found <= set(workloads.GLOSSARY_TERMS)


def test_peak_rss_sees_an_allocation_inside_the_block():
    with PeakRSS() as peak:
        block = bytearray(64 * 1024 * 1024)
        block[::4096] = b"x" * len(block[::4096])  # touch every page
        del block
    with PeakRSS() as quiet:
        pass
    assert peak.mb is not None and quiet.mb is not None
    assert peak.mb >= quiet.mb + 48
    assert process_peak_rss_mb() >= peak.mb
    assert cpu_seconds() > 0


def _run_bench(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "bench.json"
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("PREFECT_API_URL", None)
    cmd = [sys.executable, "-m", "benchmarks.run", "--quick", "--episodes", "2", "--big-cues", "200",
           "--work-dir", str(tmp_path / "work"), "--out", str(out), *args]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "pipeline_vs_raw" in proc.stdout
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_big_track_translation_is_the_tracks_english_cue_for_cue():
    from localise.glossary import Glossary
    from localise.io import read_track
    from localise.quality.checks import check_track

    track = read_track(workloads.big_track_srt(300).encode("utf-8"), name="big.zh.srt")
    english = workloads.big_track_translation(300)
    assert len(english) == len(track.cues) and all(e.isascii() and e.strip() for e in english)
    # the same cue shapes on both sides: two-speaker cues and italics where the source has them
    for cue, text in zip(track.cues, english):
        assert cue.text.startswith("-") == text.startswith("-") and ("<i>" in cue.text) == ("<i>" in text)
    # a translation, not noise: every glossary term is rendered and nothing is left untranslated
    glossary = Glossary.from_csv(workloads.glossary_csv())
    flags = check_track(track, track.with_texts(english), src_lang="zh", tgt_lang="en", glossary=glossary)
    codes = {f.code for fl in flags for f in fl}
    assert not codes & {"glossary", "untranslated", "empty", "misalignment", "omission"}, codes


def test_quick_run_without_prefect_writes_the_promised_figures(tmp_path):
    result = _run_bench(tmp_path, "--sections", "raw,pipeline,compare,parse")
    for key in REQUIRED:
        assert key in result, key
    assert result["flow_lines_per_s"] is None and result["flow_vs_raw"] is None  # not asked for
    for key in ("raw_lines_per_s", "pipeline_lines_per_s", "pipeline_vs_raw", "ct2_int8_vs_hf_fp32",
                "parse_check_render_20k_s", "peak_rss_mb"):
        assert isinstance(result[key], (int, float)) and result[key] > 0, key
    config = result["config"]
    assert config["output_tokens"] == 24 and config["series"]["episodes"] == 2
    assert config["series"]["engine_lines"] <= config["series"]["units"]
    assert result["raw"]["output_tokens"] == 24 * config["series"]["engine_lines"], "fixed output length"
    assert result["parse_check_render"]["cues"] == 200
    assert result["parse_check_render"]["check_vs_pysrt_translated"] > 0
    assert result["parse_check_render"]["lexical_floor_s"] > 0 and result["lexical_floor_vs_pysrt_cpu"] > 0
    assert result["machine"]["versions"]["ctranslate2"]


@pytest.mark.integration
@pytest.mark.slow
def test_quick_run_with_the_prefect_batch_flow(tmp_path):
    result = _run_bench(tmp_path, "--sections", "raw,flow")
    assert result["flow_lines_per_s"] > 0 and result["flow_vs_raw"] > 0
    totals = result["flow"]["totals"][0]
    assert totals["episodes"] == 2 and "failed" not in totals
    assert result["warm_up"]["prefect_api_start_s"] > 0


def test_raw_engine_gets_exactly_the_strings_the_pipeline_sends(tmp_path):
    """(a) and (b) must translate the same strings: the benchmark derives them with the library's
    public steps; here the pipeline's engine call is recorded and compared."""
    from benchmarks import run
    from localise.model import Translation
    from localise.pipeline import LocaliseOptions

    settings = run.parse_args(["--quick", "--episodes", "3", "--work-dir", str(tmp_path)])
    wl = run.prepare_workload(settings)
    sent: list[str] = []

    class Recorder:
        name = "recorder"
        model_id = "recorder"

        def translate(self, texts, src, tgt):
            sent.extend(texts)
            return [Translation(f"line {i}", 0.9) for i in range(len(texts))]

        def signature(self):
            return "recorder"

    options = LocaliseOptions(src="zh", engine=Recorder(), glossary=wl.glossary)
    seconds, outputs = run.run_pipeline(wl, options)
    assert sent == wl.engine_texts
    assert len(outputs) == 3 and seconds > 0
    assert len(wl.engine_texts) < wl.units <= wl.cues + 40  # de-duplicated; dialogue cues split


def test_per_stage_costs_run_on_a_track_past_the_substation_time_limit(capsys):
    """``benchmarks.perf_core`` times every stage, the ASS ones on the cues SubStation can hold."""
    from benchmarks import perf_core

    assert perf_core.main(["--cues", "9000", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "render ass (" in out and "parse + check + render (run.py)" in out


@pytest.mark.slow
def test_quick_run_of_the_gpu_path_on_the_cpu(tmp_path):
    """``--engine transformers`` is what ``--device cuda`` runs (generate with padded, repeating
    shapes, a first and a warm pass per batch size), here in float32 on the CPU."""
    result = _run_bench(tmp_path, "--engine", "transformers", "--sections", "raw,pipeline")
    assert result["config"]["engine"] == "transformers" and result["config"]["device"] == "cpu"
    assert result["raw"]["engine"] == "transformers float32"
    sweep = result["raw"]["sweep"]
    assert sweep[0]["device_warm_up_s"] >= 0
    assert [row["batch_size"] for row in sweep[1:]] == [256, 1024, result["config"]["series"]["engine_lines"]]
    for row in sweep[1:]:
        assert row["first_pass"]["lines"] == row["warm_pass"]["lines"] == result["config"]["series"]["engine_lines"]
        assert row["warm_pass"]["output_tokens"] == 24 * row["warm_pass"]["lines"]  # fixed length
    assert result["pipeline_vs_raw"] > 0
    assert result["config"]["engine_options"]["dtype"] == "float32"


@pytest.mark.integration
@pytest.mark.slow
def test_quick_fanout_section_reports_each_chunks_orchestration_phases(tmp_path):
    """`make bench`'s fan-out section: a real Prefect server, a process pool with two workers and the
    chunk deployment; every chunk's phases come from the server's own state history (no timed
    assertion: only that each phase was seen and they add up)."""
    result = _run_bench(tmp_path, "--sections", "raw,fanout")
    fan = result["fanout"]
    assert fan["workers"] == 2 and fan["totals"]["episodes"] == 2 and "failed" not in fan["totals"]
    assert len(fan["chunks"]) == 2 and {c["state"] for c in fan["chunks"]} == {"COMPLETED"}
    for chunk in fan["chunks"]:
        for key in ("pickup_s", "process_start_s", "to_engine_s", "start_to_engine_s", "engine_s", "after_engine_s"):
            assert isinstance(chunk[key], float) and chunk[key] >= 0, (key, chunk)
        assert abs(chunk["start_to_engine_s"] - chunk["process_start_s"] - chunk["to_engine_s"]) < 0.01
    assert result["fanout_start_to_engine_s"] == fan["per_chunk"]["start_to_engine_s"]["median"]


# ---------------------------------------------------------------------------------------------- llm


def test_llm_section_is_skipped_with_its_reason_where_llama_server_is_not_built(tmp_path, monkeypatch):
    """``make bench`` never builds llama.cpp unasked (~6 min): without a cached build and without
    ``--llm-base-url`` the section says why it measured nothing, and the run goes on."""
    from benchmarks import run

    monkeypatch.setenv("LOCALISE_TEST_CACHE", str(tmp_path / "empty-cache"))
    settings = run.parse_args(["--quick", "--sections", "llm", "--work-dir", str(tmp_path)])
    figures = run.llm_section(settings)
    assert set(figures) == {"skipped"}
    assert "llama-server is not built" in figures["skipped"] and "build_llama_server.sh" in figures["skipped"]
    assert not (tmp_path / "empty-cache").exists() or not any((tmp_path / "empty-cache").rglob("llama-server"))


def test_llm_section_failing_is_recorded_and_the_run_goes_on(tmp_path):
    """A server that is not there: the section records the error instead of losing the other
    sections' figures (it runs last, after minutes of them)."""
    from benchmarks import run
    from tests.integration.processes import free_port

    settings = run.parse_args(["--quick", "--sections", "llm", "--work-dir", str(tmp_path),
                               "--llm-base-url", f"http://127.0.0.1:{free_port()}/v1"])
    figures = run.llm_section(settings)
    assert set(figures) == {"error"} and "Connection" in figures["error"]


def _llama_server_or_skip():
    from benchmarks import llm

    cache, why = llm.llama_server_dir(build=False)
    if cache is None:
        pytest.skip(f"no cached llama-server build: {why}")
    return cache


@pytest.mark.integration
def test_llm_section_measures_the_engine_against_the_same_requests_to_its_server():
    """Tiny and bounded (2 windows of 2 lines): the same requests on both sides, so the same tokens,
    and ratios that are ratios of times. Speed itself is not asserted."""
    from benchmarks import llm

    _llama_server_or_skip()
    figures = llm.section(quick=True, windows_n=2, window=2, concurrency=2)
    assert figures["windows"] == 2 and figures["concurrency"] == 2 and figures["repeats"] == 1
    raw, engine = figures["raw"], figures["engine"]
    assert engine["requests"] == 2 and engine["failed"] == 0  # one request per window, no re-asks
    assert raw["completion_tokens"] == engine["completion_tokens"] > 0  # greedy: the same answers
    for side in (raw, engine):
        assert side["windows_per_s"] > 0 and side["completion_tokens_per_s"] > 0
    assert figures["ratio_windows_per_s"] > 0 and figures["ratio_tokens_per_s"] == figures["ratio_windows_per_s"]
    assert figures["ratio_cpu"] > 0 and len(raw["passes_cpu_s"]) == len(engine["passes_cpu_s"]) == 1


@pytest.mark.integration
@pytest.mark.slow
def test_quick_run_with_the_llm_section_writes_its_figures(tmp_path):
    _llama_server_or_skip()
    result = _run_bench(tmp_path, "--sections", "llm")
    assert result["llm_windows_vs_raw"] > 0 and result["llm_tokens_vs_raw"] > 0
    assert result["llm"]["engine"]["requests"] == result["llm"]["windows"]
    assert result["pipeline_vs_raw"] is None  # the other sections were not asked for
