"""The ``transformers`` engine: any seq2seq translation model from the Hub or a local folder.

Fast path, in order: the whole list is tokenised once (one tokenizer call), inputs are sorted by
token length and cut into batches under a token budget (little padding), each batch is one
``generate`` call under ``torch.inference_mode``, and results go back to input order.
Confidence is ``exp(mean log-prob)`` of the output tokens: for greedy decoding a logits processor
records the log-probability of each chosen token as decoding goes (a ``(batch,)`` tensor per step,
instead of ``output_scores``' ``(batch, vocab)`` per step); for beam search it is
``exp(sequences_scores)``, which is the mean token log-probability when ``length_penalty`` is 1.

Inputs longer than the model's position limit are cut at punctuation (then spaces, then between
characters) into pieces that fit; the pieces are translated with the rest of the batch and joined
again, and the line's confidence is the lowest of its pieces'. Nothing is truncated.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from localise.engines import langcodes
from localise.engines.base import (
    Decoding,
    confidence_from_logprob,
    folder_fingerprint,
    joiner_for,
    output_budget,
    split_to_fit,
    token_budget_batches,
)
from localise.errors import ConfigError, EngineError, ModelUnavailableError
from localise.model import Translation

log = logging.getLogger(__name__)

# Defaults for the batch budget: CPUs gain little beyond a few thousand tokens per batch; a GPU
# is fastest with thousands of lines in flight (see benchmarks/).
CPU_BUDGET = (4096, 128)  # (padded source tokens, lines)
GPU_BUDGET = (131072, 4096)


def offline() -> bool:
    """``HF_HUB_OFFLINE`` read at call time (the hub library reads it once, at import)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


#: Seconds :func:`hub_reachable` waits for the Hub before calling it unreachable.
HUB_PROBE_TIMEOUT_S = 3.0
_HUB_REACHABLE: dict[str, bool] = {}


def hub_reachable() -> bool:
    """Whether a TCP connection to the Hub (``HF_ENDPOINT``, default huggingface.co) opens within
    :data:`HUB_PROBE_TIMEOUT_S`; asked once per endpoint and process.

    Why: without a network, ``from_pretrained`` on an uncached Hub id retries for about a minute
    before it fails. One probe (name lookup included, in a thread so a hanging resolver cannot hold
    it) turns that into a refusal within seconds that names the ways out. Behind a proxy
    (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``) a direct connection proves nothing: no probe,
    the hub client decides."""
    import socket
    import threading
    from urllib.parse import urlsplit

    if any(os.environ.get(name) for proxy in ("https_proxy", "http_proxy", "all_proxy")
           for name in (proxy, proxy.upper())):
        return True
    endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    if endpoint not in _HUB_REACHABLE:
        url = urlsplit(endpoint)
        port = url.port or (443 if url.scheme == "https" else 80)
        result: list[bool] = []

        def probe() -> None:
            try:
                socket.create_connection((url.hostname or "", port), timeout=HUB_PROBE_TIMEOUT_S).close()
                result.append(True)
            except OSError:
                result.append(False)

        worker = threading.Thread(target=probe, daemon=True)
        worker.start()
        worker.join(HUB_PROBE_TIMEOUT_S)
        _HUB_REACHABLE[endpoint] = bool(result and result[0])
    return _HUB_REACHABLE[endpoint]


