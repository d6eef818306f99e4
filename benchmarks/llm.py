"""The LLM engine's overhead against its server: windows and tokens per second through
``OpenAIEngine`` versus the same requests sent straight to the server with the official client at
the same concurrency. The ratio (engine / raw; goal >= 0.9) is what the engine's own work costs
(windowing, prompts, parsing, validation, the request cache's writes).

    python -m benchmarks.llm --base-url http://127.0.0.1:8000/v1 --model NAME [--windows 24 --concurrency 4]
    python -m benchmarks.llm --llama-server          # builds/starts the tests' tiny llama-server (CPU)

The engine runs as it is used, its request cache on, but in a fresh folder each pass: every answer
is written (that cost is counted) and none is read back (a cached answer would cost nothing and prove
nothing). Re-asks are off so that both sides send exactly the same requests.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from localise.engines.llm_prompt import Doc, DocUnit, bible_for, build_prompt, windows
from localise.engines.openai_engine import LLMConfig, OpenAIEngine

REPO = Path(__file__).resolve().parent.parent
LINES = ["李伟，你回来了。", "我一直在等你。", "少爷，车已经准备好了。", "我们走吧。", "他不会原谅你的。", "明天见。",
         "你到底想怎么样？", "这件事和你没关系。"]


def _docs(n_windows: int, window: int) -> list[Doc]:
    units = tuple(DocUnit(str(i + 1), LINES[i % len(LINES)], 24, 1.5) for i in range(n_windows * window))
    return [Doc("bench", units)]


async def _raw(config: LLMConfig, docs: list[Doc], src: str, tgt: str) -> tuple[float, float, int, int]:
    """The same prompts straight to the server: seconds, CPU seconds of this process, requests,
    completion tokens (the prompts and the client are made before the clock starts)."""
    from openai import AsyncOpenAI

    engine = OpenAIEngine(config)
    prompts = [build_prompt(docs[w.doc], w, src, tgt, bible_for(None, [], tgt))
               for w in windows(docs, config.window, config.context)]
    client = AsyncOpenAI(base_url=config.base_url, api_key="none", max_retries=config.max_retries,
                         timeout=config.timeout_s)
    gate = asyncio.Semaphore(config.concurrency)
    tokens = 0

    async def one(prompt: Any) -> None:
        nonlocal tokens
        async with gate:
            response = await client.chat.completions.create(**engine._request(prompt))
        tokens += response.usage.completion_tokens if response.usage else 0

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(p) for p in prompts))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    await client.close()
    return seconds, cpu, len(prompts), tokens


def _paired_median(raw: list[float], engine: list[float]) -> float | None:
    pairs = [a / b for a, b in zip(raw, engine) if a and b]
    return round(statistics.median(pairs), 3) if pairs else None


def measure(config: LLMConfig, n_windows: int, src: str = "zh", tgt: str = "en", repeats: int = 1) -> dict[str, Any]:
    """Interleaved passes of the same requests, raw and engine, taking turns at going first;
    ratios are the median of the per-pass ratios (a shared machine's drift slows both sides of a
    pair alike). The engine's clock covers all it does per call: making the engine (its cache
    file), the client, prompts, requests, parsing, validation, cache writes. CPU seconds of this
    process are reported beside wall time: the client side's own work, which neighbours on a
    shared machine disturb much less than wall time.

    Same requests on both sides: one per window (the engine's re-asks are off here; a re-ask is an
    extra request the raw side would not make, so it would measure the model's failures, not the
    engine's overhead), the same prompts, schema, ``max_tokens`` and concurrency."""
    config = dataclasses.replace(config, reasks=0, cache=False)
    cache_root = Path(tempfile.mkdtemp(prefix="bench-llm-cache-"))
    docs = _docs(n_windows, config.window)
    asyncio.run(_raw(config, docs, src, tgt))  # warm-up: the server's own prompt cache serves both runs alike
    raw_s: list[float] = []
    engine_s: list[float] = []
    raw_cpu: list[float] = []
    engine_cpu: list[float] = []
    raw_tokens = engine_tokens = requests = 0
    usage = None

    def engine_pass(n: int) -> None:
        nonlocal usage, engine_tokens
        started, cpu = time.perf_counter(), time.process_time()
        engine = OpenAIEngine(dataclasses.replace(config, cache=True, cache_dir=str(cache_root / f"pass{n}")))
        [result] = engine.translate_docs(docs, src, tgt)
        engine_s.append(time.perf_counter() - started)
        engine_cpu.append(time.process_time() - cpu)
        usage = result.usage
        engine_tokens = usage.completion_tokens

    for n in range(max(1, repeats)):
        if n % 2:
            engine_pass(n)
        seconds, cpu, requests, raw_tokens = asyncio.run(_raw(config, docs, src, tgt))
        raw_s.append(seconds)
        raw_cpu.append(cpu)
        if not n % 2:
            engine_pass(n)
    shutil.rmtree(cache_root, ignore_errors=True)
    assert usage is not None and usage.cached == 0
    raw_best, engine_best = min(raw_s), min(engine_s)
    return {
        "windows": n_windows, "window": config.window, "concurrency": config.concurrency, "repeats": len(raw_s),
        "raw": {"seconds": round(raw_best, 3), "windows_per_s": round(requests / raw_best, 3),
                "completion_tokens": raw_tokens, "completion_tokens_per_s": round(raw_tokens / raw_best, 1),
                "passes_s": [round(x, 3) for x in raw_s], "passes_cpu_s": [round(x, 3) for x in raw_cpu]},
        "engine": {"seconds": round(engine_best, 3), "windows_per_s": round(usage.windows / engine_best, 3),
                   "requests": usage.requests, "failed": usage.failed, "units_refused": usage.fallback,
                   "completion_tokens": engine_tokens,
                   "completion_tokens_per_s": round(engine_tokens / engine_best, 1),
                   "passes_s": [round(x, 3) for x in engine_s], "passes_cpu_s": [round(x, 3) for x in engine_cpu]},
        # client-side CPU seconds, raw / engine (1.0: the engine costs its process no more than a bare client)
        "ratio_cpu": _paired_median(raw_cpu, engine_cpu),
        # the same requests on both sides, so windows/s and tokens/s ratios are ratios of times,
        # unless the model wrote other tokens (it is greedy: it should not)
        "ratio_windows_per_s": _paired_median(raw_s, engine_s),
        "ratio_tokens_per_s": (_paired_median(raw_s, engine_s) if engine_tokens == raw_tokens else
                               round((engine_tokens / engine_best) / (raw_tokens / raw_best), 3) if raw_tokens else None),
    }


def llama_server_dir(build: bool = False) -> tuple[Path | None, str]:
    """The tests' cached llama.cpp build, or ``None`` and why not. Builds it only when ``build``
    (about 6 minutes on 2 cores: ``make bench`` does not pay that unasked)."""
    if build and (shutil.which("cmake") is None or shutil.which("c++") is None):
        return None, "cmake and a C++ compiler are needed to build llama-server"
    args = [str(REPO / "tests" / "llm" / "build_llama_server.sh")] + ([] if build else ["--cached-only"])
    done = subprocess.run(args, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHON": sys.executable})
    if done.returncode != 0:
        why = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        return None, why
    return Path(done.stdout.strip().splitlines()[-1]), ""


def _start_tiny_server(work: Path, cache: Path, parallel: int) -> tuple[subprocess.Popen, str]:
    """The tests' llama-server serving the tiny random Llama (built offline here). One thread:
    llama.cpp's worker threads spin at a barrier per layer, so on a busy shared machine (a CPU
    neighbour holding a core) a pass with two threads took 3 s or 37 s for the same requests."""
    import urllib.request

    from localise.devtools.tiny_llm import build_tiny_llama, convert_to_gguf
    from tests.integration.processes import free_port

    gguf = convert_to_gguf(build_tiny_llama(work / "hf"), work / "tiny.gguf", cache / "convert")
    port = free_port()
    log = (work / "server.log").open("wb")
    proc = subprocess.Popen([str(cache / "bin" / "llama-server"), "-m", str(gguf), "--host", "127.0.0.1", "--port",
                             str(port), "--no-jinja", "-c", "16384", "-np", str(parallel), "-t", "1", "--alias", "tiny-llama"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama-server exited ({proc.returncode}): {(work / 'server.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return proc, f"http://127.0.0.1:{port}/v1"
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("llama-server did not become healthy in 120 s")


def section(quick: bool = False, repeats: int = 3, base_url: str | None = None, model: str = "tiny-llama",
            build: bool = False, windows_n: int | None = None, window: int | None = None,
            concurrency: int | None = None) -> dict[str, Any]:
    """The ``llm`` section of ``python -m benchmarks.run``: figures, or ``{"skipped": why}`` where
    there is no server to measure (no ``base_url`` and no cached llama-server build)."""
    windows_n = windows_n or (4 if quick else 12)
    window = window or (4 if quick else 8)
    concurrency = concurrency or (2 if quick else 4)
    proc, work = None, Path(tempfile.mkdtemp(prefix="bench-llm-"))
    server = "given"
    try:
        if not base_url:
            cache, why = llama_server_dir(build)
            if cache is None:
                return {"skipped": why}
            proc, base_url = _start_tiny_server(work, cache, concurrency)
            server = "tests' llama-server (llama.cpp, CPU) with a tiny random Llama"
        config = LLMConfig(base_url=base_url, model=model, window=window, context=4, concurrency=concurrency,
                           cache=False, reasks=0, timeout_s=600)
        figures = measure(config, windows_n, repeats=1 if quick else repeats)
        return {"server": server, "model": model, **figures}
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.llm", description=__doc__.splitlines()[0])
    p.add_argument("--base-url")
    p.add_argument("--model", default="tiny-llama")
    p.add_argument("--llama-server", action="store_true", help="start the tests' tiny llama-server (built if missing)")
    p.add_argument("--windows", type=int, default=12)
    p.add_argument("--window", type=int, default=8)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default=None, help="write the figures as JSON here")
    a = p.parse_args(argv)
    if not a.base_url and not a.llama_server:
        p.error("--base-url or --llama-server")
    figures = section(repeats=a.repeats, base_url=a.base_url, model=a.model, build=a.llama_server,
                      windows_n=a.windows, window=a.window, concurrency=a.concurrency)
    text = json.dumps(figures, indent=2)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
