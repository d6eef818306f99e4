"""An offline chat model with random weights, for testing the LLM engine against a real server.

The Hugging Face Hub cannot be reached from tests or CI, yet the ``openai`` engine must talk to a
real OpenAI-compatible server (llama.cpp's ``llama-server``). So we train a byte-level BPE
tokenizer on lines written here, build a ``LlamaForCausalLM`` (hidden 64, 2 layers) with random
weights, ``save_pretrained`` both, and convert the folder to GGUF with llama.cpp's own
``convert_hf_to_gguf.py`` (from the llama-cpp-python sdist; see ``tests/llm/build_llama_server.sh``).

Its words are noise. With schema-constrained decoding (``response_format`` json_schema) the server
still returns valid JSON of the requested shape, which is what the engine's positive path needs;
without it, the output is garbage, which is what validation, re-asking and fallback need.

The converter refuses tokenizers whose pre-tokenizer hash it does not know (a home-made vocabulary
never matches): we train with GPT-2's byte-level pre-tokenizer and tell the converter so.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from localise.devtools.tiny_model import sample_lines

SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


def build_tiny_llama(out_dir: str | Path, *, vocab_size: int = 1024, seed: int = 1234) -> Path:
    """A ``LlamaForCausalLM`` (hidden 64, 2 layers, 4 heads) and its byte-level BPE tokenizer in ``out_dir``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _zh, en = sample_lines(300, seed)
    extra = ['{"1": "Hello.", "2": "Where are you going?"}', "Translate into English. Reply with JSON."]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIALS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    # Merges from English only: Chinese stays in single-byte tokens, so the random model rarely
    # writes Han characters by chance (a Han character in an English answer fails validation).
    tokenizer.train_from_iterator(en + extra, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<|endoftext|>", eos_token="<|im_end|>",
                                   unk_token="<|endoftext|>", pad_token="<|endoftext|>")
    # ChatML, which llama-server also picks for this model without Jinja (--no-jinja)
    fast.chat_template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    fast.save_pretrained(out)
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=tokenizer.get_vocab_size(), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                         max_position_embeddings=8192, bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                         pad_token_id=fast.pad_token_id, tie_word_embeddings=False)
    LlamaForCausalLM(config).save_pretrained(out, safe_serialization=True)
    return out


_CONVERT = """
import sys
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[1] + "/gguf-py")
import convert_hf_to_gguf
from conversion import base
base.TextModel.get_vocab_base_pre = lambda self, tokenizer: "gpt-2"  # byte-level, GPT-2 regex (see module doc)
sys.argv = ["convert_hf_to_gguf.py", sys.argv[2], "--outfile", sys.argv[3], "--outtype", "f32"]
convert_hf_to_gguf.main()
"""


def convert_to_gguf(hf_dir: str | Path, gguf_path: str | Path, convert_dir: str | Path) -> Path:
    """``hf_dir`` converted with ``convert_dir/convert_hf_to_gguf.py`` (llama.cpp's converter)."""
    out = Path(gguf_path)
    done = subprocess.run([sys.executable, "-c", _CONVERT, str(convert_dir), str(hf_dir), str(out)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"GGUF conversion failed ({done.returncode}): {done.stderr[-2000:]}")
    return out


def main() -> None:
    """``python -m localise.devtools.tiny_llm OUT_DIR CONVERT_DIR`` -> OUT_DIR/tiny-llama.gguf."""
    out, convert_dir = Path(sys.argv[1]), sys.argv[2]
    hf = build_tiny_llama(out / "hf")
    print(json.dumps({"gguf": str(convert_to_gguf(hf, out / "tiny-llama.gguf", convert_dir))}))


if __name__ == "__main__":
    main()