def cached_on_disk(model: str) -> bool:
    """Whether the Hub model's config is in the local Hugging Face cache (loadable offline)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(model, "config.json"), str)
    except (ImportError, ValueError):
        return False


def not_a_transformers_folder(folder: Path) -> tuple[str, str] | None:
    """Why ``folder`` cannot be a transformers model, with the way out, or ``None`` when it may be
    one. Said before transformers tries, whose own words ("Unrecognized model ... Should have a
    `model_type` key") do not tell a user that a CTranslate2 folder needs ``--engine ctranslate2``."""
    import json

    config = folder / "config.json"
    if not config.is_file():
        return ("no config.json in the folder: not a transformers model",
                "Pass a folder saved by transformers (save_pretrained), a Hub id, or `make tiny-model` for a dry run.")
    try:
        fields = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None  # transformers says what is wrong with it
    if isinstance(fields, dict) and "model_type" not in fields and (folder / "model.bin").is_file():
        return ("the folder holds a CTranslate2 model (model.bin)", "Add --engine ctranslate2 to translate with it.")
    return None


def looks_like_path(model: str) -> bool:
    """A folder, as opposed to a Hub id like ``Helsinki-NLP/opus-mt-zh-en``."""
    if model.startswith((".", "/", "~")) or "\\" in model or Path(model).exists():
        return True
    return not re.fullmatch(r"[\w.-]+(/[\w.-]+)?", model)


def choose_device(device: str | None = None) -> str:
    """``cuda`` when a CUDA GPU is visible, else Apple ``mps``, else ``cpu`` (unless one is given)."""
    if device:
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


@dataclass(frozen=True)
class Conventions:
    """How to tell one model family which languages to translate between."""

    prefix: str = ""  # Marian multi-target ">>es<< "
    src_lang: str | None = None  # tokenizer.src_lang (M2M100, NLLB, mBART-50)
    tgt_token: str | None = None  # forced first target token (M2M100, NLLB, mBART-50)


def family_of(tokenizer: Any) -> str:
    """``marian``, ``nllb``, ``m2m100``, ``mbart50`` or ``generic``, from the tokenizer class."""
    name = type(tokenizer).__name__.lower()
    for family in ("marian", "nllb", "m2m100", "mbart50"):
        if family in name:
            return family
    if "mbart" in name and getattr(tokenizer, "src_lang", None):
        return "mbart50"
    return "generic"


def conventions_for(tokenizer: Any, src: str, tgt: str) -> Conventions:
    """The language-code convention of ``tokenizer``'s model family for ``src`` -> ``tgt``."""
    family = family_of(tokenizer)
    if family == "marian":
        token = langcodes.marian_target_token(tgt, getattr(tokenizer, "supported_language_codes", []) or [])
        return Conventions(prefix=f"{token} " if token else "")
    if family == "nllb":
        return Conventions(src_lang=langcodes.nllb_code(src), tgt_token=langcodes.nllb_code(tgt))
    if family == "m2m100":
        tgt_code = langcodes.m2m100_code(tgt)
        return Conventions(src_lang=langcodes.m2m100_code(src), tgt_token=tokenizer.get_lang_token(tgt_code))
    if family == "mbart50":
        return Conventions(src_lang=langcodes.mbart50_code(src), tgt_token=langcodes.mbart50_code(tgt))
    return Conventions()


def encode(tokenizer: Any, texts: Sequence[str], conv: Conventions) -> list[list[int]]:
    """Token ids of all ``texts`` in one tokenizer call (special tokens included, no padding)."""
    if conv.src_lang is not None:
        tokenizer.src_lang = conv.src_lang
    prepared = [conv.prefix + t for t in texts] if conv.prefix else list(texts)
    if not prepared:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(tokenizer(prepared, add_special_tokens=True, truncation=False, verbose=False)["input_ids"])


def work_items(
    tokenizer: Any, texts: Sequence[str], conv: Conventions, limit: int, model_id: str
) -> tuple[list[int], list[list[int]]]:
    """(owner position, token ids) per piece to translate: one per text, several for a text
    longer than ``limit`` tokens (cut at punctuation), none for empty texts. One tokenizer call
    for all texts; only over-long texts are tokenised again, piece by piece."""
    ids = encode(tokenizer, texts, conv)
    owners: list[int] = []
    items: list[list[int]] = []
    for i, (text, tokens) in enumerate(zip(texts, ids)):
        if not text.strip():
            continue
        if len(tokens) <= limit:
            owners.append(i)
            items.append(tokens)
            continue
        pieces = split_to_fit(text, lambda s: len(encode(tokenizer, [s], conv)[0]) <= limit)
        for piece_ids in encode(tokenizer, pieces, conv):
            if len(piece_ids) > limit:
                raise EngineError(f"input {i + 1} cannot be cut to fit {model_id}'s {limit}-token input limit")
            owners.append(i)
            items.append(piece_ids)
    return owners, items


def regroup(count: int, owners: Sequence[int], outputs: Sequence[tuple[str, float]], tgt: str) -> list[Translation]:
    """One Translation per input: pieces of a split input joined (space or not, by script), the
    lowest piece confidence kept; empty inputs give empty output with confidence 1."""
    pieces: list[list[tuple[str, float]]] = [[] for _ in range(count)]
    for owner, out in zip(owners, outputs):
        pieces[owner].append(out)
    joiner = joiner_for(tgt)
    return [
        Translation(joiner.join(p[0] for p in parts), min(p[1] for p in parts)) if parts else Translation("", 1.0)
        for parts in pieces
    ]


def _step_recorder() -> Any:
    """A logits processor that keeps, per decoding step, the log-probability of the best token
    (the token greedy decoding then picks): exact and O(batch) memory per step."""
    import torch
    from transformers import LogitsProcessor

    class StepLogProbs(LogitsProcessor):
        def __init__(self) -> None:
            self.steps: list[torch.Tensor] = []

        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
            best = torch.log_softmax(scores.float(), dim=-1).amax(dim=-1)
            # A step where every token is masked (min length meeting a forced </s>) has no
            # choice to score: count it as certain rather than let NaN spoil the mean.
            self.steps.append(torch.nan_to_num(best, nan=0.0))
            return scores

    return StepLogProbs()


class HFEngine:
    """A transformers seq2seq model loaded once; ``translate`` is thread-safe (one call at a time)."""

    name = "transformers"

    def __init__(
        self,
        model: str,
        *,
        device: str | None = None,
        dtype: str | None = None,
        revision: str | None = None,
        threads: int | None = None,
        pad_multiple: int | None = None,
        **decoding: Any,
    ) -> None:
        self.model_id = str(model)
        self.decoding = Decoding(**decoding)
        self.device = choose_device(device)
        self._lock = threading.Lock()
        self._load(revision, dtype, threads)
        on_gpu = self.device != "cpu"
        budget = GPU_BUDGET if on_gpu else CPU_BUDGET
        self.decoding = replace(
            self.decoding,
            max_tokens=self.decoding.max_tokens or budget[0],
            max_batch_size=self.decoding.max_batch_size or budget[1],
        )
        # Padding lengths to a multiple of 8 on a GPU keeps the set of shapes small (fewer
        # kernel autotune/warm-up passes) and suits tensor cores.
        self.pad_multiple = pad_multiple or (8 if on_gpu else 1)

    # ------------------------------------------------------------------ loading
    def _load(self, revision: str | None, dtype: str | None, threads: int | None) -> None:
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        model = self.model_id
        local = looks_like_path(model)
        if local and not Path(model).expanduser().is_dir():
            raise ModelUnavailableError(model, "no such model folder")
        if local:
            wrong_kind = not_a_transformers_folder(Path(model).expanduser())
            if wrong_kind is not None:
                raise ModelUnavailableError(model, *wrong_kind)
        if not local and not offline() and not cached_on_disk(model) and not hub_reachable():
            raise ModelUnavailableError(model, "the Hugging Face Hub cannot be reached and it is not in the local cache")
        kwargs: dict[str, Any] = {"local_files_only": offline() or local}
        if revision:
            kwargs["revision"] = revision
        if dtype is not None and not isinstance(getattr(torch, dtype, None), torch.dtype):
            raise ConfigError(f"unknown dtype {dtype!r} for {model}; use float32, float16 or bfloat16")
        torch_dtype = getattr(torch, dtype) if dtype else (torch.float16 if self.device in ("cuda", "mps") else torch.float32)
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Recommended: pip install sacremoses")
                self.tokenizer = AutoTokenizer.from_pretrained(str(Path(model).expanduser()) if local else model, **kwargs)
            self.model = AutoModelForSeq2SeqLM.from_pretrained(
                str(Path(model).expanduser()) if local else model, dtype=torch_dtype, **kwargs
            )
        except (OSError, ValueError, EnvironmentError) as exc:
            why = "HF_HUB_OFFLINE is set and it is not in the local cache" if offline() and not local else str(exc).splitlines()[0]
            raise ModelUnavailableError(model, why) from exc
        try:
            self.model.to(self.device).eval()
        except (RuntimeError, AssertionError) as exc:  # e.g. device="cuda" on a machine without one
            raise EngineError(f"cannot put {model} on device {self.device!r}: {exc}") from exc
        # Intra-op threads for generate. Tiny models (tests, demos) run fastest on one thread: their
        # matrices are too small to split, and on a busy machine OpenMP workers spinning for cores
        # made a 32-wide model 20x slower. Larger models keep torch's default unless told.
        small = sum(p.numel() for p in self.model.parameters()) < 5_000_000
        self.threads = threads or (1 if small and self.device == "cpu" else None)
        self.dtype = str(torch_dtype).replace("torch.", "")
        self.family = family_of(self.tokenizer)
        config = self.model.config
        limits = [getattr(config, "max_position_embeddings", None) or 1024]
        if 0 < getattr(self.tokenizer, "model_max_length", 0) < 100_000:
            limits.append(self.tokenizer.model_max_length)
        self.max_input_tokens = int(min(limits))
        self.revision = getattr(config, "_commit_hash", None) or (
            folder_fingerprint(Path(model).expanduser(), ["config.json", "generation_config.json", "model.safetensors", "pytorch_model.bin"])
            if local
            else "unknown"
        )
        # Decide the output length here, not through the checkpoint's max_length default.
        self.model_cap = getattr(self.model.generation_config, "max_new_tokens", None)
        self.model.generation_config.max_length = None  # type: ignore[assignment]
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else config.pad_token_id
        self.eos_id = self.model.generation_config.eos_token_id
        if isinstance(self.eos_id, list):
            self.eos_id = self.eos_id[0]

    def signature(self) -> str:
        return (
            f"engine=transformers|model={self.model_id}|revision={self.revision}|device={self.device}"
            f"|dtype={self.dtype}|{self.decoding.describe()}"
        )

    # ------------------------------------------------------------------ translating
    def translate(self, texts: Sequence[str], src: str, tgt: str) -> list[Translation]:
        texts = list(texts)
        with self._lock:
            conv = conventions_for(self.tokenizer, src, tgt)
            owners, items = work_items(self.tokenizer, texts, conv, self.max_input_tokens, self.model_id)
            outputs = self._generate_all(items, conv)
        return regroup(len(texts), owners, outputs, tgt)

    def _generate_all(self, items: list[list[int]], conv: Conventions) -> list[tuple[str, float]]:
        """Text and confidence per item, in item order; batches by length under the token budget."""
        import torch

        beams = max(1, self.decoding.num_beams)
        budget = max(1, (self.decoding.max_tokens or CPU_BUDGET[0]) // beams)
        batches = token_budget_batches([len(x) for x in items], budget, self.decoding.max_batch_size or CPU_BUDGET[1])
        forced = self.tokenizer.convert_tokens_to_ids(conv.tgt_token) if conv.tgt_token else None
        results: list[tuple[str, float]] = [("", 0.0)] * len(items)
        previous = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            with torch.inference_mode():
                for batch in batches:
                    rows = [items[i] for i in batch]
                    for i, out in zip(batch, self._generate(rows, forced)):
                        results[i] = out
        finally:
            if self.threads:
                torch.set_num_threads(previous)
        return results

    def _generate(self, rows: list[list[int]], forced_bos: int | None) -> list[tuple[str, float]]:
        import torch

        width = max(len(r) for r in rows)
        width = -(-width // self.pad_multiple) * self.pad_multiple
        input_ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((len(rows), width), dtype=torch.long)
        for n, row in enumerate(rows):
            input_ids[n, : len(row)] = torch.tensor(row, dtype=torch.long)
            attention[n, : len(row)] = 1
        input_ids = input_ids.to(self.device)
        attention = attention.to(self.device)
        decoding = self.decoding
        kwargs: dict[str, Any] = dict(
            input_ids=input_ids,
            attention_mask=attention,
            num_beams=decoding.num_beams,
            do_sample=False,
            max_new_tokens=output_budget(max(len(r) for r in rows), decoding, self.max_input_tokens, self.model_cap),
            return_dict_in_generate=True,
        )
        if decoding.min_new_tokens:
            kwargs["min_new_tokens"] = decoding.min_new_tokens
        if forced_bos is not None:
            kwargs["forced_bos_token_id"] = forced_bos
        recorder = None
        if decoding.num_beams > 1:
            kwargs.update(output_scores=True, length_penalty=decoding.length_penalty)
        else:
            recorder = _step_recorder()
            kwargs["logits_processor"] = [recorder]
        out = self.model.generate(**kwargs)
        sequences = out.sequences
        visible = sequences
        if forced_bos is not None:  # some saved tokenizers forget that language tokens are special
            visible = sequences.masked_fill(sequences == forced_bos, self.pad_id)
        texts = self.tokenizer.batch_decode(visible.cpu().tolist(), skip_special_tokens=True)
        if recorder is not None:
            confidences = self._greedy_confidences(sequences, recorder.steps, skip_first=forced_bos is not None)
        else:
            confidences = [confidence_from_logprob(s) for s in out.sequences_scores.float().cpu().tolist()]
        return [(t.strip(), c) for t, c in zip(texts, confidences)]

    def _greedy_confidences(self, sequences: Any, steps: list[Any], skip_first: bool) -> list[float]:
        """Mean log-prob over each row's generated tokens up to and including its first EOS."""
        import torch

        if not steps:
            return [1.0] * sequences.shape[0]
        logprobs = torch.stack(steps, dim=1)  # (batch, steps)
        generated = sequences[:, -logprobs.shape[1] :]
        is_eos = (generated == self.eos_id).long()
        before_eos = (torch.cumsum(is_eos, dim=1) - is_eos) == 0  # up to and including the first EOS
        if skip_first:  # the forced language token is not the model's choice
            before_eos[:, 0] = False
        counts = before_eos.sum(dim=1).clamp(min=1)
        means = (logprobs * before_eos).sum(dim=1) / counts
        return [confidence_from_logprob(m) for m in means.cpu().tolist()]
