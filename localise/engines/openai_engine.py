"""The ``openai`` engine: any OpenAI-compatible chat-completions endpoint (vLLM, SGLang, llama.cpp's
server, Ollama, LM Studio, a cloud API) translating scene windows with context.

Why an LLM and why windows: see ``llm_prompt``. This module does the requests, with the official
``openai`` client (async; its own retries honour 429 ``Retry-After``; per-request timeouts):

* bounded concurrency (``concurrency`` requests in flight);
* structured output: ``response_format`` json_schema keyed by unit id where the server supports it
  (``structured="json_schema"``), lenient parsing always;
* validation of every answer, then re-asking only the failing ids (``reasks`` times); ids still
  unusable come back as ``None`` and the pipeline translates them with the NMT engine
  (``engine-fallback`` flag);
* a request cache on disk keyed by endpoint, model, messages and parameters (an identical rerun
  costs nothing; after a crash the finished windows are read back and only the rest is asked);
* token usage and an optional price table (per million tokens) per episode;
* confidence from token log-probabilities where the server returns them, else ``None``.

The API key comes from settings or the environment and is never logged, cached or reported.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from localise.engines.base import confidence_from_logprob
from localise.engines.llm_prompt import (
    Doc,
    DocUnit,
    Prompt,
    bible_for,
    build_prompt,
    parse_answer,
    read_summary,
    summary_prompt,
    validate,
    windows,
)
from localise.errors import ConfigError
from localise.model import Translation

CACHE_VERSION = 1


@dataclass(frozen=True)
class LLMConfig:
    """Everything the engine needs; plain data (pickles into flows). ``api_key`` never appears in
    ``repr``, ``describe`` or cache keys."""

    base_url: str | None = None
    model: str | None = None
    api_key: Any = field(default=None, repr=False, compare=False)  # str or pydantic SecretStr
    window: int = 40
    context: int = 10
    concurrency: int = 4
    timeout_s: float = 120.0
    max_retries: int = 2  # the client's own retries (connection errors, 408/409/429/5xx)
    reasks: int = 2  # re-asks for the failing ids of a window
    structured: str = "json_schema"  # or "none": prompt-only JSON, parsed leniently
    logprobs: bool = True
    temperature: float = 0.0
    prices: dict[str, float] | None = None  # {"prompt": per million tokens, "completion": per million}
    cache_dir: str | None = None  # default: $LOCALISE_CACHE_DIR, else ~/.cache/localise
    cache: bool = True
    cache_url: str | None = None  # a store every process and machine reaches (folder or s3://): shared answers
    summary: bool = False  # a running summary of the earlier episodes in each later episode's prompts
    summary_chars: int = 600  # its bound (characters)

    def describe(self) -> dict[str, Any]:
        """What decides the words (for signatures and reports): no key, no speed settings."""
        out = {"base_url": self.base_url, "model": self.model, "window": self.window, "context": self.context,
               "reasks": self.reasks, "structured": self.structured, "temperature": self.temperature}
        if self.summary:  # only where on: the description (and what it signs) is unchanged otherwise
            out["summary_chars"] = self.summary_chars
        return out


def cache_dir(config: LLMConfig) -> Path:
    """The request cache folder: ``cache_dir``, else ``$LOCALISE_CACHE_DIR``, else the user cache."""
    if config.cache_dir:
        return Path(config.cache_dir)
    env = os.environ.get("LOCALISE_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "localise"


class RequestCache:
    """Answers by request key in one SQLite file (safe across processes; one row per request,
    written as each request finishes, so a crash keeps what was done). One connection per
    instance, used under a lock (opening one per request cost more than the lookup)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, body TEXT NOT NULL, created REAL)")

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
        return self._db

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock, self._connect() as db:
            row = db.execute("SELECT body FROM answers WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, body: dict[str, Any]) -> None:
        with self._lock, self._connect() as db:
            db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?)", (key, json.dumps(body), time.time()))


