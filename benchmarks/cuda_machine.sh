#!/usr/bin/env bash
# `make bench BENCH_ARGS="--device cuda"` on a CUDA machine that has Python, torch and transformers
# but no network: how benchmarks/results/latest-cuda.json is made (see benchmarks/README.md).
#
# Run from the repository root. What the machine lacks travels with the checkout:
#   .whl/   wheels of the project's other runtime packages for that machine's Python (pip download
#           --no-deps --only-binary=:all: --python-version 3.12 ... -r <names==versions of our lock>)
#   .debs/  Debian packages for the spelling check: libenchant-2-2, libhunspell-1.7-0,
#           hunspell-en-us, hunspell-en-gb (and libglib2.0-0, used only where the machine lacks it)
# Results go to $OUT (default benchmarks/results): latest-cuda.json and bench.log.
set -uo pipefail
OUT=${OUT:-benchmarks/results}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH
fi
if [ -d .debs ] && ! ldconfig -p | grep -q 'libenchant-2.so.2 '; then
  # new files only (no package here replaces one the machine has); glib beside, not over, the system's
  for f in .debs/libenchant-2-2_*.deb .debs/libhunspell-*.deb .debs/hunspell-*.deb; do dpkg -x "$f" /; done
  if ! ldconfig -p | grep -q 'libglib-2.0.so.0 '; then
    dpkg -x .debs/libglib2.0-0_*.deb /tmp/glib
    export LD_LIBRARY_PATH=/tmp/glib/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  fi
  ldconfig
fi

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv,noheader
python3 - <<'EOF'
import torch, transformers
print("torch", torch.__version__, "transformers", transformers.__version__, torch.cuda.get_device_name(0))
from localise.quality.surface import dictionary_tags
print("spelling dictionaries for en:", dictionary_tags("en") or "none (the spelling check will not run)")
EOF

# make's venv step would install from the network: point it at an empty, up-to-date stand-in
mkdir -p /tmp/bench-venv && touch /tmp/bench-venv/.installed
timeout "${BENCH_TIMEOUT_S:-540}" make bench VENV=/tmp/bench-venv PY=python3 \
  BENCH_ARGS="--device cuda --out $OUT/latest-cuda.json ${BENCH_EXTRA_ARGS:-}" 2>&1 | tee "$OUT/bench.log"
