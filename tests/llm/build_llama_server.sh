#!/usr/bin/env bash
# Build llama.cpp's C++ `llama-server` (and keep its GGUF converter) from the llama.cpp source vendored
# in the llama-cpp-python sdist on PyPI, cached per machine: the LLM engine's integration tests talk to a
# real OpenAI-compatible server, and PyPI is the one source of llama.cpp reachable from CI.
# Usage: tests/llm/build_llama_server.sh   -> prints the cache folder (bin/llama-server, convert/...)
#        tests/llm/build_llama_server.sh --cached-only   -> the same where it is built already, else exit 3
#        (what `make bench` uses: it measures the LLM engine only where the server costs no build)
set -euo pipefail
VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
CACHE="${LOCALISE_TEST_CACHE:-$HOME/.cache/localise-test}/llama-cpp-$VERSION"
PY="${PYTHON:-python3}"
if [ -x "$CACHE/bin/llama-server" ] && [ -f "$CACHE/convert/convert_hf_to_gguf.py" ]; then
  echo "$CACHE"; exit 0
fi
if [ "${1:-}" = "--cached-only" ]; then
  echo "llama-server is not built in $CACHE (tests/llm/build_llama_server.sh builds it, ~6 min on 2 cores)" >&2
  exit 3
fi
mkdir -p "$CACHE"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$PY" -m pip download -q --no-deps --no-binary :all: -d "$work" "llama-cpp-python==$VERSION" >&2
tar -xzf "$work"/llama_cpp_python-"$VERSION".tar.gz -C "$work"
src="$work/llama_cpp_python-$VERSION/vendor/llama.cpp"
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=ON \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DGGML_NATIVE=OFF -DBUILD_SHARED_LIBS=OFF >&2
cmake --build "$work/build" --target llama-server -j "${JOBS:-$(nproc)}" >&2
rm -rf "$CACHE/convert" && mkdir -p "$CACHE/bin" "$CACHE/convert"
cp -r "$src/convert_hf_to_gguf.py" "$src/gguf-py" "$CACHE/convert/"
[ -d "$src/conversion" ] && cp -r "$src/conversion" "$CACHE/convert/" || true
cp "$work/build/bin/llama-server" "$CACHE/bin/llama-server.tmp"
mv "$CACHE/bin/llama-server.tmp" "$CACHE/bin/llama-server"
echo "$CACHE"