class SharedRequestCache:
    """The request cache in a :class:`localise.storage.Store` (a folder or an ``s3://`` prefix, the
    setting ``cache_url`` the flows' finished work lives beside), under ``llm-requests/KEY.json``,
    with the local SQLite file in front: a request any process or machine has answered is read
    from the store, kept locally, and never sent again. Answers are JSON (never unpickled). A store
    that cannot be read or written is a miss, logged, never a failed window."""

    PREFIX = "llm-requests"

    def __init__(self, store: Any, local: RequestCache | None) -> None:
        self.store = store
        self.local = local
        self.hits = 0  # answers read from the store (not the local file)

    def _name(self, key: str) -> str:
        return f"{self.PREFIX}/{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        import logging

        if self.local is not None:
            found = self.local.get(key)
            if found is not None:
                return found
        try:
            body = json.loads(self.store.read(self._name(key)))
        except FileNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001 - storage down or a foreign file: a miss, asked again
            logging.getLogger(__name__).warning("%s: LLM answer not read (%s); asking the server",
                                                self.store.location(self._name(key)), exc)
            return None
        if not isinstance(body, dict) or not isinstance(body.get("content"), str):
            return None
        self.hits += 1
        if self.local is not None:
            self.local.put(key, body)
        return body

    def put(self, key: str, body: dict[str, Any]) -> None:
        import logging

        if self.local is not None:
            self.local.put(key, body)
        try:
            self.store.write(self._name(key), json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json")
        except Exception as exc:  # noqa: BLE001 - the answer is had; only its reuse elsewhere is lost
            logging.getLogger(__name__).warning("%s: LLM answer not shared (%s)", self.store.location(self._name(key)),
                                                exc)


@dataclass
class Usage:
    """Requests and tokens of one episode (or a whole run, summed). ``cost`` only with a price table."""

    requests: int = 0  # sent to the server
    cached: int = 0  # answered from the request cache (cost nothing)
    failed: int = 0  # no answer after the client's retries (timeouts, connection errors, HTTP errors)
    windows: int = 0
    prompt_tokens: int = 0  # tokens sent to the server in this run
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0  # tokens of the answers read from the cache (what they cost when asked)
    cached_completion_tokens: int = 0
    reasked: int = 0  # ids asked again
    extra_ids: int = 0  # ids in answers that were not asked for (ignored)
    fallback: int = 0  # units left to the NMT engine
    summaries: int = 0  # running-summary requests (answered or cached) made from this episode
    seconds: float = 0.0  # time in requests (not wall time: requests overlap)

    def add(self, other: Usage) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def to_dict(self, prices: dict[str, float] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["seconds"] = round(self.seconds, 3)
        out["cost"] = cost(self, prices)
        return out


def cost(usage: Usage, prices: dict[str, float] | None) -> float | None:
    """Price of the tokens actually sent (cached answers are free), or ``None`` without a price table."""
    if not prices:
        return None
    return round(usage.prompt_tokens * float(prices.get("prompt", 0)) / 1e6
                 + usage.completion_tokens * float(prices.get("completion", 0)) / 1e6, 6)


@dataclass
class DocResult:
    """Per unit of a Doc: a translation, or ``None`` (context only, or nothing usable: fall back)."""

    translations: list[Translation | None]
    usage: Usage
    problems: dict[str, str] = field(default_factory=dict)  # unit key -> why the model's answer was refused
    summary_in: str = ""  # the running summary this episode's prompts carried (``summary`` setting)
    summary: str = ""  # the running summary after this episode, for the next one


class OpenAIEngine:
    """Translation through an OpenAI-compatible endpoint; see the module doc."""

    name = "openai"

    def __init__(self, config: LLMConfig) -> None:
        if not config.base_url:
            raise ConfigError("the openai engine needs llm_base_url (e.g. http://127.0.0.1:8000/v1; "
                              "environment: LOCALISE_LLM_BASE_URL) and llm_model (LOCALISE_LLM_MODEL)")
        if not config.model:
            raise ConfigError("the openai engine needs llm_model, the model name the server serves "
                              "(environment: LOCALISE_LLM_MODEL)")
        if config.structured not in ("json_schema", "none"):
            raise ConfigError(f"llm_structured must be 'json_schema' or 'none', not {config.structured!r}")
        self.config = config
        self.model_id = config.model
        self._cache: RequestCache | SharedRequestCache | None = None
        if config.cache:
            self._cache = RequestCache(cache_dir(config) / "llm-requests.sqlite")
            if config.cache_url:
                from localise.storage import open_store

                self._cache = SharedRequestCache(open_store(config.cache_url), self._cache)

    def signature(self) -> str:
        c = self.config
        return (f"openai:{c.model}@{c.base_url} window={c.window} context={c.context} structured={c.structured}"
                + (f" summary={c.summary_chars}" if c.summary else ""))

    # -------------------------------------------------------------------------------- public calls

    def translate(self, texts: Sequence[str], src: str, tgt: str) -> list[Translation]:
        """The plain engine contract (one list of lines, in order, as one episode); a line the model
        could not answer comes back empty with no confidence — callers wanting the NMT fallback
        use :meth:`translate_docs`."""
        doc = Doc("texts", tuple(DocUnit(str(n + 1), t, translate=bool(t.strip())) for n, t in enumerate(texts)))
        result = self.translate_docs([doc], src, tgt)[0]
        return [t if t is not None else Translation("", None, "mt") for t in result.translations]

    def translate_docs(self, docs: Sequence[Doc], src: str, tgt: str, glossary: Any = None) -> list[DocResult]:
        """Every Doc's units to translate, in windows with context, concurrently."""
        coro = self._run(list(docs), src, tgt, glossary)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(coro)
        # Called from inside an event loop (an async caller): run ours on a thread of its own.
        box: list[Any] = []
        thread = threading.Thread(target=lambda: box.append(asyncio.run(coro)))
        thread.start()
        thread.join()
        return box[0]

    # -------------------------------------------------------------------------------- internals

    async def _run(self, docs: list[Doc], src: str, tgt: str, glossary: Any) -> list[DocResult]:
        from openai import AsyncOpenAI

        c = self.config
        results = [DocResult([None] * len(d.units), Usage()) for d in docs]
        client = AsyncOpenAI(base_url=c.base_url, api_key=_api_key(c), max_retries=c.max_retries,
                             timeout=c.timeout_s, http_client=_http_client())
        gate = asyncio.Semaphore(max(1, c.concurrency))
        try:
            if c.summary and len(docs) > 1:
                # Episode after episode (in the order given): each one's windows carry the summary of
                # the ones before; windows within an episode still run concurrently.
                summary = ""
                for d, doc in enumerate(docs):
                    results[d].summary_in = summary
                    await asyncio.gather(*(self._window(client, gate, doc, w, src, tgt, glossary, results[d], summary)
                                           for w in windows([doc], c.window, c.context)))
                    if d + 1 < len(docs):
                        summary = await self._summarise(client, gate, results[d], summary, tgt)
            else:
                await asyncio.gather(*(self._window(client, gate, docs[w.doc], w, src, tgt, glossary, results[w.doc])
                                       for w in windows(docs, c.window, c.context)))
        finally:
            await client.close()
        for result in results:
            result.usage.fallback = len(result.problems)
        return results

    async def _summarise(self, client: Any, gate: asyncio.Semaphore, result: DocResult, previous: str,
                         tgt: str) -> str:
        """The story so far after ``result``'s episode: one bounded request (cached like any other)
        from the previous summary and the episode's usable translations; the previous summary
        where the model gives nothing usable."""
        lines = [t.text for t in result.translations if t is not None and t.text.strip()]
        if not lines:
            result.summary = previous
            return previous
        prompt = summary_prompt(previous, lines, tgt, max(1, self.config.summary_chars))
        async with gate:
            answer = await self._ask(client, prompt, result.usage)
        result.usage.summaries += 1
        text = read_summary(answer["content"], max(1, self.config.summary_chars)) if answer else ""
        result.summary = text or previous
        return result.summary

    async def _window(self, client: Any, gate: asyncio.Semaphore, doc: Doc, window: Any, src: str, tgt: str,
                      glossary: Any, result: DocResult, summary: str = "") -> None:
        """One window: ask, validate, re-ask the failing ids, leave what stays unusable to the fallback."""
        around = [doc.units[n].source for n in window.before + window.targets + window.after]
        bible = bible_for(glossary, around, tgt)
        pending = list(window.targets)
        problems: dict[str, str] | None = None
        result.usage.windows += 1
        for attempt in range(1 + max(0, self.config.reasks)):
            prompt = build_prompt(doc, window, src, tgt, bible, only=pending, problems=problems, summary=summary)
            if attempt:
                result.usage.reasked += len(pending)
            async with gate:
                answer = await self._ask(client, prompt, result.usage)
            if answer is None:  # no answer at all after the client's retries: re-asking the same won't help
                problems = {doc.units[n].key: "no answer from the server" for n in pending}
                break
            parsed = parse_answer(answer["content"])
            by_key = {doc.units[n].key: n for n in pending}
            good, problems, extra = validate(parsed, prompt.keys, {k: doc.units[n].source for k, n in by_key.items()},
                                             src, tgt)
            result.usage.extra_ids += len(extra)
            confidences = _confidences(answer, parsed.spans)
            for key, text in good.items():
                result.translations[by_key[key]] = Translation(text, confidences.get(key), "mt")
            pending = [by_key[k] for k in problems]
            if not pending:
                return
        for key, why in (problems or {}).items():
            result.problems[key] = why

    def _request(self, prompt: Prompt) -> dict[str, Any]:
        c = self.config
        request: dict[str, Any] = {"model": c.model, "messages": prompt.messages, "temperature": c.temperature,
                                   "max_tokens": prompt.max_tokens}
        if c.structured == "json_schema":
            request["response_format"] = {"type": "json_schema", "json_schema": {
                "name": prompt.name, "strict": True, "schema": prompt.schema}}
        if c.logprobs:
            request["logprobs"] = True
        return request

    def _key(self, request: dict[str, Any]) -> str:
        blob = json.dumps({"v": CACHE_VERSION, "endpoint": self.config.base_url, **request},
                          sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    async def _ask(self, client: Any, prompt: Prompt, usage: Usage) -> dict[str, Any] | None:
        """The answer (content, token log-probs, usage) from the cache or the server; ``None`` when
        the server gave none (after the client's retries and timeouts)."""
        import openai

        request = self._request(prompt)
        key = self._key(request)
        if self._cache is not None:
            cached = await asyncio.to_thread(self._cache.get, key)
            if cached is not None:
                usage.cached += 1
                usage.cached_prompt_tokens += int((cached.get("usage") or {}).get("prompt_tokens") or 0)
                usage.cached_completion_tokens += int((cached.get("usage") or {}).get("completion_tokens") or 0)
                return cached
        started = time.perf_counter()
        usage.requests += 1
        try:
            response = await client.chat.completions.create(**request)
        except (openai.APIError, openai.APIConnectionError, openai.APITimeoutError) as exc:
            usage.failed += 1
            usage.seconds += time.perf_counter() - started
            _log_failure(exc, self.config.base_url)
            return None
        usage.seconds += time.perf_counter() - started
        choice = response.choices[0] if response.choices else None
        answer = {"content": (choice.message.content if choice and choice.message else None) or "",
                  "finish_reason": getattr(choice, "finish_reason", None),
                  "logprobs": _token_logprobs(choice)}
        if response.usage is not None:
            answer["usage"] = {"prompt_tokens": response.usage.prompt_tokens or 0,
                               "completion_tokens": response.usage.completion_tokens or 0}
            usage.prompt_tokens += response.usage.prompt_tokens or 0
            usage.completion_tokens += response.usage.completion_tokens or 0
        if self._cache is not None:
            await asyncio.to_thread(self._cache.put, key, answer)
        return answer


@lru_cache(maxsize=1)
def _ssl_context() -> Any:
    """httpx's default TLS context (certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``), made once per
    process: loading the CA bundle cost 50-140 ms per engine call, a fifth of a short call."""
    import httpx

    return httpx.create_ssl_context()


def _http_client() -> Any:
    """The client's own default HTTP client (its timeouts, connection limits, redirects), with the
    TLS context made once. A new one per call: an httpx client belongs to one event loop."""
    from openai import DefaultAsyncHttpxClient

    return DefaultAsyncHttpxClient(verify=_ssl_context())


def _api_key(config: LLMConfig) -> str:
    """The key from settings, else $LOCALISE_LLM_API_KEY or $OPENAI_API_KEY; local servers need none."""
    key = config.api_key
    if key is not None and hasattr(key, "get_secret_value"):
        key = key.get_secret_value()
    return key or os.environ.get("LOCALISE_LLM_API_KEY") or os.environ.get("OPENAI_API_KEY") or "none"


def _log_failure(exc: Exception, base_url: str) -> None:
    """Say which server failed and how. The exception's own text (status, message) never holds the
    key: the client keeps it in a header, which is not part of the message."""
    import logging

    status = getattr(exc, "status_code", None)
    detail = f"HTTP {status}" if status else (str(exc).splitlines()[0][:200] if str(exc) else "")
    logging.getLogger(__name__).warning("LLM request to %s failed: %s%s", base_url, type(exc).__name__,
                                        f" ({detail})" if detail else "")


def _token_logprobs(choice: Any) -> list[tuple[int, float]] | None:
    """(UTF-8 byte length, log-prob) per output token, where the server returned them."""
    content = getattr(getattr(choice, "logprobs", None), "content", None)
    if not content:
        return None
    out = []
    for item in content:
        raw = item.bytes if getattr(item, "bytes", None) is not None else list(item.token.encode("utf-8"))
        out.append((len(raw), float(item.logprob)))
    return out


def _confidences(answer: dict[str, Any], spans: dict[str, tuple[int, int]]) -> dict[str, float]:
    """Per answered key, ``exp`` of the mean log-prob of the tokens that wrote its value; nothing
    where the server gave no log-probs or the tokens do not add up to the content."""
    tokens = answer.get("logprobs")
    content = answer.get("content") or ""
    if not tokens:
        return {}
    data = content.encode("utf-8")
    if sum(n for n, _ in tokens) != len(data):
        return {}
    starts, pos = [], 0
    for n, _ in tokens:
        starts.append(pos)
        pos += n
    out: dict[str, float] = {}
    for key, (a, b) in spans.items():
        lo, hi = len(content[:a].encode("utf-8")), len(content[:b].encode("utf-8"))
        # tokens overlapping bytes [lo, hi): from the one holding byte lo to the last starting before hi
        # (bisect: a 40-line window's answer has thousands of tokens; a scan per key cost O(keys x tokens))
        first, last = max(0, bisect.bisect_right(starts, lo) - 1), bisect.bisect_left(starts, hi)
        picked = [lp for (n, lp), s in zip(tokens[first:last], starts[first:last])
                  if s < hi and s + n > lo and math.isfinite(lp)]
        if picked:
            out[key] = confidence_from_logprob(sum(picked) / len(picked))
    return out
