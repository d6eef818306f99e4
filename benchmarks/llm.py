"""The LLM engine's overhead against its server: windows and tokens per second through
``OpenAIEngine`` versus the same requests sent straight to the server with the official client at
the same concurrency. The ratio (engine / raw; goal >= 0.9) is what the engine's own work costs
(windowing, prompts, parsing, validation, the request cache's writes).

    python -m benchmarks.llm --base-url http://127.0.0.1:8000/v1 --model NAME [--windows 24 --concurrency 4]
    python -m benchmarks.llm --llama-server          # builds/starts the tests' tiny llama-server (CPU)

The request cache is off for both runs (a cached answer would cost nothing and prove nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from localise.engines.llm_prompt import Doc, DocUnit, bible_for, build_prompt, windows
from localise.engines.openai_engine import LLMConfig, OpenAIEngine

LINES = ["李伟，你回来了。", "我一直在等你。", "少爷，车已经准备好了。", "我们走吧。", "他不会原谅你的。", "明天见。",
         "你到底想怎么样？", "这件事和你没关系。"]


def _docs(n_windows: int, window: int) -> list[Doc]:
    units = tuple(DocUnit(str(i + 1), LINES[i % len(LINES)], 24, 1.5) for i in range(n_windows * window))
    return [Doc("bench", units)]


async def _raw(config: LLMConfig, docs: list[Doc], src: str, tgt: str) -> tuple[float, int, int]:
    """The same prompts straight to the server: seconds, requests, completion tokens."""
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

    started = time.perf_counter()
    await asyncio.gather(*(one(p) for p in prompts))
    seconds = time.perf_counter() - started
    await client.close()
    return seconds, len(prompts), tokens


def measure(config: LLMConfig, n_windows: int, src: str = "zh", tgt: str = "en") -> dict[str, Any]:
    docs = _docs(n_windows, config.window)
    asyncio.run(_raw(config, docs, src, tgt))  # warm-up: the server's own prompt cache serves both runs alike
    raw_s, requests, raw_tokens = asyncio.run(_raw(config, docs, src, tgt))
    started = time.perf_counter()
    [result] = OpenAIEngine(config).translate_docs(docs, src, tgt)
    engine_s = time.perf_counter() - started
    usage = result.usage
    return {
        "windows": n_windows, "window": config.window, "concurrency": config.concurrency,
        "raw": {"seconds": round(raw_s, 3), "windows_per_s": round(requests / raw_s, 3),
                "completion_tokens_per_s": round(raw_tokens / raw_s, 1)},
        "engine": {"seconds": round(engine_s, 3), "windows_per_s": round(usage.windows / engine_s, 3),
                   "requests": usage.requests, "reasked": usage.reasked,
                   "completion_tokens_per_s": round(usage.completion_tokens / engine_s, 1)},
        # per request: re-asks are extra requests the raw run does not make
        "ratio_requests_per_s": round((usage.requests / engine_s) / (requests / raw_s), 3),
        "ratio_tokens_per_s": round((usage.completion_tokens / engine_s) / (raw_tokens / raw_s), 3) if raw_tokens else None,
    }


def _start_tiny_server(work: Path) -> tuple[subprocess.Popen, str]:
    """The tests' llama-server (built once per machine) serving the tiny random Llama."""
    from localise.devtools.tiny_llm import build_tiny_llama, convert_to_gguf
    from tests.integration.processes import free_port

    repo = Path(__file__).resolve().parent.parent
    built = subprocess.run([str(repo / "tests" / "llm" / "build_llama_server.sh")], capture_output=True, text=True,
                           check=True, env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin:/usr/local/bin",
                                            "HOME": str(Path.home())})
    cache = Path(built.stdout.strip().splitlines()[-1])
    gguf = convert_to_gguf(build_tiny_llama(work / "hf"), work / "tiny.gguf", cache / "convert")
    port = free_port()
    proc = subprocess.Popen([str(cache / "bin" / "llama-server"), "-m", str(gguf), "--host", "127.0.0.1", "--port",
                             str(port), "--no-jinja", "-c", "16384", "-np", "4", "--alias", "tiny-llama"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import urllib.request

    for _ in range(600):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                break
        except OSError:
            time.sleep(0.2)
    return proc, f"http://127.0.0.1:{port}/v1"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.llm", description=__doc__.splitlines()[0])
    p.add_argument("--base-url")
    p.add_argument("--model", default="tiny-llama")
    p.add_argument("--llama-server", action="store_true", help="start the tests' tiny llama-server")
    p.add_argument("--windows", type=int, default=12)
    p.add_argument("--window", type=int, default=8)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--out", default=None, help="write the figures as JSON here")
    a = p.parse_args(argv)
    proc, work = None, Path(tempfile.mkdtemp(prefix="bench-llm-"))
    try:
        base_url = a.base_url
        if a.llama_server:
            proc, base_url = _start_tiny_server(work)
        if not base_url:
            p.error("--base-url or --llama-server")
        config = LLMConfig(base_url=base_url, model=a.model, window=a.window, context=4, concurrency=a.concurrency,
                           cache=False, reasks=1, timeout_s=600)
        figures = measure(config, a.windows)
        text = json.dumps(figures, indent=2)
        print(text)
        if a.out:
            Path(a.out).write_text(text + "\n", encoding="utf-8")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
