"""``python -m benchmarks.run`` (``make bench``): one run, same inputs, three ways of translating them.

(a) **raw engine** — tokenise, ``translate_batch``/``generate``, detokenise on the exact strings the
    pipeline would send to its engine (the series' translation units after glossary enforcement,
    de-duplicated), at the best batch size found by a short sweep;
(b) **library pipeline** — SRT text in, ``localise.io`` + ``localise_tracks`` + render, text out;
(c) **Prefect batch flow** — files on disk in, localised tracks and reports on disk out, through
    ``flows.localise_batch`` on a local (ephemeral) Prefect API that is already up.

Plus: CTranslate2 int8 against transformers fp32 on identical batches, parse + check + render
of a 20,000-cue track, and (section ``llm``, see ``benchmarks/llm.py``) the ``openai`` engine against
the same requests sent straight to its server, where the tests' llama-server is built already or
``--llm-base-url`` names a server. Decoding is greedy with a fixed output length (``min == max`` new tokens
where the settings allow it, and a model that never emits ``</s>`` for the flow, see models.py),
so random weights cost exactly what trained ones do and runs compare. Model loading and the Prefect
API start are measured separately and kept out of the throughput figures (they are paid once per
worker process, not per series). Each of (a), (b), (c) runs ``--repeats`` times, interleaved, and
the fastest pass counts (shared machines are noisy; interleaving keeps drift from favouring one).

On a CUDA machine (``--device cuda``) the raw engine is transformers ``generate`` in float16 with
repeatable padded shapes; every batch size tried is reported as a first (cold-shape) pass and a warm
pass, and the pipeline runs the transformers engine in float16 at the best batch size.
``--engine transformers`` runs that same path on the CPU (float32), so it can be tried and tested
without a GPU.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import workloads
from benchmarks.memory import PeakRSS, cpu_seconds, process_peak_rss_mb
from benchmarks.models import Models, prepare_models
from benchmarks.raw import RunStats

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Settings:
    """What one benchmark run does; every field lands in ``config`` of the JSON."""

    quick: bool
    device: str
    engine: str  # "ctranslate2" (int8; the CPU default) or "transformers" (float16 on CUDA, float32 on CPU)
    model: str  # "tiny", "full-size" (random weights, opus-mt-zh-en architecture) or a folder
    episodes: int
    cues_per_episode: int
    big_cues: int
    output_tokens: int
    threads: int
    repeats: int
    compare_lines: int  # lines in the ct2-vs-hf comparison (same batches for both)
    batch_sizes: list[int]
    sections: list[str]
    work_dir: Path
    out: Path
    extra: dict[str, Any] = field(default_factory=dict)


ALL_SECTIONS = ["raw", "pipeline", "flow", "compare", "parse", "fanout", "llm"]


def parse_args(argv: Sequence[str] | None) -> Settings:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny model, 4 episodes: structure in seconds, not speed")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--engine", choices=["ctranslate2", "transformers"], default=None,
                   help="raw, pipeline and flow engine: ctranslate2 int8 (default on cpu) or transformers "
                        "generate (default on cuda; float16 there, float32 on cpu, e.g. to try the GPU path here)")
    p.add_argument("--model", default=None, help="'tiny', 'full-size' (default) or a local Marian folder")
    p.add_argument("--episodes", type=int, default=None, help=f"episodes in the series (default {workloads.SERIES_EPISODES})")
    p.add_argument("--cues", type=int, default=workloads.EPISODE_CUES, help="cues per episode")
    p.add_argument("--big-cues", type=int, default=workloads.BIG_TRACK_CUES, help="cues of the parse/check/render track")
    p.add_argument("--output-tokens", type=int, default=24, help="new tokens per line (min == max)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for the engines (0: every usable core)")
    p.add_argument("--repeats", type=int, default=None, help="passes of raw/pipeline/flow; the fastest counts (default 3)")
    p.add_argument("--compare-lines", type=int, default=None, help="lines in the ct2-vs-hf comparison")
    p.add_argument("--batch-sizes", default=None, help="raw engine batch sweep: token budgets on CPU (1024,2048,4096), lines on CUDA (256,1024,0=all)")
    p.add_argument("--sections", default=",".join(ALL_SECTIONS), help=f"any of {','.join(ALL_SECTIONS)}")
    p.add_argument("--llm-base-url", default=None,
                   help="llm section: an OpenAI-compatible server to measure (default: the tests' tiny llama-server "
                        "where it is built already; else the section is skipped, saying why)")
    p.add_argument("--llm-model", default="tiny-llama", help="llm section: the model name the server serves")
    p.add_argument("--llm-build", action="store_true",
                   help="llm section: build the tests' llama-server first where it is missing (~6 min on 2 cores)")
    p.add_argument("--work-dir", default=None, help="models and flow files (default: a cache folder outside the repo)")
    p.add_argument("--out", default=None, help="results JSON (default benchmarks/results/latest.json; quick.json with --quick)")
    a = p.parse_args(argv)

    cuda = a.device.startswith("cuda")
    engine = a.engine or ("transformers" if cuda else "ctranslate2")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = a.threads or usable
    model = a.model or ("tiny" if a.quick else "full-size")
    if a.batch_sizes:
        batch_sizes = [int(x) for x in a.batch_sizes.split(",")]
    elif engine == "transformers":
        batch_sizes = [256, 1024, 0]  # lines per generate call; 0: the whole series in one batch
    else:
        batch_sizes = [1024, 2048, 4096]  # CTranslate2 token budgets (padded source tokens per batch)
    if a.out:
        out = Path(a.out)
    else:
        out = RESULTS / ("quick.json" if a.quick else "latest-cuda.json" if cuda
                         else "latest-cpu-transformers.json" if engine == "transformers" else "latest.json")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "localise-bench"
    sections = [s.strip() for s in a.sections.split(",") if s.strip()]
    unknown = set(sections) - set(ALL_SECTIONS)
    if unknown:
        p.error(f"unknown sections: {', '.join(sorted(unknown))}")
    return Settings(
        quick=a.quick,
        device=a.device,
        engine=engine,
        model=model,
        episodes=a.episodes or (4 if a.quick else workloads.SERIES_EPISODES),
        cues_per_episode=a.cues,
        big_cues=a.big_cues,
        output_tokens=a.output_tokens,
        threads=threads,
        repeats=a.repeats or (1 if a.quick else 3),
        compare_lines=a.compare_lines or (64 if a.quick else 256),
        batch_sizes=batch_sizes,
        sections=sections,
        work_dir=Path(a.work_dir) if a.work_dir else cache,
        out=out,
        extra={"llm_base_url": a.llm_base_url, "llm_model": a.llm_model, "llm_build": a.llm_build},
    )


def _quiet_environment() -> None:
    """Offline, no telemetry, no tokenizer thread pools fighting the engine for 2 cores."""
    for key, value in {
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }.items():
        os.environ.setdefault(key, value)
    import warnings

    warnings.filterwarnings("ignore", message="Recommended: pip install sacremoses")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------ machine


def machine_info(device: str) -> dict[str, Any]:
    """Where the numbers come from: CPU model and cores, memory, library versions, GPU."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil

        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
        info["load_avg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except (ImportError, OSError):
        pass
    versions = {}
    for name in ("torch", "ctranslate2", "transformers", "prefect"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001 - a missing library is reported, not fatal
            versions[name] = None
    info["versions"] = versions
    if device.startswith("cuda"):
        import torch

        info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return info


# ----------------------------------------------------------------------------------------- workload


@dataclass
class Workload:
    sources: list[tuple[str, str]]  # (file name, SRT text) per episode
    tracks: list[Any]  # parsed once, for deriving the engine strings
    cues: int
    units: int
    engine_texts: list[str]  # unique glossary-enforced unit texts, in the pipeline's order
    glossary: Any
    glossary_path: Path | None


def prepare_workload(s: Settings) -> Workload:
    """The series, and the strings the pipeline's engine will be given for it — derived with the
    library's own public steps (units, glossary enforcement, de-duplication), so (a) and (b)
    translate the same strings."""
    from localise.io import parse_text
    from localise.units import build_units

    sources = workloads.series_srt(s.episodes, s.cues_per_episode)
    tracks = [parse_text(text, name=name) for name, text in sources]
    glossary, glossary_path = _load_glossary(s.work_dir)
    texts: dict[str, None] = {}
    units = 0
    for track in tracks:
        for unit in build_units(track):
            units += 1
            if not unit.source.strip():
                continue
            text = glossary.enforce(unit.source, "en").text if glossary is not None else unit.source
            texts.setdefault(text, None)
    return Workload(sources, tracks, sum(len(t.cues) for t in tracks), units, list(texts), glossary, glossary_path)


def _load_glossary(work_dir: Path) -> tuple[Any, Path | None]:
    try:
        from localise.glossary import Glossary
    except ImportError:
        return None, None
    path = work_dir / "series-glossary.csv"
    path.write_text(workloads.glossary_csv(), encoding="utf-8")
    return Glossary.load(path), path


# ----------------------------------------------------------------------------------------- raw engine


@dataclass
class RawEngine:
    """The raw engine of this device, at a chosen batch size: ``run(texts) -> RunStats``."""

    name: str
    batch_size: int
    run: Callable[[Sequence[str]], RunStats]
    sweep: list[dict[str, Any]]
    run_scored: Callable[[Sequence[str]], RunStats] | None = None  # same, with per-line scores


def raw_engine_cpu(s: Settings, models: Models, texts: Sequence[str]) -> RawEngine:
    """CTranslate2 int8 on CPU, one ``translate_batch`` call with token-budget batches (as the
    ctranslate2 engine does); the budget is picked by a sweep over a sample of the series."""
    from benchmarks import raw

    assert models.ct2_dir is not None
    tokenizer = raw.load_tokenizer(models.hf_dir)
    translator = raw.load_ct2(models.ct2_dir, compute_type="int8", threads=s.threads)
    sample = list(texts[: max(64, max(s.batch_sizes) // 12)])  # a couple of batches at the largest budget
    raw.ct2_translate(translator, tokenizer, sample[:8], output_tokens=s.output_tokens, max_batch_size=8)  # warm-up
    runs: dict[int, list[RunStats]] = {size: [] for size in s.batch_sizes}
    for _ in range(1 if s.quick else 2):  # two interleaved rounds: one slow moment cannot decide
        for size in s.batch_sizes:
            runs[size].append(raw.ct2_translate(
                translator, tokenizer, sample, output_tokens=s.output_tokens, max_batch_size=size, batch_type="tokens"
            )[1])
    sweep = []
    for size, stats_list in runs.items():
        stats = min(stats_list, key=lambda r: r.wall_s)
        sweep.append({"max_tokens": size, **stats.to_dict()})
        log(f"raw sweep: {size} tokens per batch: {stats.lines_per_s:.1f} lines/s")
    best = max(sweep, key=lambda row: row["lines_per_s"])["max_tokens"]

    def run(batch_texts: Sequence[str], scores: bool = False) -> RunStats:
        return raw.ct2_translate(
            translator, tokenizer, batch_texts, output_tokens=s.output_tokens, max_batch_size=best,
            batch_type="tokens", return_scores=scores,
        )[1]

    return RawEngine("ctranslate2 int8", best, run, sweep, run_scored=lambda t: run(t, scores=True))


def hf_dtype(s: Settings) -> str:
    return "float16" if s.device.startswith("cuda") else "float32"


def raw_engine_hf(s: Settings, models: Models, texts: Sequence[str]) -> RawEngine:
    """transformers ``generate`` (float16 on a GPU): each batch size gets a first pass (new shapes:
    kernel selection, allocator growth) and a warm pass; the best warm pass picks the batch size."""
    from benchmarks import raw

    tokenizer = raw.load_tokenizer(models.hf_dir)
    model = raw.load_hf(models.hf_dir, device=s.device, dtype=hf_dtype(s))
    lengths = [len(ids) for ids in tokenizer(list(texts))["input_ids"]]
    # CUDA context, cuBLAS handles, first kernels: paid once per process, not per batch shape
    t0 = time.perf_counter()
    raw.hf_on_batches(model, tokenizer, texts, [list(range(min(8, len(texts))))], output_tokens=s.output_tokens,
                      device=s.device, pad_to_multiple_of=16)
    sweep: list[dict[str, Any]] = [{"device_warm_up_s": round(time.perf_counter() - t0, 3)}]
    for size in s.batch_sizes:
        size = size or len(texts)
        batches = raw.length_sorted_batches(lengths, size)
        _, first = raw.hf_on_batches(
            model, tokenizer, texts, batches, output_tokens=s.output_tokens, device=s.device, pad_to_multiple_of=16
        )
        _, warm = raw.hf_on_batches(
            model, tokenizer, texts, batches, output_tokens=s.output_tokens, device=s.device, pad_to_multiple_of=16
        )
        sweep.append(
            {
                "batch_size": size,
                "first_pass": first.to_dict(),
                "warm_pass": warm.to_dict(),
                "lines_per_s": round(warm.lines_per_s, 2),
            }
        )
        log(f"raw sweep: batch {size}: first {first.lines_per_s:.0f}, warm {warm.lines_per_s:.0f} lines/s")
    best = max(sweep[1:], key=lambda row: row["lines_per_s"])["batch_size"]

    def run(batch_texts: Sequence[str]) -> RunStats:
        lens = [len(ids) for ids in tokenizer(list(batch_texts))["input_ids"]]
        return raw.hf_on_batches(
            model,
            tokenizer,
            batch_texts,
            raw.length_sorted_batches(lens, best),
            output_tokens=s.output_tokens,
            device=s.device,
            pad_to_multiple_of=16,
        )[1]

    return RawEngine(f"transformers {hf_dtype(s)}", best, run, sweep)


# ------------------------------------------------------------------------------------------ pipeline


def pipeline_options(s: Settings, models: Models, wl: Workload, batch_size: int) -> Any:
    """The library's options for the same engine, model, decoding and batch size as the raw run.

    Fixed length: the transformers engine takes ``min_new_tokens == max_new_tokens == N``; the
    CTranslate2 engine decodes one token less than ``max_new_tokens`` (it does not count ``</s>``),
    so it is given N + 1 to decode exactly N, like the raw run."""
    from localise.pipeline import LocaliseOptions

    n = s.output_tokens
    if s.engine == "transformers":
        engine, model = "transformers", str(models.hf_dir)
        extra = {"device": s.device, "dtype": hf_dtype(s), "threads": s.threads, "min_new_tokens": n, "max_new_tokens": n,
                 "max_batch_size": batch_size, "max_tokens": batch_size * 512}
    else:
        assert models.ct2_dir is not None
        engine, model = "ctranslate2", str(models.ct2_dir)
        extra = {"device": "cpu", "compute_type": "int8", "threads": s.threads,
                 "min_new_tokens": n + 1, "max_new_tokens": n + 1, "max_tokens": batch_size}
    return LocaliseOptions(src="zh", engine=engine, model=model, glossary=wl.glossary, engine_options=extra)


def run_pipeline(wl: Workload, options: Any, sources: list[tuple[str, str]] | None = None) -> tuple[float, list[str]]:
    """SRT texts in, localised SRT texts out, through the library only. Returns (seconds, outputs)."""
    from localise.io import parse_text, render_track
    from localise.pipeline import localise_tracks

    sources = sources if sources is not None else wl.sources
    t0 = time.perf_counter()
    tracks = [parse_text(text, name=name) for name, text in sources]
    results = localise_tracks(tracks, ["en"], options=options)
    outputs = [render_track(r.track) for r in results]
    return time.perf_counter() - t0, outputs


# ---------------------------------------------------------------------------------------------- flow


def prefect_environment(work_dir: Path) -> Path:
    """A private, fresh Prefect home (ephemeral API database) and result storage for this run.

    Fresh on purpose: the batch flow caches each episode's translations in Prefect's result
    storage under a content-hash key, so a result store kept from an earlier run would turn a
    benchmark pass into cache reads. (A ``PREFECT_API_URL`` set by the caller is kept; the result
    storage is still private.) Returns the folder to delete at the end of the run."""
    run_dir = Path(tempfile.mkdtemp(prefix="bench-prefect-", dir=work_dir))
    if not os.environ.get("PREFECT_API_URL"):
        os.environ["PREFECT_HOME"] = str(run_dir / "home")
    os.environ["PREFECT_RESULTS_LOCAL_STORAGE_PATH"] = str(run_dir / "results")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
    return run_dir


def start_prefect() -> float:
    """Run one trivial flow so the ephemeral API is up before anything is timed; returns seconds."""
    from prefect import flow

    @flow(name="bench-warm-up")
    def warm_up() -> int:
        return 1

    t0 = time.perf_counter()
    warm_up()
    return time.perf_counter() - t0


def flow_config(options: Any, wl: Workload, folder: Path) -> Path:
    """The settings file the batch flow reads: the pipeline pass's ``options`` (engine, model and
    every engine setting: device, batch budget, threads, dtype, decoding lengths — so the flow pass
    measures the same engine work, not the engine's defaults), its glossary, and a review database
    of its own in ``folder`` (the default is ``localise-review.db`` in the working directory: a
    benchmark must not fill a real review queue, and each pass starts from an empty one so that no
    pass does more work than another)."""
    lines = [
        'source_language = "zh"',
        'targets = ["en"]',
        f"engine = {json.dumps(options.engine)}",
        f"model = {json.dumps(str(options.model))}",
    ]
    if wl.glossary_path is not None:
        lines.append(f"glossary = {json.dumps(str(wl.glossary_path))}")
    folder.mkdir(parents=True, exist_ok=True)
    lines.append(f"review_db_url = {json.dumps('sqlite:///' + str(folder / 'review.db'))}")
    lines.append("[engine_options]")  # a TOML table: the last thing in the file
    lines += [f"{key} = {json.dumps(value)}" for key, value in options.engine_options.items()]
    path = folder / "bench-flow.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_flow_inputs(s: Settings, folder: Path, rep: int) -> Path:
    """The series as files for pass ``rep``. Each pass's files end with ``rep`` extra blank lines:
    the same cues, other bytes, so the flow's content-hash cache and "already published" check
    cannot skip work a previous pass did (every pass translates the whole series)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in workloads.series_srt(s.episodes, s.cues_per_episode):
        (folder / name).write_text(text + "\n" * rep, encoding="utf-8")
    return folder


def run_flow(config: Path, in_dir: Path, out_dir: Path) -> tuple[float, dict[str, Any]]:
    """The Prefect batch flow over the series files; returns (seconds, the flow's totals)."""
    from flows.localise_batch import localise_batch

    t0 = time.perf_counter()
    summary = localise_batch(
        source=str(in_dir), series="bench", targets=["en"], destination=str(out_dir), config=str(config)
    )
    return time.perf_counter() - t0, summary.get("totals", {})


# ---------------------------------------------------------------------------------- ct2 versus hf


def compare_ct2_hf(s: Settings, models: Models, texts: Sequence[str], batch_size: int) -> dict[str, Any]:
    """transformers fp32 ``generate`` and CTranslate2 int8 ``translate_batch`` on identical batches:
    the series cut into token-budget batches by the engines' own helper, then a spread of those
    batches (short to long) holding about ``compare_lines`` lines."""
    import torch

    from benchmarks import raw
    from localise.engines.base import token_budget_batches

    tokenizer = raw.load_tokenizer(models.hf_dir)
    pieces = raw.tokenise_pieces(tokenizer, texts)
    batches = token_budget_batches([len(p) for p in pieces], batch_size, 10**6)
    per_batch = max(1, len(texts) // max(1, len(batches)))
    wanted = max(1, min(len(batches), round(s.compare_lines / per_batch)))
    step = len(batches) / wanted
    chosen = [batches[int(i * step)] for i in range(wanted)]
    assert models.ct2_dir is not None
    translator = raw.load_ct2(models.ct2_dir, compute_type="int8", threads=s.threads)
    model = raw.load_hf(models.hf_dir, dtype="float32")
    torch.set_num_threads(s.threads)
    warm = [chosen[0][:4]]
    raw.ct2_on_batches(translator, pieces, warm, s.output_tokens)
    raw.hf_on_batches(model, tokenizer, texts, warm, output_tokens=s.output_tokens)
    # CTranslate2 twice around the (slow) transformers pass, the faster of each counts
    ct2_runs = [raw.ct2_on_batches(translator, pieces, chosen, s.output_tokens)]
    hf_runs = [raw.hf_on_batches(model, tokenizer, texts, chosen, output_tokens=s.output_tokens)[1]]
    ct2_runs.append(raw.ct2_on_batches(translator, pieces, chosen, s.output_tokens))
    ct2 = min(ct2_runs, key=lambda r: r.wall_s)
    hf = min(hf_runs, key=lambda r: r.wall_s)
    del model, translator
    gc.collect()
    return {
        "max_tokens": batch_size,
        "batches": len(chosen),
        "ct2_int8": ct2.to_dict(),
        "hf_fp32": hf.to_dict(),
        "ct2_int8_vs_hf_fp32": round(ct2.lines_per_s / hf.lines_per_s, 2) if hf.lines_per_s else None,
    }


# ------------------------------------------------------------------------------ parse, check, render


def pysrt_parse_save(data: bytes) -> float:
    """Seconds pysrt takes to parse the same bytes and write the file back (the yardstick of
    ``check_vs_pysrt``: a ratio within one run, since absolute times swing by half between runs)."""
    return _pysrt_parse_save(data)[0]


def _pysrt_parse_save(data: bytes) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of pysrt's parse + save of ``data``."""
    import io

    import pysrt

    t0, c0 = time.perf_counter(), time.process_time()
    subs = pysrt.from_string(data.decode("utf-8"))
    out = io.StringIO()
    subs.write_into(out)
    return time.perf_counter() - t0, time.process_time() - c0


def lexical_floor(data: bytes, english: Sequence[str]) -> float:
    """CPU seconds of the least any lexical meaning check must do on this track, around nothing
    else: our parse, every Han run of every source cue segmented (rjieba, compiled) and each word
    looked up in the lexicon, every translation split into lower-cased words, our render.

    Why: it bounds ``check_vs_pysrt`` from below for this design (``lexical_floor_vs_pysrt``), so a
    reader can tell how much of the ratio is the checks' own logic and how much is the work no
    rewrite in Python can skip."""
    import re

    from localise.io import read_track, render_track
    from localise.quality import segment
    from localise.quality.lexicon import load_lexicon

    lex = load_lexicon("zh", "en")
    assert lex is not None
    han = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff0-9A-Za-z]+")
    word = re.compile(r"[^\W_]+(?:['’][^\W\d_]+)*")
    segment.cut("预热")  # the dictionary loads outside the timed span, as the checks' passes find it loaded
    c0 = time.process_time()
    source = read_track(data, name="big.zh.srt")
    get = lex.get
    for cue in source.cues:
        for m in han.finditer(cue.text):
            for w in segment.cut(m.group()):
                get(w)
    for text in english:
        [w.lower() for w in word.findall(text)]
    render_track(source.with_texts(list(english)))
    return time.process_time() - c0


def parse_check_render(s: Settings, glossary: Any) -> dict[str, Any]:
    """A 20,000-cue SRT track: read from bytes (encoding detection included), check against a
    same-shaped target track, render — every check on, the sentence model and meaning checks
    included. Best of three (it is pure CPU and short), each pass paired with pysrt's own parse +
    save of the same bytes: ``check_vs_pysrt`` = our best ÷ pysrt's best."""
    from localise.io import read_track, render_track
    from localise.layout import style_for
    from localise.quality.checks import check_track

    data = workloads.big_track_srt(s.big_cues).encode("utf-8")
    english = workloads.english_texts(s.big_cues)
    translated = workloads.big_track_translation(s.big_cues)
    style = style_for("en")
    from localise.quality import meaning

    best: dict[str, float] | None = None
    pysrt_best = pysrt_cpu = float("inf")
    warm_total = float("inf")
    our_cpu = float("inf")
    translated_total = translated_cpu = float("inf")
    translated_flagged = 0
    floor_cpu = float("inf")
    for n in range(1 if s.quick else 3):
        wall, cpu = _pysrt_parse_save(data)
        pysrt_best, pysrt_cpu = min(pysrt_best, wall), min(pysrt_cpu, cpu)
        floor_cpu = min(floor_cpu, lexical_floor(data, english))
        if n:  # the same track again, per-text memos kept: what a rerun of the same episode costs
            t0 = time.perf_counter()
            again = read_track(data, name="big.zh.srt")
            check_track(again, again.with_texts(english), src_lang="zh", tgt_lang="en", glossary=glossary, style=style)
            render_track(again.with_texts(english))
            warm_total = min(warm_total, time.perf_counter() - t0)
        meaning.clear_caches()  # every timed pass below segments and looks up each distinct sentence anew
        c0 = time.process_time()
        t0 = time.perf_counter()
        source = read_track(data, name="big.zh.srt")
        t1 = time.perf_counter()
        target = source.with_texts(english)
        flags = check_track(source, target, src_lang="zh", tgt_lang="en", glossary=glossary, style=style)
        t2 = time.perf_counter()
        rendered = render_track(target)
        t3 = time.perf_counter()
        our_cpu = min(our_cpu, time.process_time() - c0)
        times = {"parse_s": t1 - t0, "check_s": t2 - t1, "render_s": t3 - t2, "total_s": t3 - t0}
        if best is None or times["total_s"] < best["total_s"]:
            best = times
        # the same, against the English a subtitler might write: the input a check normally sees
        meaning.clear_caches()
        c0, t0 = time.process_time(), time.perf_counter()
        source = read_track(data, name="big.zh.srt")
        target = source.with_texts(translated)
        translated_flags = check_track(source, target, src_lang="zh", tgt_lang="en", glossary=glossary, style=style)
        render_track(target)
        translated_total = min(translated_total, time.perf_counter() - t0)
        translated_cpu = min(translated_cpu, time.process_time() - c0)
        translated_flagged = sum(1 for f in translated_flags if f)
    assert best is not None
    return {
        "cues": len(source.cues),
        "bytes": len(data),
        "flagged_cues": sum(1 for f in flags if f),
        "rendered_chars": len(rendered),
        **{k: round(v, 3) for k, v in best.items()},
        "pysrt_parse_save_s": round(pysrt_best, 3),
        # cold: every distinct sentence segmented and looked up within the pass (the first run on a track)
        "check_vs_pysrt": round(best["total_s"] / pysrt_best, 3),
        # warm: the same track again with the per-text memos of the first pass (a rerun)
        "check_vs_pysrt_warm": round(warm_total / pysrt_best, 3) if warm_total != float("inf") else None,
        # the same cold ratio in CPU seconds of this process: steadier on a machine shared with other work
        "check_vs_pysrt_cpu": round(our_cpu / pysrt_cpu, 3) if pysrt_cpu > 0 else None,
        # the cold ratio with a translated target (workloads.big_track_translation) instead of random
        # English: fewer cues fail the meaning check, more names, terms and numbers to account for
        "translated_total_s": round(translated_total, 3),
        "translated_flagged_cues": translated_flagged,
        "check_vs_pysrt_translated": round(translated_total / pysrt_best, 3),
        "check_vs_pysrt_translated_cpu": round(translated_cpu / pysrt_cpu, 3) if pysrt_cpu > 0 else None,
        # the least a lexical meaning check must do here (lexical_floor), in CPU seconds ÷ pysrt's:
        # the part of check_vs_pysrt_cpu that no rewrite of the checks' own logic can remove
        "lexical_floor_s": round(floor_cpu, 3),
        "lexical_floor_vs_pysrt_cpu": round(floor_cpu / pysrt_cpu, 3) if pysrt_cpu > 0 else None,
    }


# ---------------------------------------------------------------------------------------------- llm


def llm_section(s: Settings) -> dict[str, Any]:
    """The ``openai`` engine against its server's own throughput (``benchmarks.llm``): the tests'
    tiny llama-server where it is built already, or ``--llm-base-url``; ``{"skipped": why}`` else.
    A failure here is recorded, not raised: the other sections' figures are kept."""
    from benchmarks import llm

    try:
        # passes of ~10 s on the tiny server: at least 5, wall-time ratios swing with a shared machine's load
        figures = llm.section(quick=s.quick, repeats=max(s.repeats, 5), base_url=s.extra.get("llm_base_url"),
                              model=s.extra.get("llm_model") or "tiny-llama", build=bool(s.extra.get("llm_build")))
    except Exception as exc:  # noqa: BLE001 - a benchmark section's failure is a figure too
        figures = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
    if "skipped" in figures:
        log(f"llm: skipped ({figures['skipped']})")
    elif "error" in figures:
        log(f"llm: failed ({figures['error']})")
    else:
        log(f"llm: engine/raw {figures['ratio_windows_per_s']} windows/s, {figures['ratio_tokens_per_s']} tokens/s")
    return figures


# --------------------------------------------------------------------------------------------- main


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def paired_ratio(base: list[float], other: list[float]) -> float | None:
    """Median over passes of ``base[i] / other[i]`` (seconds of the raw pass over seconds of the
    pass run right after it). Pairs cancel the slow drift of a shared machine's load, which a
    ratio of two independent best-of figures does not."""
    pairs = [a / b for a, b in zip(base, other) if a and b]
    return round(statistics.median(pairs), 3) if pairs else None


@dataclass
class Phase:
    """Passes of one way of translating the series: wall and CPU seconds, peak RSS per pass."""

    name: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)
    stats: list[RunStats] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def measure(self, fn: Callable[[], Any]) -> Any:
        cpu0 = cpu_seconds()
        with PeakRSS() as peak:
            t0 = time.perf_counter()
            value = fn()
            wall = time.perf_counter() - t0
        self.cpu.append(cpu_seconds() - cpu0)
        self.wall.append(wall)
        self.peak_mb.append(peak.mb or 0.0)
        return value

    @property
    def best_wall(self) -> float | None:
        return min(self.wall) if self.wall else None

    @property
    def best_cpu(self) -> float | None:
        return min(self.cpu) if self.cpu else None

    def figures(self, lines: int, cues: int, output_tokens: int) -> dict[str, Any] | None:
        if not self.wall:
            return None
        wall = min(self.wall)
        return {
            "wall_s": round(wall, 3),
            "lines_per_s": round(lines / wall, 2),
            "cues_per_s": round(cues / wall, 2),
            "tokens_per_s": round(output_tokens / wall, 1),
            "cpu_s": round(min(self.cpu), 3),
            "peak_rss_mb": max(self.peak_mb),
            "passes_wall_s": [round(x, 3) for x in self.wall],
            "passes_cpu_s": [round(x, 3) for x in self.cpu],
            **self.extra,
        }


def run(s: Settings) -> dict[str, Any]:
    _quiet_environment()
    s.work_dir.mkdir(parents=True, exist_ok=True)
    prefect_dir = prefect_environment(s.work_dir)
    try:
        return _run(s)
    finally:
        shutil.rmtree(prefect_dir, ignore_errors=True)


def _run(s: Settings) -> dict[str, Any]:
    import torch

    torch.set_num_threads(s.threads)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()

    started = time.perf_counter()
    result: dict[str, Any] = {"machine": machine_info(s.device)}
    result["machine"]["name"] = platform.node()
    memory: dict[str, float | None] = {}

    with PeakRSS() as peak:
        models = prepare_models(s)
        wl = prepare_workload(s)
    memory["prepare"] = peak.mb
    log(f"series: {s.episodes} episodes, {wl.cues} cues, {wl.units} units, {len(wl.engine_texts)} engine strings")
    texts = wl.engine_texts
    series = {"episodes": s.episodes, "cues": wl.cues, "units": wl.units, "engine_lines": len(texts)}
    raw_phase, pipe_phase, flow_phase = Phase("raw"), Phase("pipeline"), Phase("flow")
    scored_phase = Phase("raw_scored")
    raw_engine: RawEngine | None = None
    options = None
    warm_up: dict[str, Any] = {}

    if {"raw", "pipeline", "flow"} & set(s.sections):
        with PeakRSS() as peak:
            make = raw_engine_hf if s.engine == "transformers" else raw_engine_cpu
            raw_engine = make(s, models, texts)
        memory["raw_sweep"] = peak.mb
        options = pipeline_options(s, models, wl, raw_engine.batch_size)
    do_pipeline = "pipeline" in s.sections and options is not None
    if do_pipeline:
        t0 = time.perf_counter()
        run_pipeline(wl, options, wl.sources[:1])  # loads the pipeline's engine once for this process
        warm_up["pipeline_first_episode_s"] = round(time.perf_counter() - t0, 3)
    flow_root: Path | None = None
    if "flow" in s.sections:
        flow_root = Path(tempfile.mkdtemp(prefix="bench-flow-", dir=s.work_dir))
        warm_up["prefect_api_start_s"] = round(start_prefect(), 3)
        # one episode through the real flow: loads the flow's engine in this worker process
        one = Settings(**{**s.__dict__, "episodes": 1})
        config_file = flow_config(options, wl, flow_root / "pass0")
        seconds, _ = run_flow(config_file, write_flow_inputs(one, flow_root / "in0" / "bench", 0), flow_root / "out0")
        warm_up["flow_first_episode_s"] = round(seconds, 3)

    for rep in range(1, s.repeats + 1):
        if raw_engine is not None:
            raw_phase.stats.append(raw_phase.measure(lambda: raw_engine.run(texts)))
            log(f"pass {rep}: raw {len(texts) / raw_phase.wall[-1]:.1f} lines/s ({raw_phase.wall[-1]:.1f}s)")
        if do_pipeline:
            pipe_phase.measure(lambda: run_pipeline(wl, options))
            log(f"pass {rep}: pipeline {len(texts) / pipe_phase.wall[-1]:.1f} lines/s ({pipe_phase.wall[-1]:.1f}s)")
        if flow_root is not None:
            in_dir = write_flow_inputs(s, flow_root / f"in{rep}" / "bench", rep)
            out_dir = flow_root / f"out{rep}"
            config_file = flow_config(options, wl, flow_root / f"pass{rep}")
            _, totals = flow_phase.measure(lambda c=config_file, i=in_dir, o=out_dir: run_flow(c, i, o))
            flow_phase.extra.setdefault("totals", []).append(totals)
            log(f"pass {rep}: flow {len(texts) / flow_phase.wall[-1]:.1f} lines/s ({flow_phase.wall[-1]:.1f}s)")
        if raw_engine is not None and raw_engine.run_scored is not None and do_pipeline:
            scored_phase.measure(lambda: raw_engine.run_scored(texts))
            log(f"pass {rep}: raw with scores {len(texts) / scored_phase.wall[-1]:.1f} lines/s")
    if flow_root is not None:
        shutil.rmtree(flow_root, ignore_errors=True)

    out_tokens = len(texts) * s.output_tokens
    if raw_phase.stats:
        best = min(raw_phase.stats, key=lambda r: r.wall_s)
        out_tokens = best.output_tokens
        raw_phase.extra.update(
            engine=raw_engine.name if raw_engine else None,
            batch=raw_engine.batch_size if raw_engine else None,
            tokenise_s=round(best.tokenise_s, 3),
            decode_s=round(best.decode_s, 3),
            detokenise_s=round(best.detokenise_s, 3),
            input_tokens=best.input_tokens,
            output_tokens=best.output_tokens,
            sweep=raw_engine.sweep if raw_engine else None,
        )
    raw_fig = raw_phase.figures(len(texts), wl.cues, out_tokens)
    pipe_fig = pipe_phase.figures(len(texts), wl.cues, out_tokens)
    flow_fig = flow_phase.figures(len(texts), wl.cues, out_tokens)
    scored_fig = scored_phase.figures(len(texts), wl.cues, out_tokens)

    compare = None
    if "compare" in s.sections and models.ct2_dir is not None:
        with PeakRSS() as peak:
            budget = raw_engine.batch_size if raw_engine and s.engine == "ctranslate2" else 2048
            compare = compare_ct2_hf(s, models, texts, budget)
        memory["compare"] = peak.mb
        log(f"ct2 int8 vs hf fp32 on the same batches: {compare['ct2_int8_vs_hf_fp32']}x")
    elif "compare" in s.sections:
        compare = {"skipped": "ctranslate2 is not installed (pip install 'localise[ct2]')"}
        log(f"compare: skipped ({compare['skipped']})")

    pcr = None
    if "parse" in s.sections:
        with PeakRSS() as peak:
            pcr = parse_check_render(s, wl.glossary)
        memory["parse_check_render"] = peak.mb
        log(f"parse+check+render {pcr['cues']} cues: {pcr['total_s']:.3f}s")
    fan = None
    if "fanout" in s.sections:
        from benchmarks import fanout

        # the flow section's engine and model when there is one, else the transformers folder
        engine, model = (options.engine, options.model) if options is not None else ("transformers", models.hf_dir)
        try:
            fan = fanout.measure(Path(model), engine=engine, episodes=2 if s.quick else 4, work_dir=s.work_dir, log=log)
            log(f"fan-out: pending -> engine start {fan['per_chunk']['start_to_engine_s']} s per chunk")
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            # servers and workers in other processes: their failure costs this section, not the
            # figures the run already has (a GPU machine's lease is too short to run it all again)
            fan = {"failed": f"{type(exc).__name__}: {str(exc)[-3000:]}"}
            log(f"fan-out: failed ({fan['failed'][:300]})")
    llm = None
    if "llm" in s.sections:
        llm = llm_section(s)
    memory.update(raw=max(raw_phase.peak_mb, default=None), pipeline=max(pipe_phase.peak_mb, default=None),
                  flow=max(flow_phase.peak_mb, default=None))

    result.update(
        raw_lines_per_s=raw_fig["lines_per_s"] if raw_fig else None,
        pipeline_lines_per_s=pipe_fig["lines_per_s"] if pipe_fig else None,
        flow_lines_per_s=flow_fig["lines_per_s"] if flow_fig else None,
        pipeline_vs_raw=paired_ratio(raw_phase.wall, pipe_phase.wall),
        flow_vs_raw=paired_ratio(raw_phase.wall, flow_phase.wall),
        pipeline_vs_raw_cpu=paired_ratio(raw_phase.cpu, pipe_phase.cpu),
        flow_vs_raw_cpu=paired_ratio(raw_phase.cpu, flow_phase.cpu),
        # the engine baseline that also returns a score per line, as the pipeline's engine must
        # (it needs a confidence per line): the pipeline's own overhead, without the scores' cost
        pipeline_vs_raw_scored=paired_ratio(scored_phase.wall, pipe_phase.wall),
        flow_vs_raw_scored=paired_ratio(scored_phase.wall, flow_phase.wall),
        best_of_ratios={
            "pipeline_vs_raw": _ratio(raw_phase.best_wall, pipe_phase.best_wall),
            "flow_vs_raw": _ratio(raw_phase.best_wall, flow_phase.best_wall),
        },
        ct2_int8_vs_hf_fp32=compare.get("ct2_int8_vs_hf_fp32") if compare else None,
        parse_check_render_20k_s=pcr["total_s"] if pcr else None,
        check_vs_pysrt=pcr["check_vs_pysrt"] if pcr else None,
        check_vs_pysrt_cpu=pcr["check_vs_pysrt_cpu"] if pcr else None,
        check_vs_pysrt_translated=pcr["check_vs_pysrt_translated"] if pcr else None,
        lexical_floor_vs_pysrt_cpu=pcr["lexical_floor_vs_pysrt_cpu"] if pcr else None,
        fanout_start_to_engine_s=((fan["per_chunk"]["start_to_engine_s"] or {}).get("median") if fan and "per_chunk" in fan
                                  else None),
        llm_windows_vs_raw=(llm or {}).get("ratio_windows_per_s"),
        llm_tokens_vs_raw=(llm or {}).get("ratio_tokens_per_s"),
        llm_cpu_vs_raw=(llm or {}).get("ratio_cpu"),
        peak_rss_mb=process_peak_rss_mb(),
        config={
            "command": "python -m benchmarks.run " + " ".join(sys.argv[1:]),
            "quick": s.quick,
            "device": s.device,
            "engine": s.engine,
            "model": models.description,
            "model_dir": str(models.hf_dir),
            "decoding": f"greedy, {s.output_tokens} new tokens per line (fixed)",
            "output_tokens": s.output_tokens,
            "raw_engine": raw_engine.name if raw_engine else None,
            "batch": (
                {"max_tokens": raw_engine.batch_size} if raw_engine and s.engine == "ctranslate2"
                else {"batch_size": raw_engine.batch_size} if raw_engine else None
            ),
            "batch_sweep": s.batch_sizes,
            "threads": s.threads,
            "repeats": s.repeats,
            "series": series,
            "big_track_cues": s.big_cues,
            "engine_options": getattr(options, "engine_options", None),
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "total_wall_s": None,
        },
        raw=raw_fig,
        raw_scored=scored_fig,
        pipeline=pipe_fig,
        flow=flow_fig,
        warm_up=warm_up,
        ct2_vs_hf=compare,
        parse_check_render=pcr,
        fanout=fan,
        llm=llm,
        peak_rss_mb_by_phase=memory,
    )
    result["config"]["total_wall_s"] = round(time.perf_counter() - started, 1)
    return result


def summary(result: dict[str, Any]) -> str:
    keys = [
        "raw_lines_per_s",
        "pipeline_lines_per_s",
        "flow_lines_per_s",
        "pipeline_vs_raw",
        "flow_vs_raw",
        "pipeline_vs_raw_cpu",
        "flow_vs_raw_cpu",
        "pipeline_vs_raw_scored",
        "flow_vs_raw_scored",
        "ct2_int8_vs_hf_fp32",
        "parse_check_render_20k_s",
        "check_vs_pysrt",
        "check_vs_pysrt_cpu",
        "check_vs_pysrt_translated",
        "lexical_floor_vs_pysrt_cpu",
        "fanout_start_to_engine_s",
        "llm_windows_vs_raw",
        "llm_tokens_vs_raw",
        "llm_cpu_vs_raw",
        "peak_rss_mb",
    ]
    width = max(map(len, keys))
    return "\n".join(f"{k:<{width}}  {result.get(k)}" for k in keys)


def main(argv: Sequence[str] | None = None) -> int:
    s = parse_args(argv)
    if s.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            print(f"--device {s.device}: no CUDA device is visible to torch {torch.__version__}", file=sys.stderr)
            return 2
    result = run(s)
    s.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = s.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(s.out)
    if s.out.resolve() == (RESULTS / "latest.json").resolve():
        from benchmarks.report import update_readme

        update_readme(result)
    print(summary(result))
    print(f"written: {s.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
